from django.urls import path

from . import views

urlpatterns = [
    path("repeat-places", views.RepeatPlaceListView.as_view(), name="repeat-place-list"),
    path("hotspots", views.HotspotCellListView.as_view(), name="hotspot-list"),
    path("hotspots/emerging", views.EmergingCellListView.as_view(), name="emerging-list"),
    path("idle-lots", views.IdleLotListView.as_view(), name="idle-lot-list"),
    path("fix-plans", views.FixPlanListView.as_view(), name="fix-plan-list"),
    path("fix-plans/<int:pk>", views.FixPlanDetailView.as_view(), name="fix-plan-detail"),
    path("fix-plans/<int:pk>/status", views.FixPlanStatusView.as_view(), name="fix-plan-status"),
    path("fix-plans/<int:pk>/joint-case", views.FixPlanJointCaseView.as_view(), name="fix-plan-joint-case"),
    path("worklists/<str:street_code>", views.WorklistView.as_view(), name="worklist"),
]
