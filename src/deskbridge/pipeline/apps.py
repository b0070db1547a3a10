from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "deskbridge.pipeline"
    label = "pipeline"
