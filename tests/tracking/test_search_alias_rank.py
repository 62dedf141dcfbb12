"""Search by alias: once staff record a proposal's signed name as an alias,
``q`` with that exact name ranks it first (on PostgreSQL and SQLite)."""

import pytest
from django.core.management import call_command

from proposals.models import Proposal
from proposals.tracking import services as tracking


@pytest.fixture
def seeded(db):
    call_command("load_seeds", verbosity=0)


def test_an_exact_alias_ranks_its_proposal_first(api, seeded):
    name = "SCO Convention on Countering Extremism"
    tracking.alias_add(owner=Proposal.objects.get(slug="sco-anti-extremism-treaty"), name=name, language="en")
    results = api.get("/api/v1/proposals/", {"q": name}).json()["results"]
    assert results[0]["slug"] == "sco-anti-extremism-treaty", [r["slug"] for r in results]
