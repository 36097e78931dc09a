"""One transaction per batch: complaints, history and assignments from the staging table; the import loop."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg2
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from config.limits import clean_text, limit
from geo import coords
from jurisdictions.models import Department

from .. import cells
from ..constants import ImportState
from ..models import Assignment, BulkImport, Category, Complaint, StatusChange
from ..permissions import bulk_scope
from ..services import actor
from .reading import DEFAULT_BATCH, BulkImportError, Progress, file_format, read_chunks
from .records import _F, HOST, _check_columns, _heartbeat, _late_bad, _record_errors, imports_reap
from .resolution import resolve_rows
from .staging import STAGE, _stage, copy_text
from .validation import Batch, Reference, validate


def _insert(cursor, bulk_import_id: int, by: str) -> int:
    """One statement: complaints (skipping known external ids), their first history row and assignments."""
    complaint, history = Complaint._meta.db_table, StatusChange._meta.db_table
    assignment, department = Assignment._meta.db_table, Department._meta.db_table
    category = Category._meta.db_table
    # Rows already stored (a re-run) leave first, by index probe, so the statement below only works on new ones;
    # ON CONFLICT still guards against a concurrent import of the same ids.
    cursor.execute(f"DELETE FROM {STAGE} s USING {complaint} c WHERE c.external_id = s.external_id")
    cursor.execute(
        f"""
        WITH src AS (
            SELECT s.*,
                   COALESCE(s.lead_code, s.street_code, s.district_code) AS area_code,
                   COALESCE(s.lead_name, s.street_name, s.district_name) AS area_name,
                   CASE WHEN s.lead_code IS NOT NULL THEN s.lead_level
                        WHEN s.street_code IS NOT NULL THEN 'street'
                        WHEN s.district_code IS NOT NULL THEN 'district' END AS area_level,
                   dep.id AS department_id, dep.code AS department_code, dep.name AS department_name
              FROM {STAGE} s
              JOIN {category} cat ON cat.id = s.category_id
              LEFT JOIN LATERAL (
                    SELECT d.id, d.code, d.name FROM {department} d
                     WHERE cat.department_role <> '' AND d.role = cat.department_role
                       AND (d.district_code = s.district_code OR d.district_code = '')
                     ORDER BY d.district_code DESC, d.code LIMIT 1
              ) dep ON true
        ), prepared AS (
            SELECT src.*,
                   COALESCE(NULLIF(src.status, ''),
                            CASE WHEN src.area_code IS NOT NULL OR src.department_id IS NOT NULL
                                 THEN 'dispatched' ELSE 'received' END) AS final_status,
                   COALESCE(src.method, CASE WHEN src.district_code IS NULL THEN 'outside' ELSE 'point' END)
                       AS final_method,
                   COALESCE(src.review, src.district_code IS NULL OR src.on_boundary) AS final_review
              FROM src
        ), ins AS (
            INSERT INTO {complaint} (
                external_id, channel, received_at, category_id, urgency, description, address, location,
                location_source, input_crs, input_lon, input_lat, accuracy_m, confidence, verdict, verdict_method,
                generation_name, district_code, district_name, street_code, street_name, lead_code, lead_name,
                needs_review, status, deadline_at, resolved_at, closed_at, satisfaction, reporter, bulk_import_id,
                created_at, updated_at)
            SELECT p.external_id, p.channel, p.received_at, p.category_id, p.urgency, p.description, p.address,
                   ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326), p.location_source, p.in_crs, p.in_lon, p.in_lat,
                   p.accuracy_m, p.confidence,
                   -- Rows decided by geometry keep only what the columns cannot say; their verdict is rebuilt
                   -- from the columns on read (selectors.complaint_verdict). Building a JSON document per row
                   -- cost more than the rest of the insert. Rows the full engine decided keep its verdict.
                   CASE WHEN p.verdict IS NOT NULL THEN p.verdict || '{{"bulk": true}}'::jsonb
                        WHEN p.on_boundary THEN '{{"bulk": true, "on_boundary": true}}'::jsonb
                        ELSE '{{"bulk": true}}'::jsonb END,
                   p.final_method, COALESCE(p.gen_name, ''),
                   COALESCE(p.district_code, ''), COALESCE(p.district_name, ''),
                   COALESCE(p.street_code, ''), COALESCE(p.street_name, ''),
                   COALESCE(p.area_code, p.department_code, ''), COALESCE(p.area_name, p.department_name, ''),
                   p.final_review, p.final_status, p.deadline_at, NULL, NULL, COALESCE(p.satisfaction, ''),
                   '{{}}'::jsonb,
                   %(import_id)s, now(), now()
              FROM prepared p
            ON CONFLICT (external_id) DO NOTHING
            RETURNING id, external_id, status, received_at
        ), joined AS (
            SELECT ins.id, ins.status, ins.received_at, p.area_code, p.area_name, p.area_level,
                   p.department_id, p.department_name, p.co_handlers, p.lead_code IS NOT NULL AS engine_lead
              FROM ins JOIN prepared p ON p.external_id = ins.external_id
        ), history AS (
            INSERT INTO {history} (complaint_id, from_status, to_status, at, by, note)
            SELECT id, '', status, received_at, %(by)s, '批量导入 bulk import' FROM joined
        ), leads AS (
            INSERT INTO {assignment} (complaint_id, role, area_code, area_level, department_id, unit_name, state,
                                      first_receiver, created_at, ended_at, note)
            SELECT id, 'lead', area_code, area_level, NULL, area_name,
                   CASE WHEN status IN ('resolved', 'closed') THEN 'ended' ELSE 'active' END, true, now(), NULL,
                   CASE WHEN area_level = 'district' AND NOT engine_lead THEN '属地兜底 district takes it' ELSE '' END
              FROM joined WHERE area_code IS NOT NULL
        ), co_handlers AS (
            INSERT INTO {assignment} (complaint_id, role, area_code, area_level, department_id, unit_name, state,
                                      first_receiver, created_at, ended_at, note)
            SELECT j.id, 'co_handler', co->>'code', co->>'level', NULL, co->>'name',
                   CASE WHEN j.status IN ('resolved', 'closed') THEN 'ended' ELSE 'active' END, false, now(), NULL, ''
              FROM joined j CROSS JOIN LATERAL jsonb_array_elements(j.co_handlers) co
             WHERE j.co_handlers IS NOT NULL AND j.area_code IS NOT NULL AND co->>'code' <> j.area_code
        ), departments AS (
            INSERT INTO {assignment} (complaint_id, role, area_code, area_level, department_id, unit_name, state,
                                      first_receiver, created_at, ended_at, note)
            SELECT id, CASE WHEN area_code IS NULL THEN 'lead' ELSE 'department' END, '', '', department_id,
                   department_name, CASE WHEN status IN ('resolved', 'closed') THEN 'ended' ELSE 'active' END,
                   area_code IS NULL, now(), NULL, ''
              FROM joined WHERE department_id IS NOT NULL
        )
        SELECT count(*) FROM ins
        """,
        {"import_id": bulk_import_id, "by": by},
    )
    return cursor.fetchone()[0]


@dataclass
class Prepared:
    """A chunk made ready for the database: validated, resolved by the engine, as COPY text."""

    rows_read: int
    batch: Batch
    staged: tuple[str, list[str]]


def prepare(chunks: Iterator[pd.DataFrame], fmt: str, ref: Reference) -> Iterator[Prepared]:
    """Validation, conversion, resolution and COPY text for each chunk (no writes: it may run in a thread)."""
    seen: dict[str, int] = {}
    next_row = 1
    for chunk in chunks:
        if next_row == 1:
            _check_columns(chunk, fmt)
        batch = validate(chunk.reset_index(drop=True), next_row, ref, seen)
        next_row += len(chunk)
        if len(batch.good):
            batch.good = resolve_rows(batch.good)
        staged = copy_text(batch.good) if len(batch.good) else ("", [])
        yield Prepared(len(chunk), batch, staged)


def ahead(items: Iterator, depth: int = 1) -> Iterator:
    """Run an iterator in a thread, `depth` items ahead of the consumer.

    Preparing batch k+1 (numpy, pandas, the in-process resolver) overlaps with writing batch k (the database
    works while psycopg2 waits without holding the GIL). Errors in the thread are raised in the consumer.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(exc)
        finally:
            connections.close_all()  # this thread's connections only (the resolver may have opened one)

    worker = threading.Thread(target=run, name="bulk-prepare", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def drop_outside_scope(cursor, scope_prefix: str, batch: Batch) -> None:
    """Take staged rows whose street and district both lie outside the importing user's area out of the batch,
    reporting each as a bad row. `scope_prefix` is a district code (its streets share the prefix) or a street code.
    """
    cursor.execute(
        f"""
        DELETE FROM {STAGE}
         WHERE NOT (coalesce(street_code, '') LIKE %(prefix)s OR coalesce(district_code, '') LIKE %(prefix)s)
        RETURNING row_no, external_id, coalesce(street_code, district_code, '')
        """,
        {"prefix": scope_prefix + "%"},
    )
    for row, external_id, code in cursor.fetchall():
        batch.bad[row] = {"scope": f"不在你的辖区 outside your area ({code or 'no area'})"}
        batch.external_ids[row] = external_id or ""


def _write(
    frame: pd.DataFrame,
    staged: tuple[str, list[str]] | None,
    bulk_import_id: int,
    by: str,
    batch: Batch,
    scope_prefix: str = "",
) -> int:
    """Write staged rows; if the database refuses, split the rows until the refusing ones are isolated."""
    try:
        with transaction.atomic():
            with connection.cursor() as wrapper:
                cursor = wrapper.cursor
                _stage(cursor, staged if staged is not None else copy_text(frame))
                if scope_prefix:
                    drop_outside_scope(cursor, scope_prefix, batch)
                return _insert(cursor, bulk_import_id, by)
    except (DatabaseError, psycopg2.Error) as exc:
        if len(frame) == 1:
            row = int(frame["row_no"].iloc[0])
            batch.bad[row] = {"database": f"数据库拒绝 rejected by the database: {str(exc).splitlines()[0]}"}
            batch.external_ids[row] = str(frame["external_id"].iloc[0])
            return 0
        middle = len(frame) // 2
        first = _write(frame.iloc[:middle], None, bulk_import_id, by, batch, scope_prefix)
        return first + _write(frame.iloc[middle:], None, bulk_import_id, by, batch, scope_prefix)


def complaints_import(
    *,
    source: str | Path,
    file_format_name: str | None = None,
    crs: str = "wgs84",
    batch_size: int = DEFAULT_BATCH,
    by: Any = None,
    progress: Progress | None = None,
    source_name: str | None = None,
    overlap: bool = True,
) -> BulkImport:
    """Import a complaint file batch by batch (each batch all-or-nothing); returns the import with its counts.

    Columns (CSV; spatial formats give lon/lat by their point geometry): external_id, received_at, category,
    lon, lat required; channel, urgency, description, address, crs, location_source, accuracy_m, confidence,
    status, satisfaction optional. `crs` is the default for rows without their own. Bad rows are listed in
    `BulkRowError` by row number. Allowed to api clients and administrators (anywhere), and to district and
    street staff, whose rows outside their area are reported as bad rows ("scope"); `by=None` is the system.

    With `overlap` (the default) the next batch is prepared in a thread, on its own database connection, while
    this one is written; without it everything runs on the caller's connection, so the engine also sees rules
    or buildings the caller wrote in a transaction not yet committed.
    """
    scope_prefix = bulk_scope(by)
    path = Path(source)
    if not path.exists():
        raise BulkImportError(f"找不到文件 file not found: {source}")
    fmt = file_format(path, file_format_name)
    try:
        crs = coords.normalise_system(crs or "wgs84")
    except coords.CoordinateError as exc:
        raise BulkImportError(str(exc)) from exc
    max_batch = limit("IMPORT_BATCH_ROWS")
    if not 1 <= batch_size <= max_batch:
        raise BulkImportError(f"batch_size 须为 1–{max_batch} 的整数 must be an integer in 1–{max_batch}")
    who = actor(by)
    # Imports left `running` by a process that is gone are closed first, so a re-run is not mistaken for them.
    imports_reap()
    record = BulkImport.objects.create(
        source_name=(source_name or path.name)[:300],
        file_format=fmt,
        crs=crs,
        batch_size=batch_size,
        by=who,
        host=HOST,
        pid=os.getpid(),
        heartbeat_at=timezone.now(),
    )
    ref = Reference.load(crs=crs, by=who)
    try:
        with _heartbeat(record.pk):
            prepared = prepare(read_chunks(path, fmt, batch_size), fmt, ref)
            for ready in ahead(prepared) if overlap else prepared:
                batch = ready.batch
                with transaction.atomic():
                    created = 0
                    if len(batch.good):
                        created = _write(batch.good, ready.staged, record.pk, who, batch, scope_prefix)
                    _record_errors(record, batch)
                    BulkImport.objects.filter(pk=record.pk).update(
                        rows_read=ready.rows_read + _F("rows_read"),
                        rows_created=created + _F("rows_created"),
                        rows_existing=(len(batch.good) - created - _late_bad(batch)) + _F("rows_existing"),
                        rows_bad=len(batch.bad) + _F("rows_bad"),
                        batches_done=1 + _F("batches_done"),
                        heartbeat_at=timezone.now(),
                    )
                if progress is not None:
                    progress(ready.rows_read)
    except BaseException as exc:
        # Whatever stops the import (a bad file, a bug, Ctrl-C) leaves it failed with the reason, never `running`.
        message = str(exc) if isinstance(exc, BulkImportError) else f"中断 interrupted: {type(exc).__name__}: {exc}"
        with contextlib.suppress(DatabaseError):
            BulkImport.objects.filter(pk=record.pk).update(
                state=ImportState.FAILED, message=clean_text(message)[:2000], finished_at=timezone.now()
            )
        raise
    BulkImport.objects.filter(pk=record.pk).update(state=ImportState.FINISHED, finished_at=timezone.now())
    # The map's hexagon counts take the new rows in one pass now, rather than at the next map request.
    cells.cells_fold()
    record.refresh_from_db()
    return record
