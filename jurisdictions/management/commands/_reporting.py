"""Shared by the import commands: print a service's report, or its findings and a CommandError."""

from django.core.management.base import BaseCommand, CommandError

from jurisdictions.services import BoundaryImportError


def run_reported(command: BaseCommand, call):
    """Run `call()` (an import service); print its report; on BoundaryImportError print findings and fail."""
    try:
        report = call()
    except BoundaryImportError as exc:
        if exc.report is not None:
            command.stderr.write(exc.report.summary())
        raise CommandError(str(exc)) from exc
    style = command.style.WARNING if report.errors else command.style.SUCCESS
    command.stdout.write(style(report.summary()))
    return report
