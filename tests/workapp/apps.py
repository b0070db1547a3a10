from django.apps import AppConfig


class WorkappConfig(AppConfig):
    name = "tests.workapp"
    label = "workapp"
