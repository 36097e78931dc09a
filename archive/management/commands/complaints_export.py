import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from archive.exporting import DEFAULT_CHUNK, complaints_export
from archive.layout import LOCAL_TZ, ArchiveError
from complaints.permissions import SystemPrincipal


def _day(value: str) -> dt.datetime:
    """A Beijing date → the instant it starts."""
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=ZoneInfo(LOCAL_TZ))


class Command(BaseCommand):
    help = (
        "导出诉求档案 Export complaints to a GeoParquet archive partitioned by month (WGS-84, verdict columns, "
        "category levels), streamed."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", help="a new or empty folder")
        parser.add_argument("--format", dest="fmt", choices=["geoparquet"], default="geoparquet")
        parser.add_argument("--user", help="export only what this user may read (default: everything, as the system)")
        parser.add_argument("--from", dest="received_from", type=_day, help="first Beijing day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="received_to", type=_day, help="day after the last (YYYY-MM-DD)")
        parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK, help="rows per read and per part file")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, out, fmt, user, received_from, received_to, chunk_rows, no_progress, **options):
        by = SystemPrincipal("manage.py complaints_export")
        if user:
            try:
                by = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"没有此用户 no such user: {user}") from None
        if chunk_rows < 1:
            raise CommandError("--chunk-rows 须为正数 must be positive")
        bar = tqdm(unit=" rows", unit_scale=True, disable=no_progress, file=self.stderr._out, desc="导出 exporting")
        try:
            report = complaints_export(
                out=out,
                by=by,
                received_from=received_from,
                received_to=received_to,
                chunk_rows=chunk_rows,
                progress=bar.update,
            )
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(self.style.SUCCESS(f"导出 exported {report.summary()}"))
