"""Complaint counts per map hexagon and local day (地图格网计数), for the planner map's low zooms.

The map draws complaints as hexagon counts below zoom 16. A hexagon tile at zoom 10 covers most of the city, so
counting the complaints under it row by row reads millions of rows. `ComplaintCell` keeps, for each zoom in
CELL_ZOOMS and each hexagon (i, j), how many complaints were received there per local day, per month and per
year. A date range is cut into at most a few blocks — the days before the first whole month, whole months up to a
whole year, whole years, whole months, the days after the last whole month (`periods`) — so a tile sums, per
hexagon, a handful of rows of one index however long the range: all of two years at zoom 10 is two rows per
hexagon, not 730.

The grid: flat-topped hexagons of a fixed edge per zoom in EPSG:3857 metres (`hex_size_m`), one grid for the
whole world, so neighbouring tiles agree. Centres form two rectangular lattices; in units of 1.5·edge across and
(√3/2)·edge up, lattice A has even (i, j) and lattice B odd (i, j); a point belongs to the nearer of the two
candidate centres. `hex_cells_sql` is that assignment in SQL — the one used both here and for tiles counted from
the complaints themselves (filtered tiles), so the two always put a complaint in the same hexagon.

Keeping it current: statement-level triggers on the complaints table (migration 0004) append each inserted or
deleted complaint, and each change of position or receipt time (old −1, new +1), to `ComplaintCellChange`; they
do nothing else, so intake and bulk import pay one small insert (measured: lost in the noise of a 50,000-row
batch). `cells_fold` moves the log into the counts (the
log leaves PostgreSQL by COPY with each point's Web Mercator x and y computed there; the hexagons, days, months
and years are assigned and summed with numpy; the sums go back by COPY and one upsert). A count tile folds a
small backlog first (`cells_ready`), so it never shows counts older than its request; with a large backlog (a
bulk import under way) it counts from the complaints instead. A bulk import folds once at its end.
"""

from __future__ import annotations

import datetime as dt
import io
import math

import numpy as np
from django.db import connection, transaction

from .deadlines import LOCAL_TZ
from .models import ComplaintCell, ComplaintCellChange

CELL_ZOOMS = (10, 11, 12, 13, 14, 15)
# Hexagon edge (= centre-to-corner) as a fraction of the tile's width: 1/24 is about 11 px on a 256 px tile.
HEX_PER_TILE = 24
WEB_MERCATOR_WORLD_M = 40075016.685578488  # width of the EPSG:3857 world
EARTH_RADIUS_M = 6378137.0
HALF_ROOT3 = 0.8660254037844386
# fid of a hexagon: both indexes offset to be non-negative, then packed.
_OFFSET = 1 << 20
_STRIDE = 1 << 21
VACUUM_AFTER = 50_000  # log rows folded at once
INLINE_FOLD_MAX = 50_000  # log rows a map request folds before it reads the counts
_FOLD_LOCK = 0x5A0C311  # pg_advisory_xact_lock key: one fold at a time
DAY, MONTH, YEAR = 0, 1, 2  # ComplaintCell.period
EPOCH = dt.date(2000, 1, 1)  # days as integers count from here: also the epoch of binary COPY dates
MIN_YEAR, MAX_YEAR = 1900, 2999  # what an open date range reaches
# A row of the log in PostgreSQL's binary COPY: field count, then each field's length and big-endian value.
_LOG_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("lx", ">i4"),
        ("x", ">f8"),
        ("ly", ">i4"),
        ("y", ">f8"),
        ("ld", ">i4"),
        ("day", ">i4"),
        ("ls", ">i4"),
        ("sign", ">i2"),
    ]
)
_COPY_HEADER = 19
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # then flags and header-extension length, both 0
_CELL_ROW = np.dtype([("zoom", "i2"), ("period", "i2"), ("i", "i4"), ("j", "i4"), ("day", "i4"), ("n", "i4")])
_COPY_CELL_ROW = np.dtype(
    [("fields", ">i2")]
    + [
        field
        for name, kind in (("zoom", ">i2"), ("period", ">i2"), ("i", ">i4"), ("j", ">i4"), ("day", ">i4"), ("n", ">i4"))
        for field in ((f"len_{name}", ">i4"), (name, kind))
    ]
)


def hex_size_m(z: int) -> float:
    """Hexagon edge in EPSG:3857 metres at zoom z."""
    return WEB_MERCATOR_WORLD_M / (1 << z) / HEX_PER_TILE


