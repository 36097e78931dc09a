from django.core.management.base import BaseCommand

from jurisdictions.services import buildings_import

from ._reporting import run_reported


class Command(BaseCommand):
    help = (
        "导入建筑轮廓 Import building footprints from any OGR source; computes their shares in every generation. "
        "Dry run with a report unless --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("source")
        parser.add_argument("--code-field", default="code")
        parser.add_argument("--name-field", default="name")
        parser.add_argument("--address-field", default="address")
        parser.add_argument("--crs", help="wgs84, gcj02, bd09, cgcs2000 or EPSG:xxxx (default: the file's)")
        parser.add_argument("--layer")
        parser.add_argument("--synthetic", action="store_true", help="mark footprints as synthetic demo data")
        parser.add_argument("--commit", action="store_true", help="write (default: dry run with a report)")

    def handle(self, *args, source, commit, **options):
        run_reported(
            self,
            lambda: buildings_import(
                source=source,
                code_field=options["code_field"],
                name_field=options["name_field"],
                address_field=options["address_field"],
                crs=options["crs"],
                layer=options["layer"],
                synthetic=options["synthetic"],
                commit=commit,
            ),
        )
