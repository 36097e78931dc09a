"""A Dask client for archive work: a local cluster sized to the machine, or a running scheduler.

Workers are plain `dask worker` processes with this project installed (the same package versions) and
`DJANGO_SETTINGS_MODULE` set; they need read access to the archive and write access to the output folder, and no
database: the jurisdiction engine's state reaches them through `EnginePlugin`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

LOCAL = "local"


def django_ready(settings_module: str | None = None) -> None:
    """Set Django up in a worker process (once); a process that already runs Django is left as it is."""
    from django.apps import apps

    # Django's logging configuration sends INFO to the console; a worker's own INFO lines are noise there.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if apps.ready:
        return
    if settings_module:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


@contextlib.contextmanager
def dask_client(
    scheduler: str = LOCAL, *, workers: int | None = None, processes: bool = True, memory_limit: str = "auto"
) -> Iterator:
    """A `distributed.Client`: on a new LocalCluster (`scheduler="local"`: `workers` processes of one thread each,
    by default one per core, the machine's memory shared out between them), or on the scheduler at an address
    (`tcp://host:8786`; `workers`, when given, is how many workers to wait for). Closed on exit."""
    from distributed import Client, LocalCluster

    # The project logs INFO to the console; Dask's own INFO lines (every worker and connection) would drown the
    # progress bar and the report.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler == LOCAL:
        n = workers or os.cpu_count() or 1
        with (
            LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=processes,
                memory_limit=memory_limit,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    with Client(scheduler) as client:
        if workers:
            client.wait_for_workers(workers)
        yield client
