from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from geo.models import Place
from geo.services import GazetteerLoadError, gazetteer_load

DEMO_GAZETTEER = Path(settings.BASE_DIR) / "fixtures" / "beijing" / "gazetteer.geojson"


class Command(BaseCommand):
    help = (
        "载入北京演示地名库 Load the Beijing demo gazetteer (real names, approximate positions, synthetic numbering)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the gazetteer has places")
        parser.add_argument("--source", default=str(DEMO_GAZETTEER), help="GeoJSON file (default: the demo)")
        parser.add_argument("--prune", action="store_true", help="remove places that are not in the file")

    def handle(self, *args, if_empty, source, prune, **options):
        if if_empty and Place.objects.exists():
            self.stdout.write("地名库已有数据，跳过 gazetteer not empty; nothing loaded")
            return
        show = options.get("verbosity", 1) > 0
        with tqdm(total=0, desc="地名 places", disable=not show, file=self.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = gazetteer_load(source=Path(source), prune=prune, progress=progress)
            except GazetteerLoadError as exc:
                for number, message in exc.errors[:50]:
                    self.stderr.write(f"  #{number}: {message}")
                raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(report.summary()))
