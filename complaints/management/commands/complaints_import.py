from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from complaints.bulk import DEFAULT_BATCH, BulkImportError, complaints_import, error_report_rows
from complaints.permissions import SystemPrincipal


class Command(BaseCommand):
    help = (
        "批量导入诉求 Import complaints from a CSV, GeoJSON, GeoPackage or GeoParquet file, or a GeoParquet archive "
        "folder (complaints_export), idempotent on external_id."
    )

    def add_arguments(self, parser):
        parser.add_argument("source")
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=["csv", "geojson", "gpkg", "geoparquet"],
            help="default: by suffix (a folder: geoparquet)",
        )
        parser.add_argument("--crs", default="wgs84", help="wgs84 | gcj02 | bd09 | cgcs2000 (rows may override)")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
        parser.add_argument("--errors", help="write the row-numbered error report to this CSV file")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, source, fmt, crs, batch_size, errors, no_progress, **options):
        bar = tqdm(unit=" rows", unit_scale=True, disable=no_progress, file=self.stderr._out, desc="导入 importing")
        try:
            record = complaints_import(
                source=source,
                file_format_name=fmt,
                crs=crs,
                batch_size=batch_size,
                progress=bar.update,
                by=SystemPrincipal("manage.py complaints_import"),
            )
        except BulkImportError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(self.style.SUCCESS(f"导入 import {record.pk}: {record.summary()}"))
        if record.rows_bad:
            if errors:
                import csv

                with open(errors, "w", newline="", encoding="utf-8") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(["row", "external_id", "errors"])
                    writer.writerows(error_report_rows(record))
                self.stdout.write(f"错误报告 error report: {errors}")
            else:
                for row, external_id, message in error_report_rows(record):
                    self.stdout.write(f"第 {row} 行 row {row} [{external_id}]: {message}")
