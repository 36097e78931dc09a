"""Bulk intake (批量导入) of complaint files — CSV, GeoJSON, GeoPackage — up to millions of rows.

How it stays correct:
- Each batch is one transaction: its complaints, their history and assignments, its bad-row report and the
  import's counters commit together or not at all. Killing the import loses at most the batch in flight.
- Idempotent on external ids: INSERT … ON CONFLICT (external_id) DO NOTHING, so re-running a file after a
  crash (or twice) finishes it without duplicates.
- Bad rows are found by vectorised validation before anything is written and reported by 1-based row number
  (header not counted); good neighbours are written. Should the database still refuse a batch, it is split in
  halves (savepoints) until the refusing rows are isolated and reported; the rest is written.

How it is fast: validation, coordinate conversion (geo.coords, vectorised), generation choice and deadlines
(working-day calendar, vectorised) run on numpy arrays; the verdict comes from the jurisdiction engine's one
entry point (`jurisdictions.engine.resolve`, in process, for the whole batch); rows go to a temporary table by
COPY; then one INSERT … SELECT writes complaints, history and assignments.

Bulk rows get the engine's verdict, as single intake does. Most are decided by geometry alone (well inside one
street); rows under a rule in force on their day, in a building footprint, on or within a centimetre of a
boundary, whose accuracy circle reaches a boundary, or outside every area get the engine's full verdict (a
straddling building's lead by share with copies to its co-handlers). Repeats are not linked at bulk intake.

The steps live in `reading`, `validation`, `staging`, `resolution`, `writing` and `records`; the public
names are importable from `complaints.bulk`.
"""

from .reading import (
    DEFAULT_BATCH,
    FORMATS,
    GEOMETRY_KINDS,
    MAX_TEXT,
    BulkImportError,
    Progress,
    file_format,
    read_chunks,
)
from .records import HOST, error_report_rows, imports_reap
from .resolution import resolve_rows
from .staging import (
    ENGINE_COLUMNS,
    FIRST_STAGE_NAMES,
    NULL,
    QUOTED,
    RESOLVED_COLUMNS,
    STAGE,
    STAGE_COLUMNS,
    STAGE_NAMES,
    VERDICT_COLUMNS,
    copy_text,
)
from .validation import Batch, Reference, validate
from .writing import Prepared, ahead, complaints_import, drop_outside_scope, prepare

__all__ = [
    "DEFAULT_BATCH",
    "ENGINE_COLUMNS",
    "FIRST_STAGE_NAMES",
    "FORMATS",
    "GEOMETRY_KINDS",
    "HOST",
    "MAX_TEXT",
    "NULL",
    "QUOTED",
    "RESOLVED_COLUMNS",
    "STAGE",
    "STAGE_COLUMNS",
    "STAGE_NAMES",
    "VERDICT_COLUMNS",
    "Batch",
    "BulkImportError",
    "Prepared",
    "Progress",
    "Reference",
    "ahead",
    "complaints_import",
    "copy_text",
    "drop_outside_scope",
    "error_report_rows",
    "file_format",
    "imports_reap",
    "prepare",
    "read_chunks",
    "resolve_rows",
    "validate",
]
