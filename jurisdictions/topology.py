"""Topology checks shared by the importer (before writing) and the validator (on a stored generation)."""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from geo import validation

# Gaps and overlaps thinner than this isoperimetric quotient are reported as slivers (digitising artefacts).
SLIVER_THINNESS = 0.05


@dataclass
class TopologyRow:
    """One area as the checks see it: where it came from (row or id), its codes and its WGS-84 geometry."""

    index: int
    level: str
    code: str
    name: str
    parent_code: str | None
    geom: object


def coverage_findings(
    rows: list[TopologyRow],
    parents: dict[str, object],
    project: validation.MetricProjector,
    tolerance_m2: float,
) -> list[validation.Finding]:
    """Overlaps and gaps between siblings, and children outside their parent, each above `tolerance_m2`.

    Siblings are areas of one level with the same parent (or no parent). Thin gaps and overlaps are reported
    as kind `sliver` (still errors). Every finding carries its geometry.
    """
    findings = []
    groups: dict[tuple[str, str | None], list[TopologyRow]] = {}
    for row in rows:
        groups.setdefault((row.level, row.parent_code), []).append(row)
    for (level, parent_code), members in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        geoms = [m.geom for m in members]
        for i, j, area, overlap in validation.sibling_overlaps(geoms, project, tolerance_m2):
            a, b = members[i], members[j]
            findings.append(
                validation.Finding(
                    _kind("overlap", overlap, project),
                    "error",
                    f"{a.code} {a.name} overlaps 重叠 {b.code} {b.name}",
                    codes=[a.code, b.code],
                    rows=[a.index, b.index],
                    area_m2=area,
                    geometry=overlap,
                )
            )
        parent = parents.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            continue  # reported as missing_parent by the caller
        for gap, area in validation.coverage_gaps(geoms, project, tolerance_m2, parent=parent):
            point = gap.representative_point()
            where = f"under {parent_code}" if parent_code else f"among {level} areas"
            findings.append(
                validation.Finding(
                    _kind("gap", gap, project),
                    "error",
                    f"gap 缝隙 {where} near {point.x:.6f},{point.y:.6f}",
                    codes=[parent_code] if parent_code else [],
                    area_m2=area,
                    geometry=gap,
                )
            )
        if parent is not None:
            for member in members:
                beyond = validation.outside(member.geom, parent, project, tolerance_m2)
                if beyond:
                    findings.append(
                        validation.Finding(
                            "outside_parent",
                            "error",
                            f"{member.code} {member.name} lies partly outside its parent 超出上级 {parent_code}",
                            codes=[member.code, parent_code],
                            rows=[member.index],
                            area_m2=beyond[1],
                            geometry=beyond[0],
                        )
                    )
    return findings


def _kind(kind: str, geom, project: validation.MetricProjector) -> str:
    parts = validation.polygonal(geom)
    if parts is not None and all(validation.thinness(p, project) < SLIVER_THINNESS for p in parts.geoms):
        return "sliver"
    return kind


def findings_geojson(findings: list[validation.Finding]) -> dict:
    """A FeatureCollection of findings (RFC 7946): geometry where known, the rest as properties."""
    features = []
    for finding in findings:
        geometry = None if finding.geometry is None else shapely.geometry.mapping(finding.geometry)
        features.append({"type": "Feature", "geometry": geometry, "properties": finding.as_dict()})
    return {"type": "FeatureCollection", "features": features}
