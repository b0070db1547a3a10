"""URLs of the helpscout emulator."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
