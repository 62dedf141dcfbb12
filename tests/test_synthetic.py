"""The synthetic-data generator (``manage.py generate_synthetic``): same seed,
same records; every record obeys the model's rules; existing data untouched.
Runs on SQLite and on PostgreSQL (where rows go in with COPY and the
search-vector triggers must end up exactly as for any other insert)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench import synthetic
from proposals.models import Actor, Evidence, Proponent, Proposal, Source, StatusEvent, Topic, Venue

N = 30


def _snapshot(seed):
    """What must not change between runs with the same seed."""
    rows = []
    for p in Proposal.objects.filter(slug__startswith=synthetic.slug_prefix(seed)).order_by("slug"):
        quotes = sorted(
            (e.source.slug, e.start, e.end, e.quote) for e in p.evidence.select_related("source").order_by("id")
        )
        events = [(e.status, e.occurred_on) for e in p.events.all()]
        proponents = sorted((x.actor.slug, x.role, x.is_primary) for x in p.proponents.select_related("actor"))
        topics = sorted(p.topics.values_list("slug", flat=True))
        rows.append((p.slug, p.title, p.summary, p.status, p.proposed_on, quotes, events, proponents, topics))
    return rows


def _delete(seed):
    prefix = synthetic.slug_prefix(seed)
    Proposal.objects.filter(slug__startswith=prefix).delete()
    for model in (Source, Venue, Actor, Topic):
        model.objects.filter(slug__startswith=prefix).delete()


def test_generator_is_deterministic_without_a_database():
    def specs(seed):
        return [
            (s.row["slug"], s.row["title"], s.row["status"], [(e[1]["quote"], e[1]["start"]) for e in s.evidence])
            for s in synthetic.Generator(seed, N).proposals()
        ]

    first = specs(7)
    assert first == specs(7)
    assert first != specs(8)
    assert [slug for slug, *_ in first] == [f"syn-7-{n}" for n in range(1, N + 1)]


def test_same_seed_same_records_whatever_the_batch_size(db):
    synthetic.generate(proposals=N, seed=7, batch_size=7)
    first = _snapshot(7)
    assert len(first) == N
    _delete(7)
    assert not Proposal.objects.filter(slug__startswith="syn-7-").exists()

    synthetic.generate(proposals=N, seed=7, batch_size=N)
    assert _snapshot(7) == first


def test_records_obey_the_model_rules_on_top_of_existing_data(proposal):
    before = Proposal.objects.count()
    summary = synthetic.generate(proposals=N, seed=11, batch_size=8)

    assert summary.proposals == N
    assert Proposal.objects.count() == before + N
    # The existing proposal is untouched and keeps its own links.
    proposal.refresh_from_db()
    assert proposal.slug == "anti-extremism-treaty"
    assert proposal.evidence.count() == 1

    generated = Proposal.objects.filter(slug__startswith="syn-11-")
    assert generated.count() == N
    for p in generated:
        evidence = list(Evidence.objects.filter(proposal=p).select_related("source"))
        assert 1 <= len(evidence) <= 4
        for e in evidence:
            assert e.source.slug.startswith("syn-11-")
            assert e.source.text[e.start : e.end] == e.quote
            assert e.end - e.start == len(e.quote)

        events = list(StatusEvent.objects.filter(proposal=p))
        assert 1 <= len(events) <= 5
        latest = StatusEvent.objects.filter(proposal=p).latest_first().first()
        assert p.status == latest.status

        links = list(Proponent.objects.filter(proposal=p))
        assert 1 <= len(links) <= 3
        assert sum(link.is_primary for link in links) == 1
        assert len({(link.actor_id, link.role) for link in links}) == len(links)
        for link in links:
            assert link.evidence is None or link.evidence.proposal_id == p.pk
        for event in events:
            assert event.evidence is None or event.evidence.proposal_id == p.pk

        assert 1 <= p.topics.count() <= 3

    # Stored digests match the texts, as Source.save would have made them.
    for source in Source.objects.filter(slug__startswith="syn-11-"):
        assert source.sha256 == Source.digest(source.text)


def test_full_clean_accepts_generated_records(db):
    synthetic.generate(proposals=5, seed=12)
    for model in (Source, Actor, Venue, Topic, Proposal, Evidence, Proponent, StatusEvent):
        for obj in model.objects.filter(**_syn_filter(model, 12)):
            obj.full_clean()


def _syn_filter(model, seed):
    prefix = synthetic.slug_prefix(seed)
    if model in (Evidence, Proponent, StatusEvent):
        return {"proposal__slug__startswith": prefix}
    return {"slug__startswith": prefix}


def test_a_loaded_seed_is_refused(db):
    synthetic.generate(proposals=3, seed=13)
    with pytest.raises(synthetic.SyntheticDataExists):
        synthetic.generate(proposals=3, seed=13)
    synthetic.generate(proposals=3, seed=130)  # a seed whose prefix starts the same is another seed
    assert Proposal.objects.filter(slug__startswith="syn-13-").count() == 3


def test_command_reports_what_it_made(db):
    out = io.StringIO()
    call_command("generate_synthetic", "--proposals", "4", "--seed", "14", "--batch-size", "3", stdout=out)
    assert "4 proposals" in out.getvalue()
    assert Proposal.objects.filter(slug__startswith="syn-14-").count() == 4
    with pytest.raises(CommandError, match="already loaded"):
        call_command("generate_synthetic", "--proposals", "4", "--seed", "14", stdout=io.StringIO())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search triggers exist on PostgreSQL only")
def test_search_vector_is_what_the_triggers_make(db):
    synthetic.generate(proposals=N, seed=15, batch_size=10)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE search_vector IS NULL),
                   count(*) FILTER (WHERE search_vector IS DISTINCT FROM
                                    proposals_search_document(id, title, summary))
              FROM proposals_proposal WHERE slug LIKE 'syn-15-%%'
            """
        )
        assert cursor.fetchone() == (0, 0)
    # Quotes are searchable: a word found only in a quote's sentence finds its proposal.
    e = Evidence.objects.filter(proposal__slug__startswith="syn-15-").select_related("proposal").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM proposals_proposal WHERE id = %s AND search_vector @@ plainto_tsquery('english', %s)",
            [e.proposal_id, e.quote],
        )
        assert cursor.fetchone() == (1,)


def test_generate_synthetic_moves_the_list_etag(api, db):
    """The COPY load goes around the write batch; the command moves the
    change sequence itself, so a list ETag issued before it no longer
    matches (it was answered 304 over the new rows)."""
    tag = api.get("/api/v1/proposals/")["ETag"]
    call_command("generate_synthetic", "--proposals", "3", "--no-progress", verbosity=0)
    response = api.get("/api/v1/proposals/", HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200
    assert response.json()["count"] == 3
