"""A bulk import killed mid-run (SIGKILL) is not left `running` forever, and a re-run of the file completes it:
the exact count, no duplicates, no complaint without its history, no staging table left behind."""

import csv
import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from complaints import bulk
from complaints.models import BulkImport, Complaint, StatusChange
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area

PREFIX = "CRASH"
SOURCE = "crash.csv"
TOTAL, BATCH = 30_000, 1_000


def street_points(n: int) -> list[tuple[float, float]]:
    """A point inside each of `n` demo streets (WGS-84)."""
    streets = Area.objects.current(dt.date(2025, 6, 1)).filter(level="street").order_by("code")[:n]
    return [(s.geom.point_on_surface.x, s.geom.point_on_surface.y) for s in streets]


def write_file(path) -> None:
    points = street_points(40)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "received_at", "category", "lon", "lat"])
        for i in range(TOTAL):
            lon, lat = points[i % len(points)]
            writer.writerow([f"{PREFIX}{i:06d}", "2025-06-04T09:30:00+08:00", "020101", f"{lon:.7f}", f"{lat:.7f}"])


def import_command(path) -> tuple[list[str], dict]:
    """`manage.py complaints_import` against this run's test database (committed data: no test transaction)."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgis://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    command = [sys.executable, "manage.py", "complaints_import", str(path), "--batch-size", str(BATCH), "--no-progress"]
    return command, env


def cleanup() -> None:
    Complaint.objects.filter(external_id__startswith=PREFIX).delete()
    BulkImport.objects.filter(source_name=SOURCE).delete()


def stage_tables() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname = %s", [bulk.STAGE])
        return cursor.fetchone()[0]


def test_a_killed_import_is_marked_failed_and_a_rerun_completes_it(tmp_path, django_db_setup, django_db_blocker):
    path = tmp_path / SOURCE
    with django_db_blocker.unblock():
        cleanup()
        write_file(path)
        command, env = import_command(path)
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                record = BulkImport.objects.filter(source_name=SOURCE).first()
                if record is not None and record.batches_done >= 3:
                    break
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-3000:]
            killed = BulkImport.objects.get(source_name=SOURCE)
            stored = Complaint.objects.filter(external_id__startswith=PREFIX).count()
            assert 0 < stored < TOTAL, "the import was not stopped midway"
            assert killed.state == "running" and killed.pid == process.pid and killed.heartbeat_at is not None

            rerun = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, timeout=120)
            assert rerun.returncode == 0, rerun.stderr.decode()[-3000:]

            killed.refresh_from_db()
            assert killed.state == "failed" and killed.finished_at is not None
            assert "interrupted" in killed.message
            final = BulkImport.objects.filter(source_name=SOURCE).exclude(pk=killed.pk).get()
            assert final.state == "finished"
            assert (final.rows_read, final.rows_created, final.rows_existing, final.rows_bad) == (
                TOTAL,
                TOTAL - stored,
                stored,
                0,
            )
            complaints = Complaint.objects.filter(external_id__startswith=PREFIX)
            assert complaints.count() == TOTAL
            assert complaints.values("external_id").distinct().count() == TOTAL
            # Every complaint came with its first history row, from one import or the other: nothing half-written.
            history = StatusChange.objects.filter(complaint__external_id__startswith=PREFIX)
            assert history.count() == TOTAL and history.values("complaint").distinct().count() == TOTAL
            assert set(complaints.values_list("bulk_import_id", flat=True)) == {killed.pk, final.pk}
            # The killed session's staging table went with its transaction.
            deadline = time.monotonic() + 10
            while stage_tables() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert stage_tables() == 0
        finally:
            if process.poll() is None:
                process.kill()
            cleanup()


@pytest.mark.django_db
def test_stale_heartbeats_and_gone_processes_are_reaped_when_imports_are_read():
    now = timezone.now()
    common = dict(source_name="reap.csv", file_format="csv", batch_size=10, by="api_client")
    elsewhere_stale = BulkImport.objects.create(
        host="elsewhere", pid=1, heartbeat_at=now - dt.timedelta(hours=1), **common
    )
    elsewhere_alive = BulkImport.objects.create(host="elsewhere", pid=1, heartbeat_at=now, **common)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a process id that ran here and is gone
    here_gone = BulkImport.objects.create(host=bulk.HOST, pid=child.pid, heartbeat_at=now, **common)
    here_alive = BulkImport.objects.create(host=bulk.HOST, pid=os.getpid(), heartbeat_at=now, **common)
    demo_users_create()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    body = api.get(f"/api/v1/complaint-imports/{here_gone.pk}").json()
    assert body["state"] == "failed" and "interrupted" in body["message"]
    states = dict(BulkImport.objects.filter(source_name="reap.csv").values_list("pk", "state"))
    assert states == {
        elsewhere_stale.pk: "failed",
        elsewhere_alive.pk: "running",
        here_gone.pk: "failed",
        here_alive.pk: "running",
    }
