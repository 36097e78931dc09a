"""Rows as COPY text into a temporary staging table."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

# --- writing -----------------------------------------------------------------------------------------------------

STAGE_COLUMNS = [
    ("row_no", "integer"),
    ("external_id", "text"),
    ("channel", "text"),
    ("received_at", "timestamptz"),
    ("category_id", "bigint"),
    ("urgency", "text"),
    ("description", "text"),
    ("address", "text"),
    ("lon", "double precision"),
    ("lat", "double precision"),
    ("in_lon", "double precision"),
    ("in_lat", "double precision"),
    ("in_crs", "text"),
    ("location_source", "text"),
    ("accuracy_m", "double precision"),
    ("confidence", "double precision"),
    ("status", "text"),
    ("satisfaction", "text"),
    ("deadline_at", "timestamptz"),
    ("gen_id", "bigint"),
    ("gen_from", "date"),
    ("gen_name", "text"),
]
RESOLVED_COLUMNS = [
    ("district_code", "text"),
    ("district_name", "text"),
    ("street_code", "text"),
    ("street_name", "text"),
    ("on_boundary", "boolean"),
]
# Set only on rows the full engine decided (rule, building footprint, accuracy circle reaching a boundary).
ENGINE_COLUMNS = [
    ("method", "text"),
    ("lead_code", "text"),
    ("lead_name", "text"),
    ("lead_level", "text"),
    ("co_handlers", "jsonb"),
    ("verdict", "jsonb"),
    ("review", "boolean"),
]
VERDICT_COLUMNS = RESOLVED_COLUMNS + ENGINE_COLUMNS
STAGE = "complaints_bulk_stage"


NULL = "\\N"
# Free text goes quoted; codes, enums, numbers and timestamps never hold a comma, quote or newline.
QUOTED = {
    "external_id",
    "description",
    "address",
    "gen_name",
    "district_name",
    "street_name",
    "lead_name",
    "co_handlers",
    "verdict",
}


def _csv_values(values: np.ndarray, name: str) -> list[str]:
    """One staging column as COPY CSV fields (NULL for None/NaN/empty optional values)."""
    items = values.tolist()
    if values.dtype.kind == "f":
        return [NULL if v != v else repr(v) for v in items]
    if values.dtype.kind in "iu":
        return [str(v) for v in items]
    if values.dtype.kind == "b":
        return ["t" if v else "f" for v in items]
    if name in QUOTED:
        return [NULL if v is None else '"' + str(v).replace('"', '""') + '"' for v in items]
    return [NULL if v is None or v == "" else str(v) for v in items]


def copy_text(frame: pd.DataFrame) -> tuple[str, list[str]]:
    """The staging rows as COPY CSV text, built column by column (several times faster than DataFrame.to_csv),
    and the columns it holds: verdict columns that are empty in every row are left out (they stage as NULL).

    Built in the preparing thread while the previous batch is being written.
    """
    names = [name for name in STAGE_NAMES if name in FIRST_STAGE_NAMES or frame[name].notna().to_numpy().any()]
    columns = []
    for name in names:
        values = frame[name].to_numpy()
        if name == "gen_id":
            values = np.where(values >= 0, values.astype(object), None)
        elif values.dtype.kind not in "fiub":
            values = values.astype(object)
        columns.append(_csv_values(values, name))
    return "\n".join(map(",".join, zip(*columns, strict=True))) + "\n", names


STAGE_NAMES = [n for n, _ in STAGE_COLUMNS + VERDICT_COLUMNS]
FIRST_STAGE_NAMES = {n for n, _ in STAGE_COLUMNS}


def _stage(cursor, staged: tuple[str, list[str]]) -> None:
    columns = STAGE_COLUMNS + VERDICT_COLUMNS
    # A batch statement is planned once and runs in seconds: JIT compilation would only add to that. A lost
    # commit on a server crash is recovered by re-running the file (idempotent), so the batch need not wait for
    # the WAL flush.
    cursor.execute("SET LOCAL jit = off; SET LOCAL synchronous_commit = off")
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({', '.join(f'{n} {t}' for n, t in columns)}) ON COMMIT DROP"
    )
    cursor.execute(f"TRUNCATE {STAGE}")
    text, names = staged
    names = ", ".join(names)
    cursor.copy_expert(f"COPY {STAGE} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", io.StringIO(text))
    # Statistics for the planner: without them the joins below are planned for a guessed size and run far slower.
    cursor.execute(f"ANALYZE {STAGE}")
