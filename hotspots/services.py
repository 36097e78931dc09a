"""Writes for hotspots: demo source data, analysis runs (one per layer computation) and fix plans."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.db import transaction
from django.utils import timezone
from pyproj import Geod

from complaints import permissions as complaint_permissions
from geo.errors import CodedError
from jurisdictions import engine
from jurisdictions.constants import Role
from jurisdictions.permissions import Scope, require

from . import demo, selectors
from .adapters import JointCaseUnavailable, joint_case_start
from .analysis import emerging as emerging_analysis
from .analysis import gistar, idle, repeats, siting
from .analysis.cells import cell_hex, cell_polygon, to_metric
from .constants import (
    FIX_KIND_ROLES,
    IDLE_LAND_ROLES,
    FixKind,
    FixPlanStatus,
    Layer,
    RepeatRule,
    SitingRule,
    Source,
)
from .models import (
    AnalysisRun,
    EmergingCell,
    FixPlan,
    HotspotCell,
    IdleLink,
    LotScore,
    Parcel,
    Park,
    PopulationCell,
    RepeatPlace,
)

Progress = Callable[[str], None]
_GEOD = Geod(ellps="WGS84")
BATCH = 2000


class HotspotsError(CodedError):
    """A request the hotspots services cannot carry out; the message is for the user."""


def _quiet(_message: str) -> None:
    return None


class _Timer:
    """Seconds per named step, kept for the run's `timings`."""

    def __init__(self, progress: Progress):
        self.timings: dict[str, float] = {}
        self.progress = progress

    @contextmanager
    def step(self, name: str):
        self.progress(f"{name} …")
        began = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - began, 3)
        self.progress(f"{name}: {self.timings[name]:.2f} s")


def _multipolygon(geom) -> MultiPolygon:
    geos = GEOSGeometry(shapely.to_wkt(geom), srid=4326)
    return geos if isinstance(geos, MultiPolygon) else MultiPolygon(geos, srid=4326)


def _area_m2(geom) -> float:
    return abs(_GEOD.geometry_area_perimeter(geom)[0])


def _verdict_street(point) -> tuple[str, str, str]:
    verdict = engine.lookup(point=Point(point.x, point.y, srid=4326)).as_dict()
    street = verdict.get("lead") or verdict.get("street") or {}
    district = verdict.get("district") or {}
    return street.get("code", "") or "", street.get("name", "") or "", district.get("code", "") or ""


# ---------------------------------------------------------------------------------------------------------------
# Source data
# ---------------------------------------------------------------------------------------------------------------


@transaction.atomic
def parcels_import(*, collection: dict, source: str = "", synthetic: bool = False) -> int:
    """Create or update parcels by code from a GeoJSON FeatureCollection (WGS-84); street from the verdict."""
    count = 0
    for feature in collection["features"]:
        props = feature["properties"]
        geom = shapely.geometry.shape(feature["geometry"])
        street_code, street_name, district_code = _verdict_street(geom.representative_point())
        parcel = Parcel.objects.filter(code=props["code"]).first() or Parcel(code=props["code"])
        parcel.name = props["name"]
        parcel.land_use = props.get("land_use", "")
        parcel.status = props["status"]
        parcel.idle_since = dt.date.fromisoformat(props["idle_since"]) if props.get("idle_since") else None
        parcel.owner_type = props.get("owner_type") or "unknown"
        parcel.address = props.get("address", "")
        parcel.note = props.get("note", "")
        parcel.geom = _multipolygon(geom)
        parcel.area_m2 = round(_area_m2(geom), 1)
        parcel.street_code, parcel.street_name, parcel.district_code = street_code, street_name, district_code
        parcel.synthetic = bool(props.get("synthetic", synthetic))
        parcel.source = source
        parcel.full_clean()
        parcel.save()
        count += 1
    return count


