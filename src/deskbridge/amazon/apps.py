from django.apps import AppConfig


class AmazonConfig(AppConfig):
    name = "deskbridge.amazon"
    label = "amazon"

    def ready(self) -> None:
        from deskbridge.amazon import reminders  # noqa: F401 (registers its periodic job)
