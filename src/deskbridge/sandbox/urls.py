"""The sandbox: emulated Amazon and helpdesks, mounted under /sandbox/ in demo mode only."""

from django.urls import include, path

from deskbridge.sandbox import views

urlpatterns = [
    path("", views.index, name="sandbox_index"),
    path("amazon/", include("deskbridge.sandbox.amazon.urls")),
    path("zendesk/", include("deskbridge.sandbox.helpdesks.zendesk.urls")),
    path("kustomer/", include("deskbridge.sandbox.helpdesks.kustomer.urls")),
    path("gorgias/", include("deskbridge.sandbox.helpdesks.gorgias.urls")),
    path("helpscout/", include("deskbridge.sandbox.helpdesks.helpscout.urls")),
]
