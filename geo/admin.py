import json

from django.conf import settings
from django.contrib.gis import admin
from django.utils.html import format_html

from .models import Place, PlaceName


class ReadOnlyAdmin:
    """For models a service must write (validation, derived rows, audit): the admin shows, never edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MapAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """A read-only page whose geometry is drawn on a map (the project's own Leaflet, no internet needed; the
    deployment's basemap when one is configured) instead of being printed as coordinates."""

    map_field = "geom"
    # Drawing tolerance in degrees (about 5 m): a district's outline stays small enough for the page.
    map_simplify_deg = 0.00005

    class Media:
        css = {"all": ("vendor/leaflet/leaflet.css",)}
        js = ("vendor/leaflet/leaflet.js", "maps/admin_map.js")

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f not in (self.map_field, "map")]
        return [*fields, "map"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "map"]

    @admin.display(description="地图 map")
    def map(self, obj):
        geom = getattr(obj, self.map_field, None)
        if geom is None:
            return "—"
        drawn = geom.simplify(self.map_simplify_deg, preserve_topology=True) if geom.num_coords > 200 else geom
        basemap = {
            "url": settings.SHAOZI.get("BASEMAP_URL", ""),
            "attribution": settings.SHAOZI.get("BASEMAP_ATTRIBUTION", ""),
        }
        return format_html(
            '<div class="shaozi-admin-map" style="height:360px;width:min(720px,90vw)" data-geojson="{}" '
            'data-basemap="{}"></div>',
            drawn.geojson,
            json.dumps(basemap),
        )


class PlaceNameInline(ReadOnlyAdmin, admin.TabularInline):
    model = PlaceName
    extra = 0


@admin.register(Place)
class PlaceAdmin(MapAdmin):
    list_display = ("name", "kind", "district", "street", "synthetic", "external_id")
    list_filter = ("kind", "district", "synthetic")
    search_fields = ("name", "external_id", "names__name")
    raw_id_fields = ("parent",)
    # The gazetteer is written by geo.services.gazetteer_load only (names normalised, geocoder index
    # refreshed); the admin is for looking.
    inlines = [PlaceNameInline]
