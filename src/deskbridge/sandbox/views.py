"""The sandbox's front page: what is emulated here and where it lives."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox/index.html")