@transaction.atomic
def parks_import(*, collection: dict, source: str = "", synthetic: bool = False) -> int:
    """Create or update parks by code from a GeoJSON FeatureCollection (WGS-84)."""
    count = 0
    for feature in collection["features"]:
        props = feature["properties"]
        geom = shapely.geometry.shape(feature["geometry"])
        park = Park.objects.filter(code=props["code"]).first() or Park(code=props["code"])
        park.name = props["name"]
        park.kind = props.get("kind", "")
        park.geom = _multipolygon(geom)
        park.area_m2 = round(_area_m2(geom), 1)
        park.synthetic = bool(props.get("synthetic", synthetic))
        park.source = source
        park.full_clean()
        park.save()
        count += 1
    return count


@transaction.atomic
def population_import(*, frame: pd.DataFrame, synthetic: bool = False) -> int:
    """Replace the population grid with `frame` (h3, residents): residents per H3 cell."""
    import h3

    PopulationCell.objects.all().delete()
    cells = []
    for code, residents in zip(frame["h3"], frame["residents"], strict=True):
        lat, lon = h3.cell_to_latlng(code)
        cell = PopulationCell(
            h3=code,
            resolution=h3.get_resolution(code),
            residents=float(residents),
            point=Point(lon, lat, srid=4326),
            synthetic=synthetic,
        )
        cells.append(cell)
    PopulationCell.objects.bulk_create(cells, batch_size=BATCH)
    return len(cells)


def demo_data_load(*, progress: Progress = _quiet) -> dict:
    """Load the synthetic demo parcels, parks and population grid from fixtures/hotspots/ (idempotent)."""
    source = "fixtures/hotspots (synthetic)"
    counts = {
        "parcels": parcels_import(collection=demo.load_parcels(), source=source, synthetic=True),
        "parks": parks_import(collection=demo.load_parks(), source=source, synthetic=True),
        "population_cells": population_import(frame=demo.load_population(), synthetic=True),
    }
    progress(f"parcels {counts['parcels']}, parks {counts['parks']}, population cells {counts['population_cells']}")
    return counts


# ---------------------------------------------------------------------------------------------------------------
# Complaints in, runs out
# ---------------------------------------------------------------------------------------------------------------


def complaints_load(
    *, source: str, start: dt.date | None = None, end: dt.date | None = None, category: str | None = None
) -> pd.DataFrame:
    """The complaints frame of `source` (complaints app, or the synthetic demo), in [start, end], of `category`."""
    if source == Source.COMPLAINTS:
        from .adapters import ComplaintsUnavailable, complaints_frame

        try:
            frame = complaints_frame(start=start, end=end, category=category)
        except ComplaintsUnavailable as exc:
            raise HotspotsError("complaints_unavailable", str(exc)) from exc
        return frame
    if source != Source.SYNTHETIC:
        raise HotspotsError("invalid_source", f"未知数据源 unknown source {source!r}", {"source": source})
    frame = demo.synthetic_complaints()
    local = frame["received_at"].dt.tz_convert("Asia/Shanghai").dt.date
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= local >= start
    if end is not None:
        keep &= local <= end
    if category:
        keep &= frame["category_code"].str.startswith(category)
    return frame[keep].reset_index(drop=True)


def _run_start(layer: str, *, source: str, start: dt.date, end: dt.date, category: str, params: dict, by: str):
    run = AnalysisRun(
        layer=layer, source=source, period_start=start, period_end=end, category=category or "", params=params, by=by
    )
    run.full_clean()
    run.save()
    return run


def _run_finish(run: AnalysisRun, *, summary: dict, timings: dict) -> AnalysisRun:
    run.summary = summary
    run.timings = timings
    run.finished_at = timezone.now()
    run.full_clean()
    run.save()
    return run


def _cell_geom(cell) -> Polygon:
    return Polygon(cell_polygon(cell), srid=4326)


