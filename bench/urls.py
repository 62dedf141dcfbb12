"""URLconf for the benchmark only (``DJANGO_ROOT_URLCONF=bench.urls``): the
whole app, plus the peers the API is measured against on the same data:

* ``/bench/baseline/``: the same page of proposals as
  ``/api/v1/proposals/?page_size=50`` with plain ``.values()`` and
  ``JsonResponse``: no DRF, no serializers, no count, no related rows. The
  ratio of the API's throughput to this view's is the API's overhead.
* ``/bench/drf-plain/``: what a user would write first with DRF: a
  ``ModelSerializer`` of the list's fields (nested venue, proponents,
  topics), a ``ListAPIView`` with ``select_related``/``prefetch_related``
  and DRF's own ``PageNumberPagination`` (with its count), under the
  project's settings (authentication, throttling, renderers).
* ``/bench/detail-baseline/<slug>/``: one proposal's row with ``.values()``
  and ``JsonResponse``, the floor for the detail endpoint.
"""

from django.http import Http404, JsonResponse
from django.urls import path
from rest_framework import generics, pagination, serializers

from proposals.models import Actor, Proponent, Proposal, Topic, Venue
from tracker import urls as tracker_urls

BASELINE_FIELDS = ("id", "slug", "title", "status", "venue_id", "proposed_on", "proposed_precision", "updated_at")
DETAIL_BASELINE_FIELDS = (
    "id",
    "slug",
    "title",
    "summary",
    "status",
    "venue_id",
    "proposed_on",
    "proposed_precision",
    "proposed_note",
    "created_at",
    "updated_at",
    "version",
)


def baseline(request):
    try:
        size = max(1, min(int(request.GET.get("page_size", 50)), 200))
    except ValueError:
        size = 50
    rows = list(Proposal.objects.order_by("-updated_at", "-id").values(*BASELINE_FIELDS)[:size])
    return JsonResponse({"results": rows})


def detail_baseline(request, slug):
    row = Proposal.objects.filter(slug=slug).values(*DETAIL_BASELINE_FIELDS).first()
    if row is None:
        raise Http404
    return JsonResponse(row)


class _Venue(serializers.ModelSerializer):
    class Meta:
        model = Venue
        fields = ["id", "name"]


class _Actor(serializers.ModelSerializer):
    class Meta:
        model = Actor
        fields = ["id", "name"]


class _Proponent(serializers.ModelSerializer):
    actor = _Actor()

    class Meta:
        model = Proponent
        fields = ["actor", "role", "is_primary"]


class _Topic(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["slug", "name"]


class PlainProposalSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="proposal-detail", lookup_field="slug")
    status_label = serializers.CharField(source="get_status_display")
    venue = _Venue(allow_null=True)
    proponents = _Proponent(many=True)
    topics = _Topic(many=True)

    class Meta:
        model = Proposal
        fields = [
            "id",
            "url",
            "slug",
            "title",
            "status",
            "status_label",
            "venue",
            "proponents",
            "topics",
            "proposed_on",
            "proposed_precision",
            "updated_at",
        ]


class _Pages(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PlainProposalList(generics.ListAPIView):
    serializer_class = PlainProposalSerializer
    pagination_class = _Pages
    queryset = (
        Proposal.objects.select_related("venue")
        .prefetch_related("proponents__actor", "topics")
        .defer(*(f for f in ("search_vector", "list_json", "detail_json") if hasattr(Proposal, f)))
        .order_by("-updated_at", "-id")
    )


urlpatterns = [
    path("bench/baseline/", baseline, name="bench-baseline"),
    path("bench/detail-baseline/<slug:slug>/", detail_baseline, name="bench-detail-baseline"),
    path("bench/drf-plain/", PlainProposalList.as_view(), name="bench-drf-plain"),
    *tracker_urls.urlpatterns,
]

handler400 = tracker_urls.handler400
handler403 = tracker_urls.handler403
handler404 = tracker_urls.handler404
handler500 = tracker_urls.handler500
