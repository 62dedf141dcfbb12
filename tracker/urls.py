"""Top-level routes: the admin, API v1, its schema and docs, and health probes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from proposals.api.auth_views import LogoutAllView, LogoutView
from proposals.feeds.views import OneProposalFeed, SearchFeed, SiteFeed

from . import views

# The API docs must work with no internet: every asset is served from this
# server (drf-spectacular-sidecar), and this policy makes the browser refuse
# anything else, e.g. the Redocly logo that Redoc's bundle hard-codes.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)


class OfflineDocsMixin:
    @extend_schema(exclude=True)  # the docs pages are not API operations
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response


class SwaggerView(OfflineDocsMixin, SpectacularSwaggerView):
    pass


class RedocView(OfflineDocsMixin, SpectacularRedocView):
    pass


admin.site.site_header = "Policy-proposal tracker"
admin.site.site_title = "Proposal tracker admin"
admin.site.index_title = "Records"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("api/v1/auth/logout-all/", LogoutAllView.as_view(), name="auth-logout-all"),
    path("api/v1/", include("proposals.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    # Atom feeds (proposals/feeds): per proposal, per search of the list, site-wide.
    path("feeds/proposals/<slug:slug>.atom", OneProposalFeed(), name="feed-proposal"),
    path("feeds/proposals.atom", SearchFeed(), name="feed-search"),
    path("feeds/all.atom", SiteFeed(), name="feed-site"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]

handler400 = views.handlers["handler400"]
handler403 = views.handlers["handler403"]
handler404 = views.handlers["handler404"]
handler500 = views.handlers["handler500"]
