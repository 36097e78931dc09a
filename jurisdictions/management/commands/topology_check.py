import json

from django.core.management.base import BaseCommand, CommandError

from jurisdictions.models import Generation
from jurisdictions.selectors import topology_check
from jurisdictions.topology import findings_geojson


class Command(BaseCommand):
    help = "拓扑检查 Check a generation for gaps, overlaps, slivers and children outside parents."

    def add_arguments(self, parser):
        parser.add_argument("--generation", help="name (default: the one in force today)")
        parser.add_argument("--tolerance-m2", type=float, default=1.0)
        parser.add_argument("--geojson", help="also write the findings as a GeoJSON FeatureCollection here")

    def handle(self, *args, generation, tolerance_m2, geojson, **options):
        target = Generation.objects.filter(name=generation).first() if generation else Generation.objects.in_force()
        if target is None:
            raise CommandError("没有边界版本 no such generation")
        findings = topology_check(generation=target, tolerance_m2=tolerance_m2)
        for finding in findings:
            self.stdout.write(f"{finding.kind}: {finding.message} [{finding.area_m2 or 0:.1f} m²]")
        if geojson:
            with open(geojson, "w", encoding="utf-8") as f:
                json.dump(findings_geojson(findings), f, ensure_ascii=False)
        self.stdout.write(f"{target.name}: {len(findings)} finding(s)")
