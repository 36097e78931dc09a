from django.urls import path

from . import batch, disputes, views

urlpatterns = [
    path("jurisdiction/batch", batch.JurisdictionBatchView.as_view(), name="jurisdiction-batch"),
    path("jurisdiction", views.JurisdictionView.as_view(), name="jurisdiction"),
    path("areas", views.AreaListView.as_view(), name="area-list"),
    path("topology", views.TopologyView.as_view(), name="topology"),
    path("disputes", disputes.DisputeListView.as_view(), name="dispute-list"),
    path("disputes/<int:pk>", disputes.DisputeDetailView.as_view(), name="dispute-detail"),
    path("disputes/<int:pk>/ruling", disputes.DisputeRulingView.as_view(), name="dispute-ruling"),
    path("disputes/<int:pk>/status", disputes.DisputeStatusView.as_view(), name="dispute-status"),
    path("rules", disputes.RuleListView.as_view(), name="rule-list"),
    path("areas/<str:code>", views.AreaDetailView.as_view(), name="area-detail"),
    path("areas/<str:code>/children", views.AreaChildrenView.as_view(), name="area-children"),
]
