from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "deskbridge.pipeline"
    label = "pipeline"

    def ready(self) -> None:
        from deskbridge.pipeline import (
            deliver,  # noqa: F401 (registers the ticket order sync)
            enrich,  # noqa: F401 (registers the order refresh jobs)
            workrows,  # noqa: F401 (registers the work-row job and reconciler)
        )
