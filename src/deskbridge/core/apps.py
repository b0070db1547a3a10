from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "deskbridge.core"
    label = "core"
    verbose_name = "deskbridge core"

    def ready(self) -> None:
        from deskbridge.core import logs

        logs.configure()
