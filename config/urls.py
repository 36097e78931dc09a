from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.ops import healthz
from maps.views import tile_json, tile_metadata
from ogc.views import LandingView as OgcLandingView

urlpatterns = [
    path("api/v1/", include("jurisdictions.api.urls")),
    path("api/v1/", include("geo.api.urls")),
    path("api/v1/", include("complaints.api.urls")),
    path("api/v1/", include("hotspots.api.urls")),
    path("api/v1/", include("assessment.api.urls")),
    path("open311/v2/", include("complaints.open311.urls")),
    # OGC API – Features (docs/ogc.md); "/ogc" without the slash is the same landing page.
    path("ogc", OgcLandingView.as_view(), name="ogc-root"),
    path("ogc/", include("ogc.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    # TileJSON and the tileset description GDAL's MVT driver reads (maps/views.py, beside the tiles themselves).
    re_path(r"^tiles/(?P<layer>[^/.]+)\.json$", tile_json, name="tile-json"),
    re_path(r"^tiles/(?P<layer>[^/.]+)/metadata\.json$", tile_metadata, name="tile-metadata"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("maps.urls")),
]

# Django's own 400s (a form body past DATA_UPLOAD_MAX_MEMORY_SIZE → 413, a bad Host header) in the error shape
# under the API prefixes; ErrorMiddleware turns every other error response there into JSON (config/errors.py).
handler400 = "config.errors.bad_request"
