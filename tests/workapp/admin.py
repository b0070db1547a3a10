from django.contrib import admin

from deskbridge.pipeline.admin import WorkRowAdmin
from tests.workapp.models import Chore

admin.site.register(Chore, WorkRowAdmin)
