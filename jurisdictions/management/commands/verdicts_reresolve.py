from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from jurisdictions.models import Generation, VerdictRecord
from jurisdictions.services import verdicts_reresolve


class Command(BaseCommand):
    help = (
        "按新边界重判 Re-resolve stored verdicts against another generation and report what moves "
        "(counts per street, moved items). Writes new superseding records only with --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("generation", help="generation name to re-resolve against")
        parser.add_argument("--subject-prefix", default="", help="only refs starting with this, e.g. complaint:")
        parser.add_argument("--commit", action="store_true")

    def handle(self, *args, generation, subject_prefix, commit, **options):
        target = Generation.objects.filter(name=generation).first()
        if target is None:
            raise CommandError(f"没有边界版本 no generation named {generation!r}")
        total = VerdictRecord.objects.not_superseded().exclude(generation=target).count()
        with tqdm(total=total, unit="verdict", disable=total < 100, file=self.stderr) as bar:
            report = verdicts_reresolve(
                generation=target, subject_prefix=subject_prefix, commit=commit, progress=bar.update
            )
        self.stdout.write(report.summary())
