from django.contrib import admin
from django.urls import path

admin.site.site_header = "WhatsApp platform operations"
admin.site.site_title = "WhatsApp platform"
admin.site.index_title = "Tenants, workers and sessions"

urlpatterns = [
    path("admin/", admin.site.urls),
]
