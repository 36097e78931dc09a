"""GeoJSON features of the hotspots layers (RFC 7946, WGS-84)."""

from rest_framework import serializers
from rest_framework_gis.fields import GeometrySerializerMethodField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from hotspots.models import EmergingCell, FixPlan, HotspotCell, LotScore, RepeatPlace


class RepeatPlaceSerializer(GeoFeatureModelSerializer):
    """A repeat place: category, place, counts, chronic / failed-fix flags, responsible street and department."""

    class Meta:
        model = RepeatPlace
        geo_field = "point"
        fields = (
            "id",
            "category_code",
            "category_name",
            "place_kind",
            "place_key",
            "count",
            "first_at",
            "last_at",
            "span_days",
            "chronic",
            "failed_fix",
            "failed_fix_count",
            "street_code",
            "street_name",
            "district_code",
            "department_role",
            "departments",
            "complaint_refs",
        )


class HotspotCellSerializer(GeoFeatureModelSerializer):
    """A Gi* cell: count (or rate), z, p and the FDR bin (−3…3 for 99/95/90 % cold…hot)."""

    class Meta:
        model = HotspotCell
        geo_field = "geom"
        id_field = "h3"
        fields = ("h3", "count", "residents", "value", "z", "p", "bin", "street_code")


class EmergingCellSerializer(GeoFeatureModelSerializer):
    """An emerging hot spot cell: pattern, Mann-Kendall trend, hot/cold steps and the z-series."""

    pattern_label = serializers.CharField(source="get_pattern_display", read_only=True)

    class Meta:
        model = EmergingCell
        geo_field = "geom"
        id_field = "h3"
        fields = (
            "h3",
            "pattern",
            "pattern_label",
            "trend_z",
            "trend_p",
            "hot_steps",
            "cold_steps",
            "count",
            "recent_count",
            "z_series",
            "street_code",
        )


class IdleLotSerializer(GeoFeatureModelSerializer):
    """A ranked idle lot with every figure that produced its rank."""

    code = serializers.CharField(source="parcel.code")
    name = serializers.CharField(source="parcel.name")
    status = serializers.CharField(source="parcel.status")
    land_use = serializers.CharField(source="parcel.land_use")
    owner_type = serializers.CharField(source="parcel.owner_type")
    idle_since = serializers.DateField(source="parcel.idle_since")
    area_m2 = serializers.FloatField(source="parcel.area_m2")
    street_code = serializers.CharField(source="parcel.street_code")
    street_name = serializers.CharField(source="parcel.street_name")
    synthetic = serializers.BooleanField(source="parcel.synthetic")
    geom = GeometrySerializerMethodField()

    class Meta:
        model = LotScore
        geo_field = "geom"
        id_field = False
        fields = (
            "code",
            "name",
            "status",
            "land_use",
            "owner_type",
            "idle_since",
            "area_m2",
            "street_code",
            "street_name",
            "synthetic",
            "rank",
            "score",
            "residents_new",
            "residents_new_alone",
            "complaints",
            "complaints_by_year",
            "years_idle",
            "figures",
        )

    def get_geom(self, score):
        return score.parcel.geom


class FixPlanSerializer(GeoFeatureModelSerializer):
    """A fix plan over its lot's outline."""

    parcel_code = serializers.CharField(source="parcel.code")
    parcel_name = serializers.CharField(source="parcel.name")
    geom = GeometrySerializerMethodField()

    class Meta:
        model = FixPlan
        geo_field = "geom"
        fields = (
            "id",
            "parcel_code",
            "parcel_name",
            "kind",
            "title",
            "status",
            "street_code",
            "street_name",
            "district_code",
            "residents_served",
            "complaints",
            "departments",
            "evidence",
            "joint_case_ref",
            "created_at",
            "updated_at",
        )

    def get_geom(self, plan):
        return plan.parcel.geom


class FixPlanCreateSerializer(serializers.Serializer):
    parcel = serializers.CharField(help_text="地块编码 parcel code")
    kind = serializers.CharField(default="community_sports_park")
    title = serializers.CharField(required=False)


class FixPlanStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
