from django.urls import path

from . import views

urlpatterns = [
    path("geocode", views.GeocodeView.as_view(), name="geocode"),
    path("reverse", views.ReverseGeocodeView.as_view(), name="reverse-geocode"),
]
