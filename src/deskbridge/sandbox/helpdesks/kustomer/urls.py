"""URLs of the kustomer emulator."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