def mercator_sql(geom: str) -> tuple[str, str]:
    """SQL for the EPSG:3857 x and y (metres) of a WGS-84 point column (arithmetic, no reprojection call)."""
    return (
        f"radians(ST_X({geom})) * {EARTH_RADIUS_M}",
        f"ln(tan(pi() / 4 + radians(ST_Y({geom})) / 2)) * {EARTH_RADIUS_M}",
    )


def hex_cells_sql(source: str) -> str:
    """SELECT every column of `source` plus the hexagon `i`, `j` of its point (the SQL twin of `hex_cells`).

    `source` is a SQL query with columns x, y (EPSG:3857 metres) and s (the hexagon edge in metres). Only
    products, quotients and round() are used, which PostgreSQL and numpy compute bit for bit alike.
    """
    return f"""
        SELECT r.*, CASE WHEN r.da <= r.db THEN r.ia ELSE r.ib END::int AS i,
                    CASE WHEN r.da <= r.db THEN r.ja ELSE r.jb END::int AS j
        FROM (
            SELECT q.*, (q.u - q.ia) * 1.5 * ((q.u - q.ia) * 1.5)
                        + (q.v - q.ja) * {HALF_ROOT3} * ((q.v - q.ja) * {HALF_ROOT3}) AS da,
                        (q.u - q.ib) * 1.5 * ((q.u - q.ib) * 1.5)
                        + (q.v - q.jb) * {HALF_ROOT3} * ((q.v - q.jb) * {HALF_ROOT3}) AS db
            FROM (
                SELECT p.*, 2 * round(p.u / 2) AS ia, 2 * round(p.v / 2) AS ja,
                            2 * round((p.u - 1) / 2) + 1 AS ib, 2 * round((p.v - 1) / 2) + 1 AS jb
                FROM (SELECT src.*, src.x / (1.5 * src.s) AS u, src.y / ({HALF_ROOT3} * src.s) AS v
                      FROM ({source}) AS src) AS p
            ) AS q
        ) AS r
    """


