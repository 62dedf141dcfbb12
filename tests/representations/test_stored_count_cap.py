"""On a list past the count cap, the stored path's last
page is not the serializer path's (it reads a full page beyond the cap)."""

import pytest

from proposals.api import pagination
from tests.factories import ProposalFactory

URL = "/api/v1/proposals/"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?page=last&page_size=2", "?page=3&page_size=2"])
def test_the_capped_last_page_is_the_same_on_both_paths(api, monkeypatch, query):
    monkeypatch.setattr(pagination, "COUNT_CAP", 4)  # as 10,000 is at scale; 8 proposals match
    for _ in range(8):
        ProposalFactory()
    stored = api.get(f"{URL}{query}").json()
    serializer = api.get(f"{URL}{query}", HTTP_ACCEPT="application/json; indent=1").json()
    assert stored["count_capped"] and serializer["count_capped"]
    assert [r["id"] for r in stored["results"]] == [r["id"] for r in serializer["results"]]
