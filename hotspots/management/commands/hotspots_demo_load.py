from django.core.management import call_command
from django.core.management.base import BaseCommand

from hotspots import services
from hotspots.models import AnalysisRun


class Command(BaseCommand):
    help = "载入热点演示数据 Load the synthetic hotspots demo (parcels, parks, population) and compute every layer."

    def add_arguments(self, parser):
        parser.add_argument("--no-compute", action="store_true", help="load the source data only")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when analysis runs already exist")

    def handle(self, *args, no_compute, if_empty, **options):
        if if_empty and AnalysisRun.objects.exists():
            self.stdout.write("已有分析结果，跳过 analysis runs exist; hotspots demo not loaded")
            return
        counts = services.demo_data_load(progress=lambda m: self.stdout.write(f"  {m}"))
        self.stdout.write(self.style.SUCCESS(f"演示数据 demo data: {counts}"))
        if not no_compute:
            call_command("hotspots_compute", "--source", "synthetic", stdout=self.stdout, stderr=self.stderr)
