from django.contrib.gis import admin

from .models import Place, PlaceName


class PlaceNameInline(admin.TabularInline):
    model = PlaceName
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Place)
class PlaceAdmin(admin.GISModelAdmin):
    list_display = ("name", "kind", "district", "street", "synthetic", "external_id")
    list_filter = ("kind", "district", "synthetic")
    search_fields = ("name", "external_id", "names__name")
    raw_id_fields = ("parent",)
    inlines = [PlaceNameInline]

    # The gazetteer is written by geo.services.gazetteer_load only (names normalised, geocoder index
    # refreshed); the admin is for looking.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
