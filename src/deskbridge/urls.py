"""Top-level URL map: the web app's pages, the admin, health and metrics, and the sandbox."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from deskbridge.web import health, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", views.switch_language, name="set_language"),
    path("", include("deskbridge.web.urls")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.insert(0, path("sandbox/", include("deskbridge.sandbox.urls")))
