from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.planner_map, name="planner-map"),
    path("map/labels", views.map_labels, name="map-labels"),
    # z/x/y are validated by the view, so a bad number gets the API's error shape instead of an HTML 404.
    re_path(r"^tiles/(?P<layer>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.pbf$", views.tile, name="tile"),
]
