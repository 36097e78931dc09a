from django.core.management import call_command
from django.core.management.base import BaseCommand

from hotspots import services


class Command(BaseCommand):
    help = "载入热点演示数据 Load the synthetic hotspots demo (parcels, parks, population) and compute every layer."

    def add_arguments(self, parser):
        parser.add_argument("--no-compute", action="store_true", help="load the source data only")

    def handle(self, *args, no_compute, **options):
        counts = services.demo_data_load(progress=lambda m: self.stdout.write(f"  {m}"))
        self.stdout.write(self.style.SUCCESS(f"演示数据 demo data: {counts}"))
        if not no_compute:
            call_command("hotspots_compute", "--source", "synthetic", stdout=self.stdout, stderr=self.stderr)
