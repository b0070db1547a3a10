from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "deskbridge.sandbox"
    label = "sandbox"
