from rest_framework import serializers


class CandidateAreaSerializer(serializers.Serializer):
    """An area a candidate lies in, as the jurisdiction engine names it (the same code and name as a verdict)."""

    code = serializers.CharField(
        allow_null=True, help_text="区划代码 GB/T 2260 code (6 digits district, 9 street); null: gazetteer label only"
    )
    name = serializers.CharField(help_text="名称 name, e.g. 丰台区 / 东铁匠营街道")


class StatedAreaConflictSerializer(serializers.Serializer):
    """The area the address names, and the one the candidate lies in instead."""

    stated = serializers.CharField(help_text="地址所写 the name in the address, e.g. 海淀区")
    found = CandidateAreaSerializer(allow_null=True, help_text="实际所在 where the candidate lies")


class CandidateConflictSerializer(serializers.Serializer):
    """Address/area conflict: each level the address states and the candidate lies outside."""

    district = StatedAreaConflictSerializer(required=False)
    street = StatedAreaConflictSerializer(required=False)


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
    district = CandidateAreaSerializer(
        allow_null=True, help_text="区 the district the point lies in, from the jurisdiction engine: {code, name}"
    )
    street = CandidateAreaSerializer(
        allow_null=True, help_text="街道/乡镇 the street or township the point lies in (null for a district answer)"
    )
    place_id = serializers.IntegerField(allow_null=True, help_text="gazetteer place id")
    parsed = serializers.DictField(help_text="解析结果 the parsed address parts")
    match = serializers.ChoiceField(
        choices=["exact", "typo", "fuzzy", "admin", "nearest"],
        help_text="exact name, one-typo name, pg_trgm similarity, the named street/district only, nearest place",
    )
    synthetic = serializers.BooleanField(help_text="position from synthetic demo data (numbering, layout)")
    distance_m = serializers.FloatField(allow_null=True, help_text="reverse only: metres from the asked point")
    conflict = CandidateConflictSerializer(
        allow_null=True,
        help_text="地址与位置不符 the district/street the address states and the candidate lies outside; null if none",
    )
    needs_review = serializers.BooleanField(help_text="需人工核实 true when there is a conflict")


class GeocodeResponseSerializer(serializers.Serializer):
    """Geocoding answer: the query, how it was parsed, and the candidates best first (empty when none)."""

    query = serializers.CharField()
    parsed = serializers.DictField()
    candidates = GeocodeCandidateSerializer(many=True)


class ReverseResponseSerializer(serializers.Serializer):
    """Reverse geocoding answer: the WGS-84 point used and the nearest places, nearest first."""

    point = serializers.DictField(help_text="{lon, lat, crs: wgs84, input: {lon, lat, crs}}")
    candidates = GeocodeCandidateSerializer(many=True)
