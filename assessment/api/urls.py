from django.urls import path

from . import views

urlpatterns = [
    path("assessment", views.AssessmentView.as_view(), name="assessment"),
]
