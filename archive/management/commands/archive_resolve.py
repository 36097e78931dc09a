import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from archive.cluster import LOCAL, dask_client
from archive.layout import ArchiveError
from archive.resolving import archive_resolve
from jurisdictions.models import Generation


class Command(BaseCommand):
    help = (
        "档案归属重判 Resolve every complaint of a GeoParquet archive against a boundary generation on Dask, and "
        "report per street what moved compared with the archive's stored verdicts."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="a GeoParquet archive folder (complaints_export) or file")
        parser.add_argument("out", help="a new or empty folder for the verdicts and the per-street summary")
        parser.add_argument("--generation", required=True, help="the boundary generation to resolve against")
        parser.add_argument(
            "--at", type=dt.date.fromisoformat, help="apply the rules in force on this day (default: each row's day)"
        )
        parser.add_argument("--scheduler", default=LOCAL, help="local (a LocalCluster here) or tcp://HOST:8786")
        parser.add_argument(
            "--workers", type=int, help="local: worker processes (default: one per core); address: wait for this many"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, archive, out, generation, at, scheduler, workers, no_progress, **options):
        found = Generation.objects.filter(name=generation).first()
        if found is None:
            raise CommandError(f"没有此边界版本 no such generation: {generation}")
        if workers is not None and workers < 1:
            raise CommandError("--workers 须为正数 must be positive")
        self.stdout.write(f"集群 cluster: {scheduler} …")
        try:
            with dask_client(scheduler, workers=workers) as client:
                self.stdout.write(f"  {len(client.scheduler_info()['workers'])} workers")
                report = archive_resolve(
                    archive=archive, generation=found, out=out, client=client, at=at, progress=not no_progress
                )
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(report.summary()))
        self.stdout.write(f"  seconds: {report.seconds}")
        self.stdout.write(f"  moves per street: {report.out / 'moves.csv'}; transfers: {report.out / 'transfers.csv'}")
