from django.apps import AppConfig


class AmazonConfig(AppConfig):
    name = "deskbridge.amazon"
    label = "amazon"