@transaction.atomic
def repeat_places_compute(
    *,
    frame: pd.DataFrame,
    period_end: dt.date,
    rule: RepeatRule | None = None,
    category: str = "",
    source: str = Source.COMPLAINTS,
    by: str = "",
    progress: Progress = _quiet,
) -> AnalysisRun:
    """Compute repeat places over the rule's window ending on `period_end` and store them as a new run."""
    rule = rule or RepeatRule()
    timer = _Timer(progress)
    start = period_end - dt.timedelta(days=rule.window_days - 1)
    params = {"rule": rule.__dict__, "rule_text": rule.describe()}
    run = _run_start(
        Layer.REPEAT_PLACES, source=source, start=start, end=period_end, category=category, params=params, by=by
    )
    with timer.step("parcels"):
        parcels = list(Parcel.objects.values_list("code", "geom"))
        if parcels and not frame.empty:
            frame = frame.copy()
            frame["parcel_code"] = idle.parcel_of_points(
                frame, [c for c, _ in parcels], [shapely.from_wkb(bytes(g.wkb)) for _, g in parcels]
            )
    with timer.step("repeat places"):
        end = pd.Timestamp(dt.datetime.combine(period_end, dt.time.max), tz="Asia/Shanghai")
        places = repeats.repeat_places(frame, rule=rule, end=end)
    with timer.step("departments and save"):
        cache: dict[tuple[str, str], list[dict]] = {}
        rows = []
        for place in places.itertuples(index=False):
            key = (place.department_role, place.district_code)
            if key not in cache:
                cache[key] = (
                    selectors.departments_for([place.department_role], district_code=place.district_code)
                    if place.department_role
                    else []
                )
            rows.append(
                RepeatPlace(
                    run=run,
                    category_code=place.category_code,
                    category_name=place.category_name,
                    place_kind=place.place_kind,
                    place_key=place.place_key,
                    point=Point(place.lon, place.lat, srid=4326),
                    count=place.count,
                    first_at=place.first_at.to_pydatetime(),
                    last_at=place.last_at.to_pydatetime(),
                    span_days=round(place.span_days, 2),
                    chronic=place.chronic,
                    failed_fix=place.failed_fix,
                    failed_fix_count=place.failed_fix_count,
                    street_code=place.street_code,
                    street_name=place.street_name,
                    district_code=place.district_code,
                    department_role=place.department_role,
                    departments=cache[key],
                    complaint_refs=place.refs,
                )
            )
        RepeatPlace.objects.bulk_create(rows, batch_size=BATCH)
    summary = {
        "complaints": len(frame),
        "repeat_places": len(places),
        "chronic": int(places["chronic"].sum()) if len(places) else 0,
        "failed_fix": int(places["failed_fix"].sum()) if len(places) else 0,
    }
    return _run_finish(run, summary=summary, timings=timer.timings)


def _population() -> dict[int, float]:
    import h3

    return {h3.str_to_int(c): r for c, r in PopulationCell.objects.values_list("h3", "residents")}


@transaction.atomic
def hotspots_compute(
    *,
    frame: pd.DataFrame,
    period_start: dt.date,
    period_end: dt.date,
    resolution: int | str = 9,
    band_m: float | None = None,
    per_residents: bool = False,
    category: str = "",
    source: str = Source.COMPLAINTS,
    by: str = "",
    progress: Progress = _quiet,
) -> AnalysisRun:
    """Gi* hot spots of the frame's complaints, stored as a new run with the scale that was chosen."""
    timer = _Timer(progress)
    params = {"resolution": resolution, "band_m": band_m, "per_residents": per_residents}
    run = _run_start(
        Layer.HOTSPOTS, source=source, start=period_start, end=period_end, category=category, params=params, by=by
    )
    with timer.step("Gi* + FDR"):
        try:
            result = gistar.hot_spots(
                frame["lon"].to_numpy(),
                frame["lat"].to_numpy(),
                resolution=resolution,
                band_m=band_m,
                population=_population() if per_residents else None,
                per_residents=per_residents,
            )
        except gistar.InsufficientData as exc:
            raise HotspotsError("insufficient_data", str(exc)) from exc
    _cells_save(
        timer,
        result.cells,
        model=HotspotCell,
        at=period_end,
        make=lambda row, **place: HotspotCell(
            run=run,
            count=int(row.count),
            residents=float(row.residents),
            value=float(row.value),
            z=float(row.z),
            p=float(row.p),
            bin=int(row.bin),
            **place,
        ),
    )
    run.params = {**params, "result": result.summary()}
    return _run_finish(run, summary=result.summary(), timings=timer.timings)


