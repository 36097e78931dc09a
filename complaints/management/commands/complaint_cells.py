"""Bring the map's hexagon counts up to date (fold the change log), or recount them from the complaints."""

import time

from django.core.management.base import BaseCommand

from complaints import cells


class Command(BaseCommand):
    help = "折叠地图格网计数 fold the map's hexagon counts; --rebuild recounts every complaint"

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recount from the complaints table")

    def handle(self, *args, **options):
        started = time.perf_counter()
        if options["rebuild"]:
            count = cells.cells_rebuild()
            message = f"重新计数 recounted {count:,} complaints"
        else:
            count = cells.cells_fold()
            message = f"折叠 folded {count:,} changes"
        self.stdout.write(f"{message} in {time.perf_counter() - started:.1f} s")
