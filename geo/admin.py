from django.contrib.gis import admin

from .models import Place, PlaceName


class ReadOnlyAdmin:
    """For models a service must write (validation, derived rows, audit): the admin shows, never edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PlaceNameInline(ReadOnlyAdmin, admin.TabularInline):
    model = PlaceName
    extra = 0


@admin.register(Place)
class PlaceAdmin(ReadOnlyAdmin, admin.GISModelAdmin):
    list_display = ("name", "kind", "district", "street", "synthetic", "external_id")
    list_filter = ("kind", "district", "synthetic")
    search_fields = ("name", "external_id", "names__name")
    raw_id_fields = ("parent",)
    # The gazetteer is written by geo.services.gazetteer_load only (names normalised, geocoder index
    # refreshed); the admin is for looking.
    inlines = [PlaceNameInline]
