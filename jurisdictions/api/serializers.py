import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from jurisdictions.models import Area


@extend_schema_field(OpenApiTypes.OBJECT)
class GeoJsonTextField(serializers.Field):
    """A geometry PostGIS already rendered as GeoJSON text (see AreaQuerySet.with_geojson)."""

    def to_representation(self, value) -> dict:
        return json.loads(value)


class AreaFeatureSerializer(GeoFeatureModelSerializer):
    """An area as a GeoJSON Feature (RFC 7946, WGS-84); the id is the area code."""

    parent = serializers.CharField(source="parent.code", default=None, read_only=True, allow_null=True)
    parent_name = serializers.CharField(source="parent.name", default=None, read_only=True, allow_null=True)
    geom = GeoJsonTextField(source="geojson", read_only=True)
    label_point = serializers.SerializerMethodField(help_text="[lon, lat] of a point inside the area, for labels")

    class Meta:
        model = Area
        geo_field = "geom"
        id_field = "code"
        fields = ("code", "name", "level", "parent", "parent_name", "synthetic", "label_point")

    def to_representation(self, instance) -> dict:
        feature = super().to_representation(instance)
        feature["properties"] = {"code": feature["id"], **feature["properties"]}
        box = geojson_bbox(feature.get("geometry"))
        if box is not None:  # RFC 7946 §5, before the geometry as the RFC's examples have it
            feature = {"type": feature["type"], "id": feature["id"], "bbox": box, **feature}
        return feature

    def get_label_point(self, area) -> list[float] | None:
        point = getattr(area, "label_point", None)
        return None if point is None else [round(point.x, 7), round(point.y, 7)]


def geojson_bbox(geometry: dict | None) -> list[float] | None:
    """[minlon, minlat, maxlon, maxlat] of a GeoJSON geometry's coordinates (RFC 7946 §5), or None when empty."""
    if not geometry:
        return None
    xs: list[float] = []
    ys: list[float] = []
    stack = [geometry.get("coordinates")]
    while stack:
        item = stack.pop()
        if item and isinstance(item[0], (int, float)):
            xs.append(item[0])
            ys.append(item[1])
        elif item:
            stack.extend(item)
    return [min(xs), min(ys), max(xs), max(ys)] if xs else None


class JurisdictionQuerySerializer(serializers.Serializer):
    lon = serializers.CharField(help_text="经度 longitude")
    lat = serializers.CharField(help_text="纬度 latitude")
    crs = serializers.ChoiceField(choices=["wgs84", "gcj02", "bd09", "cgcs2000"], default="wgs84")
    at = serializers.DateField(required=False, help_text="YYYY-MM-DD: the boundary generation in force that day")


class AreaRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class VerdictSerializer(serializers.Serializer):
    """Schema of the jurisdiction verdict (for the OpenAPI document)."""

    point = serializers.JSONField(help_text="GeoJSON Point, WGS-84")
    input = serializers.JSONField(help_text="the coordinates and system as given")
    at = serializers.DateField(help_text="the date the verdict is for")
    generation = serializers.JSONField(
        allow_null=True, help_text="boundary generation used: name, valid_from, valid_to"
    )
    method = serializers.ChoiceField(choices=["rule", "building", "point", "uncertain", "outside"])
    district = AreaRefSerializer(allow_null=True)
    street = AreaRefSerializer(allow_null=True)
    community = AreaRefSerializer(allow_null=True)
    lead = AreaRefSerializer(allow_null=True, help_text="主办 the office that leads")
    co_handlers = AreaRefSerializer(many=True, help_text="协办 offices that assist")
    on_boundary = serializers.BooleanField(help_text="the point lies on an edge shared by several areas")
    accuracy_m = serializers.FloatField(allow_null=True)
    candidates = serializers.ListField(
        child=serializers.JSONField(),
        help_text="areas considered: code, name, level, parent, share|fraction, distance_m",
    )
    needs_review = serializers.BooleanField(help_text="a person should confirm (edge, circle split, outside)")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="zh-Hans explanations")
    rule = serializers.JSONField(allow_null=True, help_text="the rule applied, if any")
    building = serializers.JSONField(allow_null=True, help_text="the building that decided, if any")
