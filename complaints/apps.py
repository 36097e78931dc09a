from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = "诉求 Complaints"

    def ready(self) -> None:
        from . import hooks

        hooks.register()
