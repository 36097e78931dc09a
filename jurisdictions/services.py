"""Writes for jurisdictions: importing a boundary set as a generation, with validation first."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction

from geo import files, validation

from .constants import CODE_LENGTHS, PARENT_LEVEL, AreaLevel
from .models import Area, AreaPiece, Department, Generation

logger = logging.getLogger(__name__)


class BoundaryImportError(Exception):
    """The import cannot proceed, or validation found errors and nothing was written."""

    def __init__(self, message: str, report: ImportReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class FieldMap:
    """Which source fields hold the code, the name, the parent's code and (optionally) the level."""

    code: str = "code"
    name: str = "name"
    parent: str | None = "parent_code"
    level: str | None = None


@dataclass
class ImportReport:
    """What an import found and (when committed) wrote."""

    source: str
    generation: str
    committed: bool = False
    features: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    findings: list[validation.Finding] = field(default_factory=list)
    pieces: int = 0

    @property
    def errors(self) -> list[validation.Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[validation.Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def add(self, kind: str, severity: str, message: str, **extra) -> None:
        self.findings.append(validation.Finding(kind=kind, severity=severity, message=message, **extra))

    def summary(self) -> str:
        levels = ", ".join(f"{level}: {count}" for level, count in sorted(self.by_level.items()))
        head = "已写入 committed" if self.committed else "试运行，未写入 dry run, nothing written"
        lines = [
            f"{head} — {self.source} → generation {self.generation!r}: {self.features} features ({levels})",
            f"errors: {len(self.errors)}, warnings: {len(self.warnings)}"
            + (f", pieces: {self.pieces}" * self.committed),
        ]
        for finding in self.findings:
            area = f" [{finding.area_m2:.1f} m²]" if finding.area_m2 is not None else ""
            rows = f" rows {finding.rows}" if finding.rows else ""
            lines.append(f"  {finding.severity.upper()} {finding.kind}{rows}: {finding.message}{area}")
        return "\n".join(lines)


@dataclass
class _Row:
    index: int
    level: str
    code: str
    name: str
    parent_code: str | None
    geom: object  # shapely MultiPolygon, WGS-84


def boundaries_import(
    *,
    source: str | Path,
    generation: str,
    valid_from: dt.date | None = None,
    level: str | None = None,
    fields: FieldMap | None = None,
    crs: str | None = None,
    layer: str | int | None = None,
    tolerance_m2: float = 1.0,
    synthetic: bool = False,
    commit: bool = False,
) -> ImportReport:
    """Validate an OGR source of areas and, with `commit`, write it into `generation` in one transaction.

    Validation (always, before any write): invalid rings are repaired with make_valid and listed (warning);
    duplicate codes, missing or unreadable geometry, unknown parents, overlaps and gaps between siblings and
    children outside their parent above `tolerance_m2` are errors. With any error, nothing is written and
    BoundaryImportError carries the report. Subdivided lookup pieces are computed in the same transaction.
    """
    fields = fields or FieldMap()
    if level is None and fields.level is None:
        raise BoundaryImportError("需要 --level 或 --level-field: give a fixed level or the field that holds it")
    if level is not None and level not in AreaLevel.values:
        raise BoundaryImportError(f"未知级别 unknown level {level!r}; use one of {', '.join(AreaLevel.values)}")
    try:
        frame = files.read_wgs84(source, layer=layer, crs=crs)
    except files.SourceError as exc:
        raise BoundaryImportError(str(exc)) from exc
    if fields.parent and fields.parent not in frame.columns:
        # Top-level areas need no parent; any feature that does is reported as missing_parent below.
        fields = FieldMap(code=fields.code, name=fields.name, parent=None, level=fields.level)
    for name in (fields.code, fields.name, fields.level):
        if name is not None and name not in frame.columns:
            raise BoundaryImportError(
                f"源数据缺少字段 source has no field {name!r}; fields are: {', '.join(map(str, frame.columns))}"
            )

    report = ImportReport(source=str(source), generation=generation, features=len(frame))
    existing_generation = Generation.objects.filter(name=generation).first()
    rows = _read_rows(frame, fields=fields, level=level, report=report)
    project = validation.MetricProjector(validation.utm_crs_for([r.geom for r in rows] or [shapely.Point(116, 40)]))
    parents = _resolve_parents(rows, existing_generation, report)
    _check_duplicates(rows, existing_generation, report)
    _check_coverage(rows, parents, project, tolerance_m2, report)
    for row in rows:
        report.by_level[row.level] = report.by_level.get(row.level, 0) + 1

    if not commit:
        return report
    if report.errors:
        raise BoundaryImportError(
            f"验证发现 {len(report.errors)} 个错误，未写入 validation found errors; nothing was written", report
        )
    _write(rows, parents, generation, existing_generation, valid_from, synthetic, str(source), report)
    report.committed = True
    return report


def _read_rows(frame, *, fields: FieldMap, level: str | None, report: ImportReport) -> list[_Row]:
    rows = []
    for index, record in enumerate(frame.itertuples(index=False), start=1):
        values = record._asdict()
        code = _text(values.get(fields.code))
        name = _text(values.get(fields.name))
        row_level = level or _text(values.get(fields.level))
        parent_code = _text(values.get(fields.parent)) if fields.parent else None
        problems = []
        if not code:
            problems.append("missing code 缺少编码")
        if not name:
            problems.append("missing name 缺少名称")
        if row_level not in AreaLevel.values:
            problems.append(f"unknown level 未知级别 {row_level!r}")
        elif code and CODE_LENGTHS.get(row_level) and len(code) != CODE_LENGTHS[row_level]:
            report.add(
                "code_length",
                "warning",
                f"code {code} has {len(code)} digits; {row_level} codes have {CODE_LENGTHS[row_level]}",
                codes=[code],
                rows=[index],
            )
        geom, reason = validation.repair(values.get(frame.geometry.name))
        if geom is None:
            problems.append(f"no polygon geometry 无多边形几何 ({reason or 'not polygonal'})")
        elif reason:
            report.add(
                "invalid_ring",
                "warning",
                f"{code} {name}: invalid geometry repaired with make_valid 已修复: {reason}",
                codes=[code] if code else [],
                rows=[index],
            )
        if problems:
            report.add("bad_feature", "error", "; ".join(problems), codes=[code] if code else [], rows=[index])
            continue
        rows.append(_Row(index, row_level, code, name, parent_code, geom))
    return rows


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN from an empty cell
            return None
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    return text or None


def _resolve_parents(rows: list[_Row], generation: Generation | None, report: ImportReport) -> dict[str, object]:
    """Map parent code → parent geometry (shapely), from the same source or the target generation's areas."""
    in_file = {(r.level, r.code): r.geom for r in rows}
    stored = {}
    wanted = {(PARENT_LEVEL.get(r.level), r.parent_code) for r in rows if r.parent_code}
    if generation is not None and wanted:
        codes = {code for _, code in wanted}
        for area in Area.objects.in_generation(generation).filter(code__in=codes).only("level", "code", "geom"):
            stored[(area.level, area.code)] = shapely.from_wkb(bytes(area.geom.wkb))
    parents = {}
    for row in rows:
        if row.level in PARENT_LEVEL and not row.parent_code:
            report.add(
                "missing_parent", "error", f"{row.code} {row.name}: no parent code 缺少上级编码", rows=[row.index]
            )
            continue
        if not row.parent_code:
            continue
        key = (PARENT_LEVEL.get(row.level), row.parent_code)
        geom = in_file.get(key, stored.get(key))
        if geom is None:
            report.add(
                "missing_parent",
                "error",
                f"{row.code} {row.name}: parent {row.parent_code} not in the source or generation 上级不存在",
                codes=[row.code],
                rows=[row.index],
            )
            continue
        parents[row.parent_code] = geom
    return parents


def _check_duplicates(rows: list[_Row], generation: Generation | None, report: ImportReport) -> None:
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.level, row.code)
        if key in seen:
            report.add(
                "duplicate_code",
                "error",
                f"code {row.code} appears more than once 编码重复",
                codes=[row.code],
                rows=[seen[key], row.index],
            )
        else:
            seen[key] = row.index
    if generation is not None and seen:
        taken = (
            Area.objects.in_generation(generation).filter(code__in=[c for _, c in seen]).values_list("level", "code")
        )
        for level, code in taken:
            if (level, code) in seen:
                report.add(
                    "duplicate_code",
                    "error",
                    f"code {code} already exists in generation {generation.name} 编码已存在",
                    codes=[code],
                    rows=[seen[(level, code)]],
                )


def _check_coverage(rows, parents, project, tolerance_m2: float, report: ImportReport) -> None:
    groups: dict[tuple[str, str | None], list[_Row]] = {}
    for row in rows:
        groups.setdefault((row.level, row.parent_code), []).append(row)
    for (level, parent_code), members in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        geoms = [m.geom for m in members]
        for i, j, area in validation.sibling_overlaps(geoms, project, tolerance_m2):
            a, b = members[i], members[j]
            report.add(
                "overlap",
                "error",
                f"{a.code} {a.name} overlaps 重叠 {b.code} {b.name}",
                codes=[a.code, b.code],
                rows=[a.index, b.index],
                area_m2=area,
            )
        parent = parents.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            continue  # already reported as missing_parent
        for gap, area in validation.coverage_gaps(geoms, project, tolerance_m2, parent=parent):
            point = gap.representative_point()
            where = f"under {parent_code}" if parent_code else f"among {level} areas"
            report.add(
                "gap",
                "error",
                f"gap 缝隙 {where} near {point.x:.6f},{point.y:.6f}",
                codes=[parent_code] if parent_code else [],
                area_m2=area,
            )
        if parent is not None:
            for member in members:
                area = validation.outside(member.geom, parent, project, tolerance_m2)
                if area:
                    report.add(
                        "outside_parent",
                        "error",
                        f"{member.code} {member.name} lies partly outside its parent 超出上级 {parent_code}",
                        codes=[member.code, parent_code],
                        rows=[member.index],
                        area_m2=area,
                    )


@transaction.atomic
def _write(rows, parents, generation_name, generation, valid_from, synthetic, source, report) -> None:
    if generation is None:
        generation = Generation(name=generation_name, valid_from=valid_from or dt.date.today())
        generation.full_clean()
        generation.save()
    created: dict[tuple[str, str], Area] = {}
    # Parents first, so children in the same source can point at them.
    for row in sorted(rows, key=lambda r: list(AreaLevel.values).index(r.level)):
        parent = None
        if row.parent_code:
            parent_level = PARENT_LEVEL[row.level]
            parent = created.get((parent_level, row.parent_code)) or (
                Area.objects.in_generation(generation).get(level=parent_level, code=row.parent_code)
            )
        area = Area(
            generation_low=generation,
            generation_high=generation,
            level=row.level,
            code=row.code,
            name=row.name,
            parent=parent,
            geom=GEOSGeometry(memoryview(row.geom.wkb), srid=4326),
            synthetic=synthetic,
            source=source[-300:],
        )
        area.full_clean()
        area.save()
        created[(row.level, row.code)] = area
    report.pieces = area_pieces_rebuild(area_ids=[a.pk for a in created.values()])


def area_pieces_rebuild(*, area_ids: list[int]) -> int:
    """Recompute the subdivided lookup pieces of the given areas (raw SQL: ST_Subdivide has no ORM form)."""
    max_vertices = settings.SHAOZI["SUBDIVIDE_MAX_VERTICES"]
    AreaPiece.objects.filter(area_id__in=area_ids).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {AreaPiece._meta.db_table} (area_id, geom)
            SELECT id, ST_Subdivide(geom, %s) FROM {Area._meta.db_table} WHERE id = ANY(%s)
            """,
            [max_vertices, list(area_ids)],
        )
        return cursor.rowcount


@transaction.atomic
def departments_load(*, source: Path) -> int:
    """Create or update departments from a JSON file (city-wide bodies plus one per district role).

    Idempotent on `code`. District roles are instantiated for every district of the generation in force.
    """
    import json

    data = json.loads(Path(source).read_text(encoding="utf-8"))
    rows = [dict(item, district_code="") for item in data.get("city", [])]
    districts = Area.objects.current().filter(level=AreaLevel.DISTRICT).values_list("code", "name")
    for code, name in districts:
        for role in data.get("district_roles", []):
            rows.append(
                {
                    "code": f"{code}.{role['suffix']}",
                    "name": role["name"].format(district=name),
                    "role": role["role"],
                    "district_code": code,
                }
            )
    for row in rows:
        department = Department.objects.filter(code=row["code"]).first() or Department(code=row["code"])
        department.name, department.role, department.district_code = row["name"], row["role"], row["district_code"]
        department.full_clean()
        department.save()
    return len(rows)
