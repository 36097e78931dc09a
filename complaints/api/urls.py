from django.urls import path

from . import views

urlpatterns = [
    path("complaints", views.ComplaintListView.as_view(), name="complaint-list"),
    path("complaints/<int:pk>", views.ComplaintDetailView.as_view(), name="complaint-detail"),
    path("complaints/<int:pk>/status", views.ComplaintStatusView.as_view(), name="complaint-status"),
    path("complaints/<int:pk>/satisfaction", views.ComplaintSatisfactionView.as_view(), name="complaint-satisfaction"),
    path("complaints/<int:pk>/returns", views.ComplaintReturnsView.as_view(), name="complaint-returns"),
    path("complaint-returns", views.ReturnQueueView.as_view(), name="complaint-return-list"),
    path("complaint-returns/<int:pk>/decision", views.ReturnDecisionView.as_view(), name="complaint-return-decision"),
    path("complaint-categories", views.CategoryTreeView.as_view(), name="complaint-categories"),
    path("complaint-imports", views.BulkImportListView.as_view(), name="complaint-import-list"),
    path("complaint-imports/<int:pk>", views.BulkImportDetailView.as_view(), name="complaint-import-detail"),
    path("joint-cases", views.JointCaseListView.as_view(), name="joint-case-list"),
    path("joint-cases/<int:pk>", views.JointCaseDetailView.as_view(), name="joint-case-detail"),
    path("joint-cases/<int:pk>/check-ins", views.JointCaseCheckInView.as_view(), name="joint-case-check-ins"),
    path("joint-cases/<int:pk>/notes", views.JointCaseNotesView.as_view(), name="joint-case-notes"),
    path("joint-cases/<int:pk>/tasks", views.JointCaseTasksView.as_view(), name="joint-case-tasks"),
    path("joint-cases/<int:pk>/tasks/<int:task_id>", views.JointCaseTaskView.as_view(), name="joint-case-task"),
    path("joint-cases/<int:pk>/status", views.JointCaseStatusView.as_view(), name="joint-case-status"),
]
