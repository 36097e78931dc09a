from django.core.management.base import BaseCommand, CommandError

from assessment.selectors import parse_month
from assessment.services import assessment_compute_all


class Command(BaseCommand):
    help = "计算三率考核 Compute the monthly assessment (响应率、解决率、满意率, score, ranking) and store it."

    def add_arguments(self, parser):
        parser.add_argument("--month", action="append", default=[], help="YYYY-MM (repeatable); default: every month")

    def handle(self, *args, month, **options):
        try:
            months = [parse_month(text) for text in month] or None
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        def progress(record):
            self.stdout.write(f"{record.month:%Y-%m}: {record.complaints} 件诉求 complaints")

        done = assessment_compute_all(months=months, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"已计算 {len(done)} 个月 computed {len(done)} month(s)"))