def _cells_save(timer: _Timer, cells: pd.DataFrame, *, model, at: dt.date, make) -> None:
    """Store an analysis' H3 cells as `model` rows: `make(row, h3=, geom=, street_code=)` builds each; the street is
    the one holding the cell's centre on `at`."""
    with timer.step("streets"):
        streets = selectors.streets_at(cells["lon"], cells["lat"], at=at)
    with timer.step("save"):
        hexes = cell_hex(cells["cell"].to_numpy())
        rows = [
            make(row, h3=hexes[i], geom=_cell_geom(row.cell), street_code=streets[i][0])
            for i, row in enumerate(cells.itertuples(index=False))
        ]
        model.objects.bulk_create(rows, batch_size=BATCH)


@transaction.atomic
def emerging_compute(
    *,
    frame: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    start: dt.date,
    n_steps: int = 52,
    step: str = "week",
    resolution: int = 9,
    band_m: float | None = None,
    category: str = "",
    source: str = Source.COMPLAINTS,
    by: str = "",
    progress: Progress = _quiet,
) -> AnalysisRun:
    """Emerging hot spots over `n_steps` weeks/months from `start`, stored as a new run.

    From the complaints `frame`, or from `counts` already aggregated per cell and step (columns `cell`, `step`,
    `count`: the Dask groupby over an archive, `hotspots.cube.archive_cube`) — the same analysis either way.
    """
    timer = _Timer(progress)
    if step == "week":
        end = start + dt.timedelta(weeks=n_steps) - dt.timedelta(days=1)
    else:
        end = (pd.Timestamp(start) + pd.DateOffset(months=n_steps) - pd.Timedelta(days=1)).date()
    params = {"n_steps": n_steps, "step": step, "resolution": resolution, "band_m": band_m}
    run = _run_start(Layer.EMERGING, source=source, start=start, end=end, category=category, params=params, by=by)
    with timer.step("space-time cube, Gi*, Mann-Kendall"):
        try:
            if counts is not None:
                result = emerging_analysis.emerging_from_counts(
                    counts["cell"].to_numpy(),
                    counts["step"].to_numpy(),
                    counts["count"].to_numpy(),
                    start=pd.Timestamp(start, tz="Asia/Shanghai"),
                    n_steps=n_steps,
                    step=step,
                    resolution=resolution,
                    band_m=band_m,
                )
            else:
                result = emerging_analysis.emerging_hot_spots(
                    frame["lon"].to_numpy(),
                    frame["lat"].to_numpy(),
                    frame["received_at"],
                    start=pd.Timestamp(start, tz="Asia/Shanghai"),
                    n_steps=n_steps,
                    step=step,
                    resolution=resolution,
                    band_m=band_m,
                )
        except gistar.InsufficientData as exc:
            raise HotspotsError("insufficient_data", str(exc)) from exc
    _cells_save(
        timer,
        result.cells,
        model=EmergingCell,
        at=end,
        make=lambda row, **place: EmergingCell(
            run=run,
            pattern=row.pattern,
            trend_z=float(row.trend_z),
            trend_p=float(row.trend_p),
            hot_steps=int(row.hot_steps),
            cold_steps=int(row.cold_steps),
            count=int(row.count),
            recent_count=int(row.recent_count),
            z_series=[float(v) for v in row.z_series],
            **place,
        ),
    )
    run.params = {**params, "settings": result.settings}
    return _run_finish(run, summary=result.summary(), timings=timer.timings)


