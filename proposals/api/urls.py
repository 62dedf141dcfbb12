"""Routes for API v1."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from ..changes.views import ChangeFeedView
from ..suggestions.api import SourceSuggestView, SuggestionViewSet
from ..versions.views import CiteView, VersionCiteView, VersionDetailView, VersionListView, VersionPermalinkView
from ..webhooks.views import SubscriptionViewSet
from . import views
from .participation import ProposalParticipationViewSet

router = DefaultRouter()
router.register("proposals", views.ProposalViewSet, basename="proposal")
router.register("actors", views.ActorViewSet, basename="actor")
router.register("venues", views.VenueViewSet, basename="venue")
router.register("sources", views.SourceViewSet, basename="source")
router.register("topics", views.TopicViewSet, basename="topic")
router.register("suggestions", SuggestionViewSet, basename="suggestion")
router.register("webhooks", SubscriptionViewSet, basename="webhook")

slug = "<slug:proposal_slug>"

urlpatterns = [
    path("changes/", ChangeFeedView.as_view(), name="change-feed"),
    path(
        f"proposals/{slug}/events/",
        views.ProposalEventViewSet.as_view({"get": "list", "post": "create"}),
        name="proposal-events",
    ),
    path(
        f"proposals/{slug}/evidence/",
        views.ProposalEvidenceViewSet.as_view({"get": "list", "post": "create"}),
        name="proposal-evidence",
    ),
    path("sources/<slug:source_slug>/suggest/", SourceSuggestView.as_view({"post": "create"}), name="source-suggest"),
    path(
        f"proposals/{slug}/participation/",
        ProposalParticipationViewSet.as_view({"get": "list", "post": "create"}),
        name="proposal-participation",
    ),
    path(
        f"proposals/{slug}/participation/<int:pk>/",
        ProposalParticipationViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="proposal-participation-detail",
    ),
    path(
        "proposals/versions/<int:proposal_id>/<int:number>/",
        VersionPermalinkView.as_view(),
        name="proposal-version-permalink",
    ),
    path(
        "proposals/versions/<int:proposal_id>/<int:number>/cite/",
        VersionCiteView.as_view(),
        name="proposal-version-cite",
    ),
    path(f"proposals/{slug}/versions/", VersionListView.as_view(), name="proposal-versions"),
    path(f"proposals/{slug}/versions/<int:number>/", VersionDetailView.as_view(), name="proposal-version"),
    path(f"proposals/{slug}/cite/", CiteView.as_view(), name="proposal-cite"),
    *router.urls,
]
