from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "geo"
    verbose_name = "坐标与地理工具 Coordinates and GIS helpers"
