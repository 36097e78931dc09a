"""The city administrator's admin (/admin/): boundaries, generations, buildings and rules to look at on a map
(they change only through their services: imports with validation, activation, rulings); departments and staff
scopes to edit."""

from django.contrib.gis import admin

from geo.admin import MapAdmin, ReadOnlyAdmin

from .models import Area, AuditEntry, Building, Department, Dispute, Generation, Rule, StaffProfile


@admin.register(Generation)
class GenerationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    # boundaries_import / generation_activate check topology and end the generation before.
    list_display = ("name", "valid_from", "valid_to", "active", "created_at")
    list_filter = ("active",)


@admin.register(Area)
class AreaAdmin(MapAdmin):
    list_display = ("code", "name", "level", "parent", "generation_low", "generation_high", "synthetic")
    list_filter = ("level", "synthetic", "generation_low")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


@admin.register(Building)
class BuildingAdmin(MapAdmin):
    # buildings_import computes every generation's footprint shares.
    list_display = ("code", "name", "address", "synthetic")
    search_fields = ("code", "name", "address")


@admin.register(Rule)
class RuleAdmin(MapAdmin):
    # Rules come from rulings every district involved confirmed (jurisdictions.disputes) or POST /api/v1/rules.
    list_display = ("id", "lead_code", "level", "valid_from", "valid_to", "author", "ruling_ref")
    list_filter = ("level",)
    search_fields = ("lead_code", "reason", "ruling_ref")
    raw_id_fields = ("building",)


@admin.register(Dispute)
class DisputeAdmin(MapAdmin):
    map_field = "point"
    list_display = ("id", "title", "status", "origin", "opened_by", "opened_at")
    list_filter = ("status", "origin")
    search_fields = ("title", "origin_ref")
    raw_id_fields = ("building", "opened_by")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_id")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "role", "district_code")
    list_filter = ("role",)
    search_fields = ("code", "name")


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    """Who answers for which part of the city: the scope every read and write is checked against."""

    list_display = ("user", "role", "district_code", "street_code", "department", "demo")
    list_filter = ("role", "demo")
    search_fields = ("user__username", "district_code", "street_code")
    raw_id_fields = ("user", "department")
