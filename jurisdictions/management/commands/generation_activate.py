import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from geo.validation import Finding
from jurisdictions.models import Generation
from jurisdictions.selectors import topology_check
from jurisdictions.services import generation_activate


class Command(BaseCommand):
    help = (
        "启用边界版本 Activate an imported generation from a date after checking its topology; the generation in "
        "force before it ends that day."
    )

    def add_arguments(self, parser):
        parser.add_argument("generation", help="generation name")
        parser.add_argument("--from", dest="valid_from", type=dt.date.fromisoformat, required=True)
        parser.add_argument("--tolerance-m2", type=float, default=1.0)
        parser.add_argument("--force", action="store_true", help="activate even with topology errors")

    def handle(self, *args, generation, valid_from, tolerance_m2, force, **options):
        target = Generation.objects.filter(name=generation).first()
        if target is None:
            raise CommandError(f"没有边界版本 no generation named {generation!r}")
        findings: list[Finding] = topology_check(generation=target, tolerance_m2=tolerance_m2)
        for finding in findings:
            self.stderr.write(f"  {finding.kind}: {finding.message} [{finding.area_m2 or 0:.1f} m²]")
        if findings and not force:
            raise CommandError(f"拓扑检查发现 {len(findings)} 个问题，未启用 topology findings; use --force")
        generation_activate(generation=target, valid_from=valid_from)
        self.stdout.write(self.style.SUCCESS(f"已启用 activated {target.name} from {valid_from}"))
