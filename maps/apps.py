from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "maps"
    verbose_name = "地图 Maps"

    def ready(self):
        # Registers the tile layers (maps.tiles keeps the registry).
        from . import tile_layers  # noqa: F401