@transaction.atomic
def idle_lots_compute(
    *,
    frame: pd.DataFrame,
    period_end: dt.date,
    rule: SitingRule | None = None,
    source: str = Source.COMPLAINTS,
    by: str = "",
    progress: Progress = _quiet,
) -> AnalysisRun:
    """Link idle-land complaints to lots, count them per lot per year, and rank the lots for parks (new run)."""
    rule = rule or SitingRule()
    timer = _Timer(progress)
    start = dt.date(period_end.year - rule.complaint_years + 1, 1, 1)
    params = {
        "rule": {**rule.__dict__, "radius_m": round(rule.radius_m, 1)},
        "rule_text": rule.describe(),
        "idle_land_roles": [
            {
                "role": r.role,
                "label": r.label,
                "codes": list(r.code_prefixes),
                "patterns": list(r.name_patterns),
                "radius_m": r.radius_m,
                "departments": list(r.department_roles),
            }
            for r in IDLE_LAND_ROLES
        ],
    }
    run = _run_start(Layer.IDLE_LOTS, source=source, start=start, end=period_end, category="", params=params, by=by)
    lots = list(Parcel.objects.candidates().order_by("code"))
    if not lots:
        raise HotspotsError("no_parcels", "没有闲置或空置地块 no idle or vacant parcels to rank")
    lot_geoms = [shapely.from_wkb(bytes(p.geom.wkb)) for p in lots]
    with timer.step("link complaints"):
        local = frame["received_at"].dt.tz_convert("Asia/Shanghai").dt.date
        window = frame[(local >= start) & (local <= period_end)]
        links = idle.link_to_parcels(window, [p.code for p in lots], lot_geoms)
        per_year = idle.counts_per_year(links)
    with timer.step("residents and parks"):
        population = list(PopulationCell.objects.values_list("point", "residents"))
        if population:
            px, py = to_metric([p.x for p, _ in population], [p.y for p, _ in population])
            residents_xy = np.column_stack([px, py])
            residents = np.array([r for _, r in population], dtype=float)
        else:
            residents_xy, residents = np.empty((0, 2)), np.empty(0)
        parks = idle.metric_geometries([shapely.from_wkb(bytes(p.geom.wkb)) for p in Park.objects.all()])
    with timer.step("greedy ranking"):
        metric = idle.metric_geometries(lot_geoms)
        candidates = [
            siting.Lot(
                code=p.code,
                geom_m=metric[i],
                complaints=float(sum(per_year.get(p.code, {}).values())),
                area_m2=p.area_m2,
                years_idle=max(0.0, (period_end - p.idle_since).days / 365.25) if p.idle_since else 0.0,
            )
            for i, p in enumerate(lots)
        ]
        ranking = siting.rank_lots(candidates, residents_xy, residents, list(parks), rule)
    with timer.step("save"):
        by_code = {p.code: p for p in lots}
        LotScore.objects.bulk_create(
            [
                LotScore(
                    run=run,
                    parcel=by_code[row["code"]],
                    rank=row["rank"],
                    score=row["score"],
                    residents_new=row["residents_new"],
                    residents_new_alone=row["residents_new_alone"],
                    complaints=int(row["complaints"]),
                    complaints_by_year=per_year.get(row["code"], {}),
                    years_idle=row["years_idle"],
                    figures=row,
                )
                for row in ranking
            ]
        )
        IdleLink.objects.bulk_create(
            [
                IdleLink(
                    run=run,
                    parcel=by_code[link.parcel_code],
                    complaint_ref=link.ref,
                    role=link.role,
                    category_code=link.category_code,
                    category_name=link.category_name,
                    received_at=pd.Timestamp(link.received_at).to_pydatetime(),
                    distance_m=float(link.distance_m),
                )
                for link in links.itertuples(index=False)
            ],
            batch_size=BATCH,
        )
    summary = {"lots": len(ranking), "links": len(links), "top": [r["code"] for r in ranking[:5]]}
    return _run_finish(run, summary=summary, timings=timer.timings)


# ---------------------------------------------------------------------------------------------------------------
# Fix plans
# ---------------------------------------------------------------------------------------------------------------


def _fix_departments(kind: str, roles: list[str], district_code: str) -> list[dict]:
    """Departments to summon: those of the linked complaints' roles, then those the kind of fix needs."""
    why: dict[str, str] = {}
    for spec in IDLE_LAND_ROLES:
        if spec.role in roles:
            for department_role in spec.department_roles:
                why.setdefault(department_role, spec.label)
    for department_role in FIX_KIND_ROLES.get(kind, ()):
        why.setdefault(department_role, dict(FixKind.choices)[kind])
    found = selectors.departments_for(list(why), district_code=district_code)
    return [{**d, "why": why[d["role"]]} for d in found]


