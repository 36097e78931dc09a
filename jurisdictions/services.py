"""Writes for jurisdictions: importing a boundary set as a generation, with validation first."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction
from django.utils import timezone

from geo import files, validation

from . import engine, topology
from .constants import CODE_LENGTHS, PARENT_LEVEL, AreaLevel
from .models import Area, AreaPiece, Building, BuildingShare, Department, Generation, Rule, VerdictRecord
from .topology import TopologyRow

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
    activate: bool = False,
    commit: bool = False,
) -> ImportReport:
    """Validate an OGR source of areas and, with `commit`, write it into `generation` in one transaction.

    Validation (always, before any write): invalid rings are repaired with make_valid and listed (warning);
    duplicate codes, missing or unreadable geometry, unknown parents, overlaps and gaps between siblings and
    children outside their parent above `tolerance_m2` are errors. With any error, nothing is written and
    BoundaryImportError carries the report. Subdivided lookup pieces and building shares are computed in the
    same transaction. A new generation stays inactive (lookups ignore it) until `activate` or
    `generation_activate`.
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
    _write(rows, parents, generation, existing_generation, valid_from, synthetic, str(source), report, activate)
    report.committed = True
    return report


def _read_rows(frame, *, fields: FieldMap, level: str | None, report: ImportReport) -> list[TopologyRow]:
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
        rows.append(TopologyRow(index, row_level, code, name, parent_code, geom))
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


def _resolve_parents(rows: list[TopologyRow], generation: Generation | None, report: ImportReport) -> dict[str, object]:
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


def _check_duplicates(rows: list[TopologyRow], generation: Generation | None, report: ImportReport) -> None:
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
    report.findings.extend(topology.coverage_findings(rows, parents, project, tolerance_m2))


@transaction.atomic
def _write(rows, parents, generation_name, generation, valid_from, synthetic, source, report, activate) -> None:
    if generation is None:
        generation = Generation(name=generation_name, valid_from=valid_from or timezone.localdate())
        generation.full_clean()
        generation.save()
    if activate and not generation.active:
        generation_activate(generation=generation, valid_from=generation.valid_from)
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
    building_shares_compute(generation=generation)


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


@transaction.atomic
def generation_activate(*, generation: Generation, valid_from: dt.date) -> Generation:
    """Put `generation` in force from `valid_from`; the generation in force before it ends that day.

    Earlier generations keep their areas and verdicts (nothing is deleted); a lookup `at` an earlier date
    still uses them.
    """
    previous = (
        Generation.objects.active()
        .exclude(pk=generation.pk)
        .filter(valid_from__lt=valid_from)
        .filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=valid_from))
    )
    for earlier in previous:
        earlier.valid_to = valid_from
        earlier.full_clean()
        earlier.save(update_fields=["valid_to"])
    generation.valid_from = valid_from
    generation.active = True
    generation.full_clean()
    generation.save(update_fields=["valid_from", "active"])
    return generation


