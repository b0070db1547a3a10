from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "deskbridge.mail"
    label = "mail"

    def ready(self) -> None:
        from deskbridge.mail import intake  # noqa: F401 (registers the receiver's batch wake-up job)
