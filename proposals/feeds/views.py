"""Atom feeds of proposals' news: status events recorded, participation
(a party's signature, ratification, entry into force...) recorded, and
quotes added.

Three feeds, all newest first, ``FEED_SIZE`` entries:

- ``/feeds/proposals/{slug}.atom``: one proposal;
- ``/feeds/proposals.atom?<filters>``: the proposals a search of the list
  endpoint (``GET /api/v1/proposals/``) matches, with the same ``q`` and
  filters (its ``ProposalFilterSet``): a malformed filter, ``ordering``,
  ``page``, ``page_size`` or ``cursor`` is the same 400 problem JSON (those
  four do not change the feed);
- ``/feeds/all.atom``: every proposal.

Each entry links to the proposal's API representation and, for a status
event, names the status and its date; its id is a stable ``tag:`` URI
(RFC 4151), so a reader shows each event once.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django_filters.utils import translate_validation
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from ..api.errors import PROBLEM_CONTENT_TYPE, flatten_errors, problem
from ..api.filters import (
    ProposalFilterSet,
    StrictOrderingFilter,
    refuse_out_of_range_datetimes,
    without_empty_values,
)
from ..api.pagination import ProposalPagination
from ..models import STATUS_EXPLANATIONS, Evidence, Participation, Proposal, Status, StatusEvent

FEED_SIZE = 50
STATUS_LABELS = dict(Status.choices)


@dataclass
class Item:
    kind: str
    pk: int
    proposal_slug: str
    proposal_title: str
    when: object
    title: str
    text: str


def _items(proposals) -> list[Item]:
    """The newest ``FEED_SIZE`` status events, participation rows and
    quotes of ``proposals`` (a queryset), merged newest first: three
    queries."""
    events = (
        StatusEvent.objects.filter(proposal__in=proposals)
        .select_related("proposal")
        .only("id", "status", "occurred_on", "note", "recorded_at", "proposal__slug", "proposal__title")
        .order_by("-recorded_at", "-id")[:FEED_SIZE]
    )
    quotes = (
        Evidence.objects.filter(proposal__in=proposals)
        .select_related("proposal", "source")
        .only("id", "quote", "created_at", "proposal__slug", "proposal__title", "source__title")
        .order_by("-created_at", "-id")[:FEED_SIZE]
    )
    participation = (
        Participation.objects.filter(proposal__in=proposals)
        .select_related("proposal", "party")
        .only(
            "id",
            "action",
            "occurred_on",
            "note",
            "recorded_at",
            "party__name",
            "proposal__slug",
            "proposal__title",
        )
        .order_by("-recorded_at", "-id")[:FEED_SIZE]
    )
    participation_items = (
        Item(
            "participation",
            row.pk,
            row.proposal.slug,
            row.proposal.title,
            row.recorded_at,
            f"{row.describe()}: {row.proposal.title}",
            f"{row.describe()}. {row.note}".strip(),
        )
        for row in participation
    )
    event_items = (
        Item(
            "event",
            e.pk,
            e.proposal.slug,
            e.proposal.title,
            e.recorded_at,
            f"{STATUS_LABELS.get(e.status, e.status)}: {e.proposal.title}",
            f"{e.status} on {e.occurred_on.isoformat()}: {STATUS_EXPLANATIONS.get(e.status, '')} {e.note}".strip(),
        )
        for e in events
    )
    quote_items = (
        Item(
            "quote",
            q.pk,
            q.proposal.slug,
            q.proposal.title,
            q.created_at,
            f"New quote: {q.proposal.title}",
            f"“{q.quote}” — {q.source.title}",
        )
        for q in quotes
    )
    merged = heapq.merge(event_items, participation_items, quote_items, key=lambda item: item.when, reverse=True)
    return list(merged)[:FEED_SIZE]


class ProposalNewsFeed(Feed):
    """The base: entries are status events and new quotes."""

    feed_type = Atom1Feed
    title_template = None

    def get_object(self, request, *args, **kwargs):
        self.request = request
        return None

    def __call__(self, request, *args, **kwargs):
        # Errors are RFC 9457 problem JSON, as everywhere in the API.
        try:
            return super().__call__(request, *args, **kwargs)
        except ValidationError as exc:
            body = problem(400, "The request has invalid fields.", flatten_errors(exc.detail))
            return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
        except Http404:
            return JsonResponse(
                problem(404, "No proposal has this slug."), status=404, content_type=PROBLEM_CONTENT_TYPE
            )

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.text

    def item_link(self, item):
        return reverse("proposal-detail", kwargs={"slug": item.proposal_slug})

    def item_guid(self, item):
        host = self.request.get_host().split(":")[0]
        return f"tag:{host},2026:proposals/{item.kind}/{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.when

    def item_updateddate(self, item):
        return item.when

    def item_author_name(self, item):
        return "Policy-proposal tracker"


class OneProposalFeed(ProposalNewsFeed):
    def get_object(self, request, slug):
        self.request = request
        proposal = Proposal.objects.filter(slug=slug).only("id", "slug", "title").first()
        if proposal is None:
            raise Http404
        return proposal

    def title(self, proposal):
        return f"{proposal.title}: status events and quotes"

    def link(self, proposal):
        return reverse("proposal-detail", kwargs={"slug": proposal.slug})

    def description(self, proposal):
        return f"What happens to the proposal {proposal.title}: its status events and new quotes."

    def items(self, proposal):
        return _items(Proposal.objects.filter(pk=proposal.pk))


class SearchFeed(ProposalNewsFeed):
    def get_object(self, request):
        self.request = request
        filterset = ProposalFilterSet(
            without_empty_values(request.GET, ProposalFilterSet.base_filters),
            queryset=Proposal.objects.all(),
            request=request,
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        refuse_out_of_range_datetimes(filterset.form.cleaned_data)
        # The list's ordering and paging parameters do not change the feed
        # (newest first, FEED_SIZE entries), but a malformed one is the same
        # 400 as on the list, so one URL is valid on both or on neither.
        from ..api.views import ProposalViewSet

        drf_request = Request(request)
        view = ProposalViewSet(action="list", request=drf_request, format_kwarg=None)
        StrictOrderingFilter().get_ordering(drf_request, Proposal.objects.none(), view)
        ProposalPagination().check_parameters(drf_request)
        return filterset.qs.order_by().values("pk")

    def title(self, obj):
        query = self.request.GET.urlencode()
        return f"Proposals matching {query}" if query else "All proposals"

    def link(self, obj):
        query = self.request.GET.urlencode()
        return reverse("proposal-list") + (f"?{query}" if query else "")

    def description(self, obj):
        return "Status events and new quotes of the proposals this search of the list endpoint matches."

    def items(self, obj):
        return _items(obj)


class SiteFeed(ProposalNewsFeed):
    title = "Policy-proposal tracker: status events and quotes"
    description = "Every proposal's status events and new quotes, newest first."

    def link(self):
        return reverse("proposal-list")

    def items(self):
        return _items(Proposal.objects.all())
