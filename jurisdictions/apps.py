from django.apps import AppConfig


class JurisdictionsConfig(AppConfig):
    name = "jurisdictions"
    verbose_name = "管辖区划 Jurisdictions"

    def ready(self) -> None:
        # The geocoder (geo, which cannot import jurisdictions) gets its districts and streets from the engine.
        from . import geocoding

        geocoding.register()
