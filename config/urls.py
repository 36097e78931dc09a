from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("api/v1/", include("jurisdictions.api.urls")),
    path("api/v1/", include("geo.api.urls")),
    path("api/v1/", include("complaints.api.urls")),
    path("api/v1/", include("hotspots.api.urls")),
    path("open311/v2/", include("complaints.open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
    path("", include("maps.urls")),
]
