"""URLs of the gorgias emulator."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
