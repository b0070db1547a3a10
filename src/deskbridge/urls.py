"""Top-level URL map: the web app's pages, the admin, health and metrics, and the sandbox."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from deskbridge.web import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("deskbridge.web.urls")),
]

if settings.DEMO or getattr(settings, "SANDBOX_ENABLED", False):
    urlpatterns.insert(0, path("sandbox/", include("deskbridge.sandbox.urls")))