def building_shares_compute(*, generation: Generation, building_ids: list[int] | None = None) -> int:
    """(Re)compute each building's share of footprint per area of `generation` (spheroid, equal-area).

    Intersections run on the subdivided pieces and are summed per area (raw SQL: one set-based statement).
    """
    shares = BuildingShare.objects.filter(generation=generation)
    if building_ids is not None:
        shares = shares.filter(building_id__in=building_ids)
    shares.delete()
    building_filter = "" if building_ids is None else "AND b.id = ANY(%(ids)s)"
    sql = f"""
        INSERT INTO {BuildingShare._meta.db_table} (building_id, generation_id, area_id, level, share, area_m2)
        SELECT b.id, %(generation)s, a.id, a.level,
               sum(ST_Area(ST_Intersection(b.geom, p.geom)::geography)) / ST_Area(b.geom::geography),
               sum(ST_Area(ST_Intersection(b.geom, p.geom)::geography))
          FROM {Building._meta.db_table} b
          JOIN {AreaPiece._meta.db_table} p ON p.geom && b.geom AND ST_Intersects(p.geom, b.geom)
          JOIN {Area._meta.db_table} a ON a.id = p.area_id
          JOIN {Generation._meta.db_table} lo ON lo.id = a.generation_low_id
          JOIN {Generation._meta.db_table} hi ON hi.id = a.generation_high_id
         WHERE lo.valid_from <= %(valid_from)s AND hi.valid_from >= %(valid_from)s {building_filter}
         GROUP BY b.id, a.id, a.level
        HAVING sum(ST_Area(ST_Intersection(b.geom, p.geom)::geography)) > 0
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"generation": generation.pk, "valid_from": generation.valid_from, "ids": building_ids})
        return cursor.rowcount


@dataclass
class BuildingImportReport:
    source: str
    committed: bool = False
    features: int = 0
    created: int = 0
    shares: int = 0
    findings: list[validation.Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[validation.Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def summary(self) -> str:
        head = "已写入 committed" if self.committed else "试运行，未写入 dry run, nothing written"
        lines = [
            f"{head} — {self.source}: {self.features} buildings, errors {len(self.errors)}, "
            f"warnings {len(self.findings) - len(self.errors)}" + (f", shares {self.shares}" * self.committed)
        ]
        lines += [f"  {f.severity.upper()} {f.kind} rows {f.rows}: {f.message}" for f in self.findings]
        return "\n".join(lines)


def buildings_import(
    *,
    source: str | Path,
    code_field: str = "code",
    name_field: str | None = "name",
    address_field: str | None = "address",
    crs: str | None = None,
    layer: str | int | None = None,
    synthetic: bool = False,
    commit: bool = False,
) -> BuildingImportReport:
    """Validate and (with `commit`) write building footprints, then their shares in every generation.

    Same habits as boundaries: invalid rings repaired and listed; missing code or geometry, duplicate codes
    (in the file or already stored) are errors; with any error nothing is written.
    """
    try:
        frame = files.read_wgs84(source, layer=layer, crs=crs)
    except files.SourceError as exc:
        raise BoundaryImportError(str(exc)) from exc
    if code_field not in frame.columns:
        raise BoundaryImportError(f"源数据缺少字段 source has no field {code_field!r}")
    report = BuildingImportReport(source=str(source), features=len(frame))
    rows, seen = [], {}
    for index, record in enumerate(frame.itertuples(index=False), start=1):
        values = record._asdict()
        code = _text(values.get(code_field))
        geom, reason = validation.repair(values.get(frame.geometry.name))
        if not code or geom is None:
            report.findings.append(
                validation.Finding("bad_feature", "error", "missing code or polygon 缺少编码或多边形", rows=[index])
            )
            continue
        if reason:
            report.findings.append(
                validation.Finding("invalid_ring", "warning", f"{code}: repaired 已修复: {reason}", [code], [index])
            )
        if code in seen:
            report.findings.append(
                validation.Finding(
                    "duplicate_code", "error", f"code {code} repeated 编码重复", [code], [seen[code], index]
                )
            )
            continue
        seen[code] = index
        rows.append((code, _text(values.get(name_field)) or "", _text(values.get(address_field)) or "", geom))
    for code in Building.objects.filter(code__in=list(seen)).values_list("code", flat=True):
        report.findings.append(
            validation.Finding(
                "duplicate_code", "error", f"building {code} already exists 已存在", [code], [seen[code]]
            )
        )
    if not commit:
        return report
    if report.errors:
        raise BoundaryImportError("验证发现错误，未写入 validation found errors; nothing was written", report)
    with transaction.atomic():
        created = []
        for code, name, address, geom in rows:
            building = Building(
                code=code,
                name=name[:200],
                address=address[:300],
                geom=GEOSGeometry(memoryview(geom.wkb), srid=4326),
                synthetic=synthetic,
                source=str(source)[-300:],
            )
            building.full_clean()
            building.save()
            created.append(building.pk)
        for generation in Generation.objects.all():
            report.shares += building_shares_compute(generation=generation, building_ids=created)
    report.created = len(created)
    report.committed = True
    return report


class RuleError(ValueError):
    """A rule that cannot be made (unknown areas, no place, bad dates)."""


@transaction.atomic
def rule_create(
    *,
    lead_code: str,
    co_handler_codes: list[str] | None = None,
    geom: GEOSGeometry | None = None,
    building: Building | None = None,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    reason: str,
    author: str,
    ruling_ref: str = "",
) -> Rule:
    """Make a jurisdiction rule: inside `geom` (or in `building`), `lead_code` leads and the others assist.

    The areas must exist in the generation in force on `valid_from`. Rules add rows; to change one, end it
    (`rule_end`) and make a new one.
    """
    co_handler_codes = [c for c in (co_handler_codes or []) if c and c != lead_code]
    if (geom is None) == (building is None):
        raise RuleError("规则需且仅需一个地点 a rule needs exactly one of a geometry or a building")
    if valid_to is not None and valid_to <= valid_from:
        raise RuleError("valid_to 须晚于 valid_from — a rule must end after it starts")
    generation = Generation.objects.in_force(valid_from)
    if generation is None:
        raise RuleError(f"{valid_from} 没有生效的边界版本 no boundary generation in force on that date")
    known = dict(
        Area.objects.in_generation(generation)
        .filter(code__in=[lead_code, *co_handler_codes])
        .values_list("code", "level")
    )
    missing = [c for c in [lead_code, *co_handler_codes] if c not in known]
    if missing:
        raise RuleError(f"边界版本 {generation.name} 中没有这些区划 unknown area codes: {', '.join(missing)}")
    if geom is not None:
        if geom.srid is None:
            geom.srid = 4326
        if geom.geom_type == "Polygon":
            geom = MultiPolygon(geom, srid=geom.srid)
        if geom.geom_type != "MultiPolygon":
            raise RuleError(f"规则地点须为多边形 rule place must be a polygon, not {geom.geom_type}")
        if geom.empty or geom.hasz or not geom.valid:
            raise RuleError(f"规则地点须为有效的二维多边形 rule place must be a valid 2D polygon: {geom.valid_reason}")
    rule = Rule(
        geom=geom,
        building=building,
        level=known[lead_code],
        lead_code=lead_code,
        co_handler_codes=co_handler_codes,
        valid_from=valid_from,
        valid_to=valid_to,
        reason=reason,
        author=author,
        ruling_ref=ruling_ref,
    )
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def rule_end(*, rule: Rule, valid_to: dt.date) -> Rule:
    """End a rule on `valid_to` (exclusive); its history stays."""
    rule.valid_to = valid_to
    rule.full_clean()
    rule.save(update_fields=["valid_to"])
    return rule


@transaction.atomic
def verdict_record(*, subject_ref: str, verdict, supersedes: VerdictRecord | None = None) -> VerdictRecord:
    """Store a verdict for `subject_ref` (e.g. "complaint:123"); `supersedes` links a re-resolution."""
    record = VerdictRecord(
        subject_ref=subject_ref,
        point=verdict.point,
        accuracy_m=verdict.accuracy_m,
        at=verdict.at,
        generation=verdict.generation,
        method=verdict.method,
        district_code=verdict.district.code if verdict.district else "",
        street_code=verdict.street.code if verdict.street else "",
        lead_code=verdict.lead.code if verdict.lead else "",
        needs_review=verdict.needs_review,
        result=verdict.as_dict(),
        supersedes=supersedes,
    )
    record.full_clean()
    record.save()
    return record


@dataclass
class ReresolveReport:
    """What re-resolving stored verdicts against another generation changed."""

    generation: str
    committed: bool = False
    checked: int = 0
    moved: list[dict] = field(default_factory=list)
    by_street: dict[str, dict[str, int]] = field(default_factory=dict)

    def summary(self) -> str:
        head = "已写入 committed" if self.committed else "试运行，未写入 dry run, nothing written"
        lines = [f"{head} — against {self.generation}: {self.checked} verdicts checked, {len(self.moved)} moved"]
        for street, counts in sorted(self.by_street.items()):
            lines.append(f"  {street}: -{counts['out']} +{counts['in']}")
        for item in self.moved[:50]:
            lines.append(f"  {item['subject_ref']}: {item['from'] or '—'} → {item['to'] or '—'}")
        if len(self.moved) > 50:
            lines.append(f"  … {len(self.moved) - 50} more")
        return "\n".join(lines)


def verdicts_reresolve(
    *, generation: Generation, subject_prefix: str = "", commit: bool = False, progress=None
) -> ReresolveReport:
    """Re-decide every current stored verdict against `generation` and report who would move.

    Dry run unless `commit`: then each changed verdict gets a new record superseding the old one (the old one
    stays). Rules apply as of each verdict's own date.
    """
    report = ReresolveReport(generation=generation.name)
    records = VerdictRecord.objects.not_superseded().exclude(generation=generation).order_by("id")
    if subject_prefix:
        records = records.filter(subject_ref__startswith=subject_prefix)
    changes = []
    chunk: list[VerdictRecord] = []

    def decide(records: list[VerdictRecord]) -> None:
        resolution = engine.resolve(
            [r.point.x for r in records],
            [r.point.y for r in records],
            at=np.array([r.at for r in records], dtype="datetime64[D]"),
            accuracy_m=np.array([r.accuracy_m if r.accuracy_m else np.nan for r in records], dtype=float),
            generation=generation,
        )
        for row, record in enumerate(records):
            verdict = resolution.verdict(row, input=record.result.get("input") or {})
            verdict.point = record.point
            report.checked += 1
            new_lead = verdict.lead.code if verdict.lead else ""
            if new_lead != record.lead_code:
                report.moved.append({"subject_ref": record.subject_ref, "from": record.lead_code, "to": new_lead})
                report.by_street.setdefault(record.lead_code or "—", {"out": 0, "in": 0})["out"] += 1
                report.by_street.setdefault(new_lead or "—", {"out": 0, "in": 0})["in"] += 1
            changes.append((record, verdict))
            if progress:
                progress(1)

    for record in records.iterator(chunk_size=500):
        chunk.append(record)
        if len(chunk) == 500:
            decide(chunk)
            chunk = []
    if chunk:
        decide(chunk)
    if commit:
        with transaction.atomic():
            for record, verdict in changes:
                verdict_record(subject_ref=record.subject_ref, verdict=verdict, supersedes=record)
        report.committed = True
    return report
