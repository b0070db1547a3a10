"""ASGI entry point: uvicorn serves this in every mode."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskbridge.settings")
application = get_asgi_application()
