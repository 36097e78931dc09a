"""Full-layer exports: `?format=gpkg|fgb|csv|geojson` on the paged GeoJSON lists.

`ExportMixin` goes before `ListAPIView` in a list view's bases. With an export format the view's own queryset
(`get_queryset`, so the same filters and the same read scope as its pages) is read in chunks, every row through
the view's own serializer, and written with pyogrio (GDAL) to a temporary file that is streamed back and deleted.
Every matching row is written: there is no page and no silent cap. More rows than `SHAOZI["LIMITS"]
["EXPORT_ROWS"]` is a 413 `too_many_rows` naming the count and the limit, before anything is read. The answer says
the row count in `X-Total-Count` and names a file in `Content-Disposition`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile

import pyarrow as pa
import pyogrio
import shapely
from django.http import FileResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from rest_framework import renderers, serializers

from config.api import ApiError
from config.limits import limit

# format → (GDAL driver, file extension, media type, layer creation options)
FORMATS: dict[str, tuple[str, str, str, dict]] = {
    "gpkg": ("GPKG", "gpkg", "application/geopackage+sqlite3", {}),
    "fgb": ("FlatGeobuf", "fgb", "application/flatgeobuf", {}),
    # WKT geometry first (GDAL and QGIS read it back as geometry); a BOM so spreadsheet programs read UTF-8.
    "csv": ("CSV", "csv", "text/csv; charset=utf-8", {"GEOMETRY": "AS_WKT", "WRITE_BOM": "YES"}),
    # RFC 7946: WGS-84, exterior rings counter-clockwise, 7 decimals (≈ 1 cm) as the API's pages.
    "geojson": ("GeoJSON", "geojson", "application/geo+json", {"RFC7946": "YES", "COORDINATE_PRECISION": "7"}),
}
# Rows read from the database and serialized at a time.
CHUNK_ROWS = 2000


def export_format(request) -> str | None:
    """The export format a request asks for (`?format=`), or None for an ordinary page."""
    value = request.query_params.get("format") if hasattr(request, "query_params") else request.GET.get("format")
    return value if value in FORMATS else None


class ExportMixin:
    """`?format=gpkg|fgb|csv|geojson` on a list view: the whole filtered layer as one file (see the module).

    `export_name` names the file and the layer inside it; `export_private` marks a layer read within the caller's
    scope, whose file is `Cache-Control: private` and varies on `Cookie, Authorization`."""

    export_name: str = "layer"
    export_private: bool = False

    def perform_content_negotiation(self, request, force=False):
        # DRF reads `format` as a renderer's name (and answers 404 for an unknown one); an export format is ours,
        # and an error on the way (401, 400 for a bad filter, 413) is answered in JSON.
        if export_format(request) is not None:
            renderer = renderers.JSONRenderer()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def list(self, request, *args, **kwargs):
        fmt = export_format(request)
        if fmt is None:
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        response = export_response(
            queryset,
            fmt=fmt,
            name=self.export_name,
            serialize=lambda rows: self.get_serializer(rows, many=True).data,
            fields=self.get_serializer().fields,
        )
        if self.export_private:
            patch_cache_control(response, private=True, no_store=True)
            patch_vary_headers(response, ("Cookie", "Authorization"))
        return response


def export_response(queryset, *, fmt: str, name: str, serialize, fields=None) -> FileResponse:
    """Every row of `queryset` as one file in `fmt`, streamed from a temporary file that is already deleted.

    `serialize(rows)` turns a list of rows into a GeoJSON FeatureCollection (a serializer's `many=True` data);
    `fields` (the serializer's) let dates and date-times be written as such rather than as text."""
    driver, ext, media_type, layer_options = FORMATS[fmt]
    total = queryset.count()
    most = limit("EXPORT_ROWS")
    if total > most:
        raise ApiError(
            "too_many_rows",
            f"导出行数 {total} 超过上限 {most}，请缩小筛选范围 export of {total} rows exceeds the limit of {most}; "
            "narrow the filters or page through the list",
            {"count": total, "limit": most},
            413,
        )
    fields = fields or {}
    geo_field = getattr(getattr(getattr(fields, "serializer", None), "Meta", None), "geo_field", None)
    kinds = {
        name: "datetime" if isinstance(field, serializers.DateTimeField) else "date"
        for name, field in fields.items()
        if isinstance(field, (serializers.DateTimeField, serializers.DateField))
    }
    columns = [name for name in fields if name != geo_field]
    table, geometry_type, rows = _table(queryset, serialize, kinds, columns)
    with tempfile.TemporaryDirectory(prefix="shaozi-export-") as folder:
        path = os.path.join(folder, f"{name}.{ext}")
        pyogrio.write_arrow(
            table,
            path,
            layer=name,
            driver=driver,
            geometry_name="geometry",
            geometry_type=geometry_type,
            crs="EPSG:4326",
            encoding="UTF-8" if driver in ("CSV", "GeoJSON") else None,
            layer_options=layer_options or None,
        )
        # The open file outlives its directory: the data is freed when the response closes it.
        handle = open(path, "rb")
    filename = f"{name}-{timezone.localdate():%Y%m%d}.{ext}"
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=media_type)
    response["X-Total-Count"] = str(rows)
    return response


def _table(queryset, serialize, kinds: dict[str, str], columns: list[str]) -> tuple[pa.Table, str, int]:
    """An Arrow table (properties, then `geometry` as WKB), the layer's geometry type, and the number of rows.

    `kinds` names the date ("date") and date-time ("datetime") properties; `columns` are the properties of an
    empty layer."""
    chunks: list[pa.Table] = []
    geometries: list[str | None] = []
    rows: list = []

    def flush() -> None:
        if not rows:
            return
        data = serialize(rows)
        features = data["features"] if isinstance(data, dict) else data
        chunks.append(_chunk(features, geometries, kinds))
        rows.clear()

    for row in queryset.iterator(chunk_size=CHUNK_ROWS):
        rows.append(row)
        if len(rows) >= CHUNK_ROWS:
            flush()
    flush()
    geometry = shapely.from_geojson(geometries) if geometries else shapely.from_wkb([])
    geometry, geometry_type = _one_type(geometry)
    if chunks:
        table = pa.concat_tables(chunks, promote_options="permissive")
    else:  # no row: the serializer's fields still make the layer's columns
        names = ["id", *(name for name in columns if name != "id")]
        table = pa.table({name: pa.array([], pa.string()) for name in names})
    if pa.types.is_null(table.schema.field("id").type) and table.num_columns > 1:
        table = table.drop_columns(["id"])  # features without an id (ranked lots): their code is a property
    # A property null in every row has no type of its own: GDAL writes it as text.
    for index, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(index, pa.field(field.name, pa.string()), table.column(index).cast(pa.string()))
    table = table.append_column(
        pa.field("geometry", pa.binary(), metadata={b"ARROW:extension:name": b"geoarrow.wkb"}),
        pa.array(shapely.to_wkb(geometry), pa.binary()),
    )
    return table, geometry_type, len(geometries)


def _chunk(features: list[dict], geometries: list, kinds: dict[str, str]) -> pa.Table:
    columns: dict[str, list] = {"id": []}
    for number, feature in enumerate(features):
        properties = feature.get("properties") or {}
        columns["id"].append(feature.get("id"))
        for key, value in properties.items():
            if key == "id":
                continue
            column = columns.setdefault(key, [None] * number)
            column.append(json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value)
        for column in columns.values():  # a property this feature lacks
            if len(column) < number + 1:
                column.append(None)
        geometry = feature.get("geometry")
        geometries.append(json.dumps(geometry) if geometry else None)
    arrays = {}
    for key, values in columns.items():
        if kinds.get(key) == "datetime":
            arrays[key] = pa.array([_timestamp(v) for v in values], pa.timestamp("us", tz="UTC"))
            continue
        if kinds.get(key) == "date":
            arrays[key] = pa.array([dt.date.fromisoformat(v) if v else None for v in values], pa.date32())
            continue
        try:
            arrays[key] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds of values: text
            arrays[key] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(arrays)


def _timestamp(value) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _one_type(geometry):
    """One geometry type for the layer: Polygon with MultiPolygon (and the like) are written as Multi*."""
    kinds = {shapely.get_type_id(g) for g in geometry if g is not None}
    names = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}
    if len(kinds) == 1 and next(iter(kinds)) in names:
        return geometry, names[next(iter(kinds))]
    promote = {frozenset({0, 4}): shapely.MultiPoint, frozenset({1, 5}): shapely.MultiLineString}
    promote[frozenset({3, 6})] = shapely.MultiPolygon
    multi = promote.get(frozenset(kinds))
    if multi is None:
        return geometry, "Unknown"
    single = {shapely.MultiPoint: 0, shapely.MultiLineString: 1, shapely.MultiPolygon: 3}[multi]
    promoted = [multi([g]) if g is not None and shapely.get_type_id(g) == single else g for g in geometry]
    return promoted, names[single + 3]
