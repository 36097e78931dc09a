from rest_framework import serializers


class GeocodeCandidateSerializer(serializers.Serializer):
    """One geocoder candidate (WGS-84)."""

    lon = serializers.FloatField(help_text="经度 longitude, WGS-84")
    lat = serializers.FloatField(help_text="纬度 latitude, WGS-84")
    confidence = serializers.FloatField(help_text="置信度 0–1")
    radius_m = serializers.FloatField(help_text="不确定半径（米）uncertainty radius from confidence and place size")
    label = serializers.CharField(help_text="e.g. 丰台区 刘家窑南里 5号楼")
    kind = serializers.ChoiceField(
        choices=["road", "compound", "building", "poi", "community", "street", "district", "grid"],
        help_text="grid = a house number placed on a road by (synthetic) numbering",
    )
    district = serializers.CharField(allow_null=True, help_text="区 district name, e.g. 丰台区")
    street = serializers.CharField(allow_null=True, help_text="街道/乡镇 street or township name")
    place_id = serializers.IntegerField(allow_null=True, help_text="gazetteer place id")
    parsed = serializers.DictField(help_text="解析结果 the parsed address parts")
    match = serializers.ChoiceField(
        choices=["exact", "typo", "fuzzy", "admin", "nearest"],
        help_text="exact name, one-typo name, pg_trgm similarity, the named street/district only, nearest place",
    )
    synthetic = serializers.BooleanField(help_text="position from synthetic demo data (numbering, layout)")
    distance_m = serializers.FloatField(allow_null=True, help_text="reverse only: metres from the asked point")


class GeocodeResponseSerializer(serializers.Serializer):
    """Geocoding answer: the query, how it was parsed, and the candidates best first (empty when none)."""

    query = serializers.CharField()
    parsed = serializers.DictField()
    candidates = GeocodeCandidateSerializer(many=True)


class ReverseResponseSerializer(serializers.Serializer):
    """Reverse geocoding answer: the WGS-84 point used and the nearest places, nearest first."""

    point = serializers.DictField(help_text="{lon, lat, crs: wgs84, input: {lon, lat, crs}}")
    candidates = GeocodeCandidateSerializer(many=True)