def may_write_plan(scope: Scope, street_code: str) -> bool:
    """Fix plans are written by planners and city administrators, or by district/street staff for their own
    streets."""
    return scope.role in (Role.ADMIN, Role.PLANNER) or (
        scope.role in (Role.DISTRICT, Role.STREET) and bool(street_code) and scope.covers(street_code)
    )


def check_plan_writer(by: Any, street_code: str) -> None:
    """Refuse (ScopeDenied, saying why) anyone who may not write a fix plan for `street_code`; the system principal
    may; `None` or a user name as text is a TypeError (complaints.permissions.actor_scope)."""
    scope = complaint_permissions.actor_scope(by)
    if scope is None:
        return
    require(
        may_write_plan(scope, street_code),
        scope,
        "无权编辑该整治方案：需规划人员、市级管理员或所在区/街道工作人员 — not allowed to write this fix plan",
        street=street_code,
    )


@transaction.atomic
def fix_plan_create(
    *, parcel: Parcel, by: Any, kind: str = FixKind.COMMUNITY_SPORTS_PARK, title: str | None = None
) -> FixPlan:
    """A fix plan for `parcel` from the latest ranking run: residents served, complaints settled, whom to summon.

    `by` is the user making it (or complaints' system principal); `check_plan_writer` decides who may.
    """
    check_plan_writer(by, parcel.street_code)
    if kind not in FixKind.values:
        raise HotspotsError("invalid_kind", f"方案类型无效 kind must be one of {', '.join(FixKind.values)}")
    run = selectors.run_get(layer=Layer.IDLE_LOTS)
    score = LotScore.objects.filter(run=run, parcel=parcel).first() if run else None
    links = list(IdleLink.objects.filter(run=run, parcel=parcel).order_by("received_at")) if run else []
    complaints = [
        {
            "ref": link.complaint_ref,
            "category_code": link.category_code,
            "category_name": link.category_name,
            "role": link.role,
            "received_at": link.received_at.isoformat(),
            "distance_m": link.distance_m,
        }
        for link in links
    ]
    roles = sorted({link.role for link in links})
    plan = FixPlan(
        parcel=parcel,
        kind=kind,
        title=title or f"{parcel.name}：{dict(FixKind.choices)[kind].split(' ')[0]}",
        status=FixPlanStatus.DRAFT,
        street_code=parcel.street_code,
        street_name=parcel.street_name,
        district_code=parcel.district_code,
        residents_served=score.residents_new_alone if score else 0.0,
        complaints=complaints,
        departments=_fix_departments(kind, roles, parcel.district_code),
        evidence={
            "run": run.pk if run else None,
            "rank": score.rank if score else None,
            "figures": score.figures if score else {},
            "complaints_by_year": score.complaints_by_year if score else {},
            "rule": run.params.get("rule_text") if run else "",
        },
        by=str(by) if complaint_permissions.is_system(by) else by.get_username(),
    )
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def fix_plan_status_set(*, plan: FixPlan, status: str, by: str = "") -> FixPlan:
    """Move a fix plan to `status` (草拟 → 已提出 → 已批准 → 实施中 → 已完成, or 未采纳)."""
    if status not in FixPlanStatus.values:
        raise HotspotsError("invalid_status", f"状态无效 status must be one of {', '.join(FixPlanStatus.values)}")
    plan.status = status
    plan.by = by or plan.by
    plan.updated_at = timezone.now()
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def fix_plan_joint_case_start(*, plan: FixPlan, by: Any) -> FixPlan:
    """Blow the whistle (吹哨): start a joint case summoning the plan's departments, when the workflow exists.

    `by` is the user acting (or complaints' explicit system principal); the complaints app checks that they may
    blow the whistle for the plan's street and refuses anyone else (a planner included) with ScopeDenied.
    """
    if plan.joint_case_ref:
        return plan
    try:
        plan.joint_case_ref = joint_case_start(
            title=plan.title,
            street_code=plan.street_code,
            department_codes=[d["code"] for d in plan.departments if d.get("code")],
            refs=[c["ref"] for c in plan.complaints],
            by=by,
        )
    except JointCaseUnavailable as exc:
        raise HotspotsError("joint_case_unavailable", str(exc)) from exc
    plan.updated_at = timezone.now()
    plan.full_clean()
    plan.save()
    return plan
