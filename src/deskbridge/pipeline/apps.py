from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "deskbridge.pipeline"
    label = "pipeline"

    def ready(self) -> None:
        from deskbridge.pipeline import workrows  # noqa: F401 (registers the work-row job and reconciler)
