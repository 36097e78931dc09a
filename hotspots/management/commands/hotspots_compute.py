import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from hotspots import services
from hotspots.constants import Layer, RepeatRule, Source
from hotspots.demo import DEMO_START, DEMO_WEEKS

LAYERS = ["repeat_places", "hotspots", "emerging", "idle_lots"]


class Command(BaseCommand):
    help = "重新计算热点图层 Recompute hotspots layers (repeat places, Gi*, emerging, idle lot ranking) as new runs."

    def add_arguments(self, parser):
        parser.add_argument("archive", nargs="?", help="--engine dask: a GeoParquet archive folder (complaints_export)")
        parser.add_argument("--layer", choices=[*LAYERS, "all"], default="all")
        parser.add_argument("--source", choices=Source.values, default=Source.COMPLAINTS)
        parser.add_argument("--start", type=dt.date.fromisoformat, help="period start YYYY-MM-DD (default: demo)")
        parser.add_argument("--weeks", type=int, default=DEMO_WEEKS, help="weeks in the period / emerging cube")
        parser.add_argument("--category", default="", help="category code prefix (empty: all)")
        parser.add_argument("--resolution", default="9", help="H3 resolution for Gi*, or 'auto'")
        parser.add_argument("--band-m", type=float, default=None, help="distance band (m); default: derived")
        parser.add_argument("--per-residents", action="store_true", help="Gi* on complaints per 1,000 residents")
        parser.add_argument("--repeat-method", choices=["h3", "dbscan"], default="h3")
        parser.add_argument(
            "--engine",
            choices=["memory", "dask"],
            default="memory",
            help="dask: count the emerging cube (cell × week) over ARCHIVE on a Dask cluster",
        )
        parser.add_argument("--scheduler", default="local", help="--engine dask: local or tcp://HOST:8786")
        parser.add_argument("--workers", type=int, help="--engine dask: local worker processes (default: one per core)")

    def handle(
        self, *args, layer, source, start, weeks, category, resolution, band_m, per_residents, repeat_method, **options
    ):
        start = start or DEMO_START
        end = start + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
        layers = LAYERS if layer == "all" else [layer]
        if options["engine"] == "dask":
            return self.emerging_on_dask(
                start=start, weeks=weeks, layer=layer, category=category, band_m=band_m, **options
            )

        def progress(message: str) -> None:
            self.stdout.write(f"  {message}")

        try:
            history_start = dt.date(end.year - 4, 1, 1)
            self.stdout.write(f"读取诉求 loading complaints ({source}) …")
            frame = services.complaints_load(source=source, start=history_start, end=end, category=category or None)
            self.stdout.write(f"  {len(frame)} complaints {history_start} – {end}")
            local = frame["received_at"].dt.tz_convert("Asia/Shanghai").dt.date
            period = frame[(local >= start) & (local <= end)]
            for name in layers:
                self.stdout.write(f"计算 computing {name} …")
                if name == Layer.REPEAT_PLACES:
                    rule = RepeatRule(window_days=(end - start).days + 1, method=repeat_method)
                    run = services.repeat_places_compute(
                        frame=period, period_end=end, rule=rule, category=category, source=source, progress=progress
                    )
                elif name == Layer.HOTSPOTS:
                    run = services.hotspots_compute(
                        frame=period,
                        period_start=start,
                        period_end=end,
                        resolution=resolution if resolution == "auto" else int(resolution),
                        band_m=band_m,
                        per_residents=per_residents,
                        category=category,
                        source=source,
                        progress=progress,
                    )
                elif name == Layer.EMERGING:
                    run = services.emerging_compute(
                        frame=period,
                        start=start,
                        n_steps=weeks,
                        category=category,
                        source=source,
                        band_m=band_m,
                        progress=progress,
                    )
                else:
                    run = services.idle_lots_compute(frame=frame, period_end=end, source=source, progress=progress)
                total = sum(run.timings.values())
                self.stdout.write(self.style.SUCCESS(f"  run {run.pk}: {run.summary} ({total:.1f} s)"))
        except services.HotspotsError as exc:
            raise CommandError(exc.message) from exc

    def emerging_on_dask(self, *, start, weeks, layer, category, band_m, archive, scheduler, workers, **options):
        """The emerging layer from an archive: the cube counted by a Dask groupby, then the same analysis."""
        from archive.cluster import dask_client
        from archive.layout import ArchiveError
        from hotspots.cube import archive_cube

        if not archive:
            raise CommandError("--engine dask 需要档案 needs an ARCHIVE folder")
        if layer not in ("all", Layer.EMERGING):
            raise CommandError("--engine dask 只计算 computes only --layer emerging")
        self.stdout.write(f"Dask: 时空立方体 counting the cube over {archive} ({scheduler}) …")
        try:
            with dask_client(scheduler, workers=workers) as client:
                counts = archive_cube(
                    archive, start=start, n_steps=weeks, category=category, client=client, progress=True
                )
            self.stdout.write(f"\n  {int(counts['count'].sum())} complaints in {len(counts)} cell-weeks")
            run = services.emerging_compute(
                counts=counts,
                start=start,
                n_steps=weeks,
                category=category,
                source=Source.COMPLAINTS,
                band_m=band_m,
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        except services.HotspotsError as exc:
            raise CommandError(exc.message) from exc
        total = sum(run.timings.values())
        self.stdout.write(self.style.SUCCESS(f"  run {run.pk}: {run.summary} ({total:.1f} s)"))
