from django.core.management.base import BaseCommand, CommandError

from complaints.desk_demo import desk_demo_load
from jurisdictions.models import Area, Building


class Command(BaseCommand):
    help = (
        "载入工作台演示 Load the desk demo: the seed's case in progress (a return to review, a dispute waiting for "
        "丰台区, a joint case to check in, overdue and due-today complaints); skipped when it is there already."
    )

    def handle(self, *args, **options):
        if not Area.objects.exists() or not Building.objects.filter(code="SYN-B-0001").exists():
            raise CommandError("没有边界或建筑数据，请先运行 demo_load no boundaries or buildings: run demo_load first")
        loaded = desk_demo_load(progress=lambda message: self.stdout.write(f"  {message}"))
        if loaded:
            self.stdout.write(self.style.SUCCESS("工作台演示已载入 desk demo loaded (docs/desk.md)"))
        else:
            self.stdout.write("工作台演示已存在，跳过 desk demo exists; skipped")
