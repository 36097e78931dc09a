from django.urls import re_path

from . import views

# Every resource answers with or without a format extension (.json / .xml); none means JSON.
FMT = r"(?:\.(?P<fmt>[A-Za-z0-9]+))?"

urlpatterns = [
    re_path(rf"^discovery{FMT}$", views.discovery, name="open311-discovery"),
    re_path(rf"^services{FMT}$", views.services_list, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/.]+){FMT}$", views.service_definition, name="open311-service"),
    re_path(rf"^requests{FMT}$", views.requests_view, name="open311-requests"),
    re_path(rf"^requests/(?P<request_id>[^/.]+){FMT}$", views.request_detail, name="open311-request"),
]
