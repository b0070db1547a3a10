from django.apps import AppConfig


class HelpdesksConfig(AppConfig):
    name = "deskbridge.helpdesks"
    label = "helpdesks"
