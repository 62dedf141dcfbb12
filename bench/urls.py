"""URLconf for the benchmark only (``DJANGO_ROOT_URLCONF=bench.urls``): the
whole app, plus a baseline view that returns the same page of proposals as
``/api/v1/proposals/?page_size=50`` with plain ``.values()`` and
``JsonResponse``: no DRF, no serializers, no count, no related rows. The
ratio of the API's throughput to this view's is the API's overhead."""

from django.http import JsonResponse
from django.urls import path

from proposals.models import Proposal
from tracker import urls as tracker_urls

BASELINE_FIELDS = ("id", "slug", "title", "status", "venue_id", "proposed_on", "proposed_precision", "updated_at")


def baseline(request):
    try:
        size = max(1, min(int(request.GET.get("page_size", 50)), 200))
    except ValueError:
        size = 50
    rows = list(Proposal.objects.order_by("-updated_at", "-id").values(*BASELINE_FIELDS)[:size])
    return JsonResponse({"results": rows})


urlpatterns = [
    path("bench/baseline/", baseline, name="bench-baseline"),
    *tracker_urls.urlpatterns,
]

handler400 = tracker_urls.handler400
handler403 = tracker_urls.handler403
handler404 = tracker_urls.handler404
handler500 = tracker_urls.handler500
