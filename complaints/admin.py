"""Reference data in the admin: the catalogue (editable) and the working-day calendar (loaded from the State
Council's notice by calendar_load; editable for corrections). Complaints change only through their services."""

from django.contrib.gis import admin

from geo.admin import MapAdmin

from .models import CalendarDay, CalendarYear, Category, Complaint


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent", "department_role", "urgency", "active")
    list_filter = ("level", "urgency", "active")
    search_fields = ("code", "name", "name_en", "keywords")
    raw_id_fields = ("parent",)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "loaded_at")


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)
    date_hierarchy = "date"


@admin.register(Complaint)
class ComplaintAdmin(MapAdmin):
    map_field = "location"
    # Dispatch, returns and deadlines are kept by complaints.services; the desk (/desk/) is where staff act.
    list_display = ("external_id", "received_at", "category", "status", "street_name", "district_name")
    list_filter = ("status", "channel")
    search_fields = ("external_id", "address")
    raw_id_fields = ("category",)
