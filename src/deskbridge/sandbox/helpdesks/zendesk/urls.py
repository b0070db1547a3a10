"""URLs of the zendesk emulator."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
