from django.urls import include, path, re_path

from . import staff, views

urlpatterns = [
    path("", views.planner_map, name="planner-map"),
    path("map/labels", views.map_labels, name="map-labels"),
    path("map/charts/weekly", views.chart_weekly, name="map-chart-weekly"),
    path("map/charts/categories", views.chart_categories, name="map-chart-categories"),
    path("map/charts/cell", views.chart_cell, name="map-chart-cell"),
    path("map/joint-cases", views.map_joint_cases, name="map-joint-cases"),
    # z/x/y are validated by the view, so a bad number gets the API's error shape instead of an HTML 404.
    re_path(r"^tiles/(?P<layer>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.pbf$", views.tile, name="tile"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("disputes/", staff.dispute_list, name="dispute-queue"),
    path("disputes/<int:pk>/", staff.dispute_detail, name="dispute-page"),
    path("joint-cases/", staff.joint_case_board, name="joint-case-board"),
    path("fix-plans/<int:pk>/", staff.fix_plan_detail, name="fix-plan-page"),
]
