from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "deskbridge.web"
    label = "web"