def hex_cells(x: np.ndarray, y: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Hexagon (i, j) of each EPSG:3857 point for edge `s`: the nearer of the two lattices' nearest centres.

    numpy's round() and PostgreSQL's round(float8) both round halves to even; the arithmetic is the same as
    `hex_cells_sql`, operation for operation.
    """
    u = x / (1.5 * s)
    v = y / (HALF_ROOT3 * s)
    ia, ja = 2 * np.round(u / 2), 2 * np.round(v / 2)
    ib, jb = 2 * np.round((u - 1) / 2) + 1, 2 * np.round((v - 1) / 2) + 1
    da = (u - ia) * 1.5 * ((u - ia) * 1.5) + (v - ja) * HALF_ROOT3 * ((v - ja) * HALF_ROOT3)
    db = (u - ib) * 1.5 * ((u - ib) * 1.5) + (v - jb) * HALF_ROOT3 * ((v - jb) * HALF_ROOT3)
    nearer_a = da <= db
    return np.where(nearer_a, ia, ib).astype(np.int32), np.where(nearer_a, ja, jb).astype(np.int32)


def hexagons_sql(counts: str, size: float) -> str:
    """Tile rows (fid, tile_geom in EPSG:4326, complaints) from `counts`, a query with columns i, j, n."""
    h = HALF_ROOT3 * size
    template = f"POLYGON(({size} 0,{size / 2} {h},{-size / 2} {h},{-size} 0,{-size / 2} {-h},{size / 2} {-h},{size} 0))"
    return f"""
        SELECT (c.i + {_OFFSET})::bigint * {_STRIDE} + (c.j + {_OFFSET}) AS fid,
               ST_Transform(ST_Translate(ST_GeomFromText('{template}', 3857), c.i * {1.5 * size}, c.j * {h}), 4326)
                   AS tile_geom,
               c.n AS complaints
        FROM ({counts}) AS c
    """


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    lat = max(min(lat, 85.05112878), -85.05112878)
    return math.radians(lon) * EARTH_RADIUS_M, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH_RADIUS_M


def periods(date_from: dt.date | None, date_to: dt.date | None) -> list[tuple[int, dt.date, dt.date]]:
    """The range of local days as (period, first key, last key) blocks of whole days, months and years.

    Keys are the day, or the first day of the month or year, as stored. An open end reaches the first or last
    year there can be. Blocks are at most: days, months, years, months, days.
    """
    first = date_from or dt.date(MIN_YEAR, 1, 1)
    last = date_to or dt.date(MAX_YEAR, 12, 31)
    blocks: list[tuple[int, dt.date, dt.date]] = []
    day = first
    while day <= last:
        if day.month == 1 and day.day == 1 and dt.date(day.year, 12, 31) <= last:
            end_year = last.year if last == dt.date(last.year, 12, 31) else last.year - 1
            blocks.append((YEAR, day, dt.date(end_year, 1, 1)))
            day = dt.date(end_year + 1, 1, 1) if end_year < MAX_YEAR else last + dt.timedelta(days=1)
        elif day.day == 1 and _month_end(day) <= last:
            end_month = day
            while end_month.month < 12 and _month_end(_next_month(end_month)) <= last:
                end_month = _next_month(end_month)
            blocks.append((MONTH, day, end_month))
            day = _month_end(end_month) + dt.timedelta(days=1)
        else:
            end = min(last, _month_end(day))
            blocks.append((DAY, day, end))
            day = end + dt.timedelta(days=1)
    return blocks


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _month_end(day: dt.date) -> dt.date:
    return _next_month(day) - dt.timedelta(days=1)


def cell_counts_sql(
    *, z: int, west: float, south: float, east: float, north: float, date_from=None, date_to=None
) -> tuple[str, list]:
    """Hexagons (fid, tile_geom, complaints) of zoom `z` whose centre lies within one hexagon of the box, summed
    over the local days `date_from`–`date_to` (both included; open when None), from the stored counts.

    Each period block is one index scan: the candidate i and j values are listed (= ANY), so the scan descends to
    each hexagon's rows of that block and reads nothing else. Call `cells_ready` (or `cells_fold`) first so the
    counts include every committed change.
    """
    if z not in CELL_ZOOMS:
        raise ValueError(f"zoom {z} has no stored counts (zooms {CELL_ZOOMS[0]}–{CELL_ZOOMS[-1]})")
    size = hex_size_m(z)
    x0, y0 = _mercator(west, south)
    x1, y1 = _mercator(east, north)
    i_values = list(range(int((x0 - size) // (1.5 * size)) - 1, int((x1 + size) // (1.5 * size)) + 2))
    j_values = list(range(int((y0 - size) // (HALF_ROOT3 * size)) - 1, int((y1 + size) // (HALF_ROOT3 * size)) + 2))
    parts, params = [], []
    for period, low, high in periods(date_from, date_to):
        parts.append(
            f"SELECT i, j, n FROM {ComplaintCell._meta.db_table} WHERE zoom = %s AND period = %s"
            " AND i = ANY(%s) AND j = ANY(%s) AND day BETWEEN %s AND %s"
        )
        params += [z, period, i_values, j_values, low, high]
    if not parts:
        parts, params = ["SELECT 0 AS i, 0 AS j, 0 AS n WHERE false"], []
    counts = f"SELECT i, j, sum(n)::bigint AS n FROM ({' UNION ALL '.join(parts)}) AS b GROUP BY i, j HAVING sum(n) > 0"
    return hexagons_sql(counts, size), params


def cells_ready() -> bool:
    """Fold a small backlog and say the counts are current; False, folding nothing, when the log holds more than
    INLINE_FOLD_MAX rows — more than a map request should wait for (a bulk import still running, or one whose
    closing fold has not run yet): the caller then counts from the complaints, which is exact, only slower."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {ComplaintCellChange._meta.db_table} LIMIT %s) AS backlog",
            [INLINE_FOLD_MAX + 1],
        )
        if cursor.fetchone()[0] > INLINE_FOLD_MAX:
            return False
    cells_fold()
    return True


def cells_fold() -> int:
    """Move the change log into the counts (one fold at a time); returns how many log rows were folded.

    After a large fold outside any transaction the log is vacuumed at once: its deleted rows would otherwise make
    every emptiness check before a tile read scan them until autovacuum comes by.
    """
    folded = _fold()
    if folded >= VACUUM_AFTER and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {ComplaintCellChange._meta.db_table}")
    return folded


