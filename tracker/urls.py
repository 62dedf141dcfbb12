"""Top-level routes: the admin, API v1, its schema and docs, and health probes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

admin.site.site_header = "Policy-proposal tracker"
admin.site.site_title = "Proposal tracker admin"
admin.site.index_title = "Records"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("proposals.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]

handler400 = views.handlers["handler400"]
handler403 = views.handlers["handler403"]
handler404 = views.handlers["handler404"]
handler500 = views.handlers["handler500"]
