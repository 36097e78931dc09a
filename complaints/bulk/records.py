"""The import's record: heartbeat, imports whose process is gone, row errors and their report."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
from collections.abc import Iterator

import pandas as pd
from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from ..constants import ImportState
from ..models import BulkImport, BulkRowError
from .reading import BulkImportError
from .validation import Batch

# --- imports whose process is gone ------------------------------------------------------------------------------

HOST = socket.gethostname()[:255]


def _stale_seconds() -> float:
    return float(settings.SHAOZI.get("BULK_IMPORT_STALE_SECONDS", 120))


@contextlib.contextmanager
def _heartbeat(bulk_import_id: int):
    """Keep `heartbeat_at` of a running import fresh from a thread while the import runs (a batch may take longer
    than the stale limit), so only an import whose process is gone goes stale."""
    stop = threading.Event()
    every = max(1.0, _stale_seconds() / 4)

    def beat() -> None:
        try:
            while not stop.wait(every):
                BulkImport.objects.filter(pk=bulk_import_id, state=ImportState.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        except DatabaseError:
            pass  # the batches beat too; a missed beat only matters after the stale limit
        finally:
            connections.close_all()  # this thread's connection only

    thread = threading.Thread(target=beat, name="bulk-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def imports_reap(*, now: dt.datetime | None = None) -> int:
    """Mark failed every `running` import whose process is gone: on this host a process id that no longer runs,
    anywhere a heartbeat older than SHAOZI["BULK_IMPORT_STALE_SECONDS"] (a crashed host, a reused process id).
    Their committed batches stay; re-running the same file completes them (external ids make it idempotent).
    Returns how many were marked. Called when an import starts and when an import is read through the API."""
    now = now or timezone.now()
    stale_before = now - dt.timedelta(seconds=_stale_seconds())
    gone = []
    for pk, host, pid, heartbeat_at, started_at in BulkImport.objects.filter(state=ImportState.RUNNING).values_list(
        "pk", "host", "pid", "heartbeat_at", "started_at"
    ):
        if host == HOST and pid and pid != os.getpid() and not _process_alive(pid):
            gone.append((pk, "进程已退出 the importing process is gone"))
        elif (heartbeat_at or started_at) < stale_before:
            gone.append((pk, f"超过 {_stale_seconds():g} 秒无心跳 no heartbeat for {_stale_seconds():g} s"))
    for pk, reason in gone:
        BulkImport.objects.filter(pk=pk, state=ImportState.RUNNING).update(
            state=ImportState.FAILED,
            message=f"导入中断 import interrupted: {reason}; 重新导入同一文件即可补全 re-run the file to complete it",
            finished_at=now,
        )
    return len(gone)


def _F(name: str):
    from django.db.models import F

    return F(name)


def _late_bad(batch: Batch) -> int:
    """Rows found bad while writing (refused by the database, outside the user's area): counted as good before."""
    return sum(1 for problems in batch.bad.values() if "database" in problems or "scope" in problems)


def _check_columns(chunk: pd.DataFrame, fmt: str) -> None:
    required = {"external_id", "received_at", "category"} | ({"lon", "lat"} if fmt == "csv" else set())
    missing = sorted(required - set(chunk.columns))
    if missing:
        raise BulkImportError(f"缺少列 missing columns: {', '.join(missing)}")


def _record_errors(record: BulkImport, batch: Batch) -> None:
    BulkRowError.objects.bulk_create(
        [
            BulkRowError(
                bulk_import=record,
                row=row,
                external_id=str(batch.external_ids.get(row, ""))[:64],
                errors=problems,
            )
            for row, problems in sorted(batch.bad.items())
        ],
        batch_size=5000,
    )


def error_report_rows(record: BulkImport) -> Iterator[tuple[int, str, str]]:
    """(row, external_id, "field: message; …") for every bad row of an import, by row number."""
    for error in record.row_errors.order_by("row").iterator(chunk_size=5000):
        yield error.row, error.external_id, "; ".join(f"{k}: {v}" for k, v in error.errors.items())
