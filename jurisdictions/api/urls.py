from django.urls import path

from . import views

urlpatterns = [
    path("jurisdiction", views.JurisdictionView.as_view(), name="jurisdiction"),
    path("areas", views.AreaListView.as_view(), name="area-list"),
    path("topology", views.TopologyView.as_view(), name="topology"),
    path("areas/<str:code>", views.AreaDetailView.as_view(), name="area-detail"),
    path("areas/<str:code>/children", views.AreaChildrenView.as_view(), name="area-children"),
]