def _fold() -> int:
    log, table = ComplaintCellChange._meta.db_table, ComplaintCell._meta.db_table
    x, y = mercator_sql("location")
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {log})")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FOLD_LOCK])
        out = io.BytesIO()
        tz = LOCAL_TZ.key.replace("'", "")
        # Binary COPY: fixed-width rows numpy reads as they are, the doubles exactly as PostgreSQL computed them.
        cursor.copy_expert(
            f"COPY (DELETE FROM {log} RETURNING {x}, {y}, "
            f"(received_at AT TIME ZONE '{tz}')::date - DATE '{EPOCH.isoformat()}', sign) TO STDOUT (FORMAT binary)",
            out,
        )
        data = out.getbuffer()[_COPY_HEADER:-2]  # signature, flags, extension length … the -1 trailer
        log_rows = np.frombuffer(data, dtype=_LOG_ROW)
        if not len(log_rows):
            return 0
        sums = _summed(log_rows)
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
        if not cursor.fetchone()[0]:
            # Nothing counted yet (a new or rebuilt table): the sums go straight in, no conflict is possible.
            cursor.copy_expert(f"COPY {table} (zoom, period, i, j, day, n) FROM STDIN (FORMAT binary)", _binary(sums))
            return len(log_rows)
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS complaint_cell_fold (zoom smallint, period smallint, i int, j int, "
            "day date, n int) ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE complaint_cell_fold")
        cursor.copy_expert("COPY complaint_cell_fold FROM STDIN (FORMAT binary)", _binary(sums))
        # The rows arrive sorted by the index's key, so the upsert walks the index in order.
        cursor.execute(
            f"""
            INSERT INTO {table} (zoom, period, i, j, day, n)
            SELECT zoom, period, i, j, day, n FROM complaint_cell_fold
            ON CONFLICT (zoom, period, i, j, day) DO UPDATE SET n = {table}.n + EXCLUDED.n
            """
        )
        # A hexagon whose complaints all left (deleted or moved) keeps a row with n = 0; readers skip it.
        return len(log_rows)


def _summed(log_rows: np.ndarray) -> np.ndarray:
    """Sums of the log's signs per (zoom, period, i, j, day key), sorted by that key, zero sums dropped.

    Per zoom and period the key is packed into one integer (i and j within ±2^19, days within ±2^19 of 2000-01-01)
    and summed by np.unique, far faster than a group-by over five columns.
    """
    day = log_rows["day"].astype(np.int64)
    dates = day.astype("timedelta64[D]") + np.datetime64(EPOCH, "D")
    keys = {
        DAY: day,
        MONTH: (dates.astype("datetime64[M]").astype("datetime64[D]") - np.datetime64(EPOCH, "D")).astype(np.int64),
        YEAR: (dates.astype("datetime64[Y]").astype("datetime64[D]") - np.datetime64(EPOCH, "D")).astype(np.int64),
    }
    x, y, sign = log_rows["x"].astype(float), log_rows["y"].astype(float), log_rows["sign"].astype(np.int64)
    half = 1 << 19
    parts = []
    for z in CELL_ZOOMS:
        i, j = hex_cells(x, y, hex_size_m(z))
        if len(i) and max(np.abs(i).max(), np.abs(j).max()) >= half:
            raise ValueError(f"hexagon index beyond ±2^19 at zoom {z}")
        ij = ((i.astype(np.int64) + half) << 41) | ((j.astype(np.int64) + half) << 21)
        for period, key in keys.items():
            packed, where = np.unique(ij | (key + half), return_inverse=True)
            n = np.bincount(where, weights=sign, minlength=len(packed)).astype(np.int64)
            keep = n != 0
            packed, n = packed[keep], n[keep]
            part = np.empty(len(packed), dtype=_CELL_ROW)
            part["zoom"], part["period"], part["n"] = z, period, n
            part["i"] = (packed >> 41) - half
            part["j"] = ((packed >> 21) & ((1 << 20) - 1)) - half
            part["day"] = (packed & ((1 << 21) - 1)) - half
            parts.append(part)
    return np.concatenate(parts) if parts else np.empty(0, dtype=_CELL_ROW)


def _binary(sums: np.ndarray) -> io.BytesIO:
    """Cell sums as PostgreSQL binary COPY (a date is its day count from 2000-01-01, as EPOCH is)."""
    rows = np.empty(len(sums), dtype=_COPY_CELL_ROW)
    rows["fields"] = 6
    for name, size in (("zoom", 2), ("period", 2), ("i", 4), ("j", 4), ("day", 4), ("n", 4)):
        rows["len_" + name] = size
        rows[name] = sums[name]
    return io.BytesIO(_COPY_SIGNATURE + rows.tobytes() + b"\xff\xff")


def cells_rebuild() -> int:
    """Recount every hexagon from the complaints (after a restore, or to check the counts); returns complaints."""
    from .models import Complaint

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FOLD_LOCK])
        cursor.execute(f"TRUNCATE {ComplaintCell._meta.db_table}, {ComplaintCellChange._meta.db_table}")
        cursor.execute(
            f"""
            INSERT INTO {ComplaintCellChange._meta.db_table} (location, received_at, sign)
            SELECT location, received_at, 1 FROM {Complaint._meta.db_table} WHERE location IS NOT NULL
            """
        )
        count = cursor.rowcount
    cells_fold()
    return count
