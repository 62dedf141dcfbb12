"""Query budgets of the admin pages issue #13 changed or added: each is
pinned, at 5 and at 50 rows (quotes, proposals, tokens, history rows), so
none grows with the page's size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals import services
from proposals.models import Proposal
from proposals.tokens import token_issue


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200, url
    return len(ctx.captured_queries)


def _grow(n, proposal, source, staff, start=0):
    """``n`` more proposals quoting the source, each also quoted on
    ``proposal``'s page, ``n`` more history rows and tokens."""
    for i in range(start, start + n):
        other = services.proposal_create(slug=f"grow-{i}", title=f"Grown {i}")
        services.evidence_attach(proposal=other, source=source, quote="anti-extremism treaty", note=str(i))
        services.proposal_update(proposal=proposal, summary=f"Summary {i}", user=staff)
        token_issue(user=staff, days=1)
    # More quotes on the proposal's own page (a new source for each: spans are unique per source).
    from proposals.models import Source

    for i in range(start, start + n):
        extra = services.record_save(instance=Source(), slug=f"extra-{i}", title=f"Extra {i}", text=f"Quote {i}.")
        services.evidence_attach(proposal=proposal, source=extra, quote=f"Quote {i}.")


#: page name -> (url maker, pinned budget of queries)
PAGES = {
    "proposal changelist": (lambda p, s: reverse("admin:proposals_proposal_changelist"), 12),
    # 23 for issue #13's page, plus the participation and alias inlines (their
    # rows, the parties' labels, the participation rows' quote choices: 5)
    "proposal change": (lambda p, s: reverse("admin:proposals_proposal_change", args=[p.pk]), 28),
    "proposal history": (lambda p, s: reverse("admin:proposals_proposal_history", args=[p.pk]), 7),
    # 6, plus the source's suggestions table (1)
    "source change": (lambda p, s: reverse("admin:proposals_source_change", args=[s.pk]), 7),
    "source reader": (lambda p, s: reverse("admin:proposals_source_reader", args=[s.pk]), 4),
    "evidence change": (lambda p, s: reverse("admin:proposals_evidence_change", args=[p.evidence.first().pk]), 7),
    "token changelist": (lambda p, s: reverse("admin:knox_authtoken_changelist"), 5),
    "deleted proposals": (lambda p, s: reverse("admin:proposals_proposal_deleted"), 3),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_admin_page_queries_are_pinned_and_do_not_grow(staff_client, staff, proposal, source, name):
    make_url, budget = PAGES[name]
    _grow(4, proposal, source, staff)
    url = make_url(Proposal.objects.get(pk=proposal.pk), source)
    _queries(staff_client, url)  # warms per-process caches (content types)
    few = _queries(staff_client, url)
    _grow(45, proposal, source, staff, start=4)
    for i in range(3):
        services.proposal_delete(proposal=Proposal.objects.get(slug=f"grow-{i}"))
    many = _queries(staff_client, url)
    assert few == many, f"{name}: {few} queries at 5 rows, {many} at 50"
    assert many <= budget, f"{name}: {many} queries, budget {budget}"


def test_proposal_page_queries_do_not_grow_with_other_proposals_proponents(staff_client, proposal):
    # Review finding 5: each inline row's hidden "id" field listed every row
    # of its model (with a query per Proponent/ProposalRelation label).
    from proposals.models import Actor, ActorKind

    url = reverse("admin:proposals_proposal_change", args=[proposal.pk])
    staff_client.get(url)
    before = _queries(staff_client, url)
    for i in range(20):
        actor = services.record_save(instance=Actor(), slug=f"a{i}", name=f"A {i}", kind=ActorKind.PERSON)
        services.proposal_create(
            slug=f"p{i}",
            title=f"P {i}",
            proponents=[{"actor": actor, "role": "called_for", "is_primary": True}],
            relations=[{"to_proposal": proposal, "relation_type": "builds_on"}],
        )
    assert _queries(staff_client, url) == before
