"""The sandbox's front page: what is emulated here and where it lives."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deskbridge.sandbox.demo import DEMO_HELPDESK_ACCOUNT, demo_helpdesks


def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "sandbox/index.html",
        {"helpdesks": demo_helpdesks(), "demo_account": DEMO_HELPDESK_ACCOUNT},
    )
