"""The re-curated seed corpus (issue #12, item 6): corrected claims,
participation and aliases, loaded through the services, idempotently."""

import pytest

from proposals import services
from proposals.importers import LOADER_USERNAME, load_seeds
from proposals.models import Actor, ActorAlias, Participation, Proposal, ProposalAlias, Venue, VenueAlias

RETIRED = "sco-defence-and-security-cooperation-against-three-forces"


@pytest.fixture
def seeded(db):
    load_seeds()


def _statuses(slug):
    return sorted(Proposal.objects.get(slug=slug).events.values_list("status", flat=True))


def test_li_lifan_reports_the_mechanism_china_may_launch(seeded):
    proposal = Proposal.objects.get(slug="sco-anti-terrorism-cooperative-mechanism")
    link = proposal.proponents.get()
    assert (link.actor.slug, link.role, link.is_primary) == ("li-lifan", "reported", True)
    assert "possible launcher" in link.note
    assert link.evidence.quote.endswith(
        "China may hope to launch an anti-terrorism cooperative mechanism under the SCO framework,” Li Lifan said."
    )
    assert "china" in proposal.parties.values_list("slug", flat=True)
    assert "possible launcher" in proposal.summary


def test_in_force_claims_the_texts_do_not_support_are_gone(seeded):
    assert _statuses("shanghai-convention-on-terrorism-separatism-and-extremism") == ["adopted"]
    assert _statuses("sco-legal-basis-for-security-cooperation") == ["under_discussion"]
    assert _statuses("sco-local-anti-terror-organisations") == ["under_discussion"]


def test_the_shanghai_conventions_signature_is_participation(seeded):
    row = Participation.objects.get()
    assert row.proposal.slug == "shanghai-convention-on-terrorism-separatism-and-extremism"
    assert (row.party.slug, row.action, row.occurred_on.year, row.precision) == (
        "sco-founding-heads-of-state",
        "signed",
        2001,
        "year",
    )
    assert "signed jointly by the six heads of state" in row.evidence.quote
    assert row.note


def test_other_corrections(seeded):
    assert not Proposal.objects.filter(slug=RETIRED).exists()
    hizb = Proposal.objects.get(slug="us-listing-of-hizb-ut-tahrir")
    assert "should consider listing" in hizb.title
    assert Venue.objects.get(slug="sco-summit-2015-zhengzhou").kind == "meeting"
    clauses = Proposal.objects.get(slug="sco-long-term-friendly-cooperative-clauses")
    assert clauses.status == "adopted"
    assert any("cooperative clauses agreed by SCO member countries" in e.quote for e in clauses.evidence.all())


def test_aliases_are_seeded(seeded):
    assert ActorAlias.objects.filter(actor__slug="li-keqiang", name="李克强", language="zh").exists()
    assert ProposalAlias.objects.filter(
        proposal__slug="sco-6-plus-n-anti-terrorism-partnership-mechanism", name="six-plus-N"
    ).exists()
    assert VenueAlias.objects.filter(venue__slug="sco-summit-2015-zhengzhou").count() == 2


def test_q_finds_li_keqiangs_proposals_by_his_chinese_name(seeded, api):
    response = api.get("/api/v1/proposals/", {"q": "李克强"})
    slugs = {row["slug"] for row in response.json()["results"]}
    led = set(Proposal.objects.filter(proponents__actor__slug="li-keqiang").values_list("slug", flat=True))
    assert led and slugs == led
    response = api.get("/api/v1/proposals/", {"q": "six-plus-N"})
    assert [row["slug"] for row in response.json()["results"]] == ["sco-6-plus-n-anti-terrorism-partnership-mechanism"]


def test_a_second_load_writes_nothing(seeded):
    def state():
        return (
            list(Proposal.objects.order_by("pk").values_list("slug", "version", "updated_at")),
            list(Actor.objects.order_by("pk").values_list("slug", "version")),
            list(Venue.objects.order_by("pk").values_list("slug", "version")),
            list(Participation.objects.order_by("pk").values_list("pk", "note")),
            list(ActorAlias.objects.order_by("pk").values_list("pk", "name")),
        )

    before = state()
    report = load_seeds()
    assert report.changed == 0
    assert state() == before


def test_a_retired_proposal_still_in_the_database_is_deleted_unless_staff_changed_it(db, staff):
    from django.contrib.auth import get_user_model

    loader = get_user_model().objects.create_user(LOADER_USERNAME, is_active=False)
    services.proposal_create(slug=RETIRED, title="Old record", user=loader)
    report = load_seeds()
    assert not Proposal.objects.filter(slug=RETIRED).exists()
    assert report.counts["proposals"]["deleted"] == 1
    deletion = Proposal.history.filter(slug=RETIRED, history_type="-").get()
    assert deletion.history_change_reason.startswith("retired from the seed corpus: ")

    services.proposal_restore(proposal_id=deletion.id, user=staff)  # staff bring it back
    report = load_seeds()
    assert Proposal.objects.filter(slug=RETIRED).exists()
    assert any(RETIRED in line for line in report.skipped)
