from django.urls import path

from . import views

urlpatterns = [
    path("", views.planner_map, name="planner-map"),
]
