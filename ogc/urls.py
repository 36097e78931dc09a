from django.urls import path, re_path

from . import views

# OGC API – Features under /ogc/ (config/urls.py). Clients join their service URL and "/collections" as text, so a
# URL given with a trailing slash ("…/ogc/") becomes "…/ogc//collections": extra slashes are accepted.
_ = r"^(?:/*)"
urlpatterns = [
    path("", views.LandingView.as_view(), name="ogc-landing"),
    re_path(rf"{_}api$", views.ApiDocumentView.as_view(), name="ogc-api"),
    re_path(rf"{_}conformance$", views.ConformanceView.as_view(), name="ogc-conformance"),
    re_path(rf"{_}collections$", views.CollectionListView.as_view(), name="ogc-collections"),
    re_path(rf"{_}collections/(?P<collection_id>[^/]+)$", views.CollectionView.as_view(), name="ogc-collection"),
    re_path(rf"{_}collections/(?P<collection_id>[^/]+)/items$", views.ItemListView.as_view(), name="ogc-items"),
    re_path(
        rf"{_}collections/(?P<collection_id>[^/]+)/items/(?P<feature_id>[^/]+)$",
        views.ItemView.as_view(),
        name="ogc-item",
    ),
]
