from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from complaints.bulk import BulkImportError, complaints_import
from complaints.demo import demo_history_apply
from complaints.models import Complaint
from complaints.permissions import SystemPrincipal
from complaints.services import calendar_load, catalogue_load
from jurisdictions.models import Area

DEMO = Path(settings.BASE_DIR) / "fixtures" / "complaints"


class Command(BaseCommand):
    help = "载入诉求演示数据 Load the complaint catalogue, working-day calendars and the synthetic demo complaints."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="skip the complaints when some already exist")
        parser.add_argument("--reference-only", action="store_true", help="catalogue and calendars only")

    def handle(self, *args, if_empty, reference_only, **options):
        count = catalogue_load(source=DEMO / "catalogue.json")
        self.stdout.write(self.style.SUCCESS(f"诉求分类 catalogue items: {count}"))
        for path in sorted(DEMO.glob("calendar-*.json")):
            days = calendar_load(source=path)
            self.stdout.write(self.style.SUCCESS(f"工作日历 calendar {path.stem}: {days} days"))
        if reference_only:
            return
        if if_empty and Complaint.objects.exists():
            self.stdout.write("已有诉求数据，跳过 complaints exist; demo complaints not loaded")
        else:
            if not Area.objects.exists():
                raise CommandError("没有边界数据，请先运行 demo_load no boundaries: run demo_load first")
            try:
                record = complaints_import(
                    source=DEMO / "complaints-demo.csv", by=SystemPrincipal("manage.py complaints_demo_load")
                )
            except BulkImportError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(f"合成演示诉求 synthetic demo complaints: {record.summary()}"))
        # Also for demo complaints loaded before the file had their history (they still hold only the import row).
        handled = demo_history_apply(source=DEMO / "complaints-demo-history.csv")
        if handled:
            self.stdout.write(self.style.SUCCESS(f"演示办理记录 demo handling history: {handled} complaints"))
