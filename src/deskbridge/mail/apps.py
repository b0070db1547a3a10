from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "deskbridge.mail"
    label = "mail"
