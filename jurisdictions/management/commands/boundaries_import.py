import datetime as dt

from django.core.management.base import BaseCommand

from jurisdictions.constants import AreaLevel
from jurisdictions.services import FieldMap, boundaries_import

from ._reporting import run_reported


class Command(BaseCommand):
    help = (
        "导入边界 Import areas from any OGR source (GeoJSON, Shapefile, GeoPackage) into a generation. "
        "Validates first and reports; writes only with --commit, in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="path to a GeoJSON / Shapefile / GeoPackage …")
        parser.add_argument("--generation", required=True, help="generation name (created if it does not exist)")
        parser.add_argument("--valid-from", type=dt.date.fromisoformat, help="YYYY-MM-DD for a new generation")
        parser.add_argument("--level", choices=AreaLevel.values, help="level of every feature")
        parser.add_argument("--level-field", help="field holding each feature's level (instead of --level)")
        parser.add_argument("--code-field", default="code")
        parser.add_argument("--name-field", default="name")
        parser.add_argument("--parent-field", default="parent_code", help="field holding the parent's code")
        parser.add_argument("--crs", help="source system: wgs84, gcj02, bd09, cgcs2000 or EPSG:xxxx (default: file)")
        parser.add_argument("--layer", help="layer name in a multi-layer source")
        parser.add_argument("--tolerance-m2", type=float, default=1.0, help="overlaps/gaps below this are ignored")
        parser.add_argument("--synthetic", action="store_true", help="mark the geometry as synthetic demo data")
        parser.add_argument("--commit", action="store_true", help="write (default: dry run with a report)")

    def handle(self, *args, source, commit, **options):
        fields = FieldMap(
            code=options["code_field"],
            name=options["name_field"],
            parent=options["parent_field"] or None,
            level=options["level_field"],
        )
        run_reported(
            self,
            lambda: boundaries_import(
                source=source,
                generation=options["generation"],
                valid_from=options["valid_from"],
                level=options["level"],
                fields=fields,
                crs=options["crs"],
                layer=options["layer"],
                tolerance_m2=options["tolerance_m2"],
                synthetic=options["synthetic"],
                commit=commit,
            ),
        )
