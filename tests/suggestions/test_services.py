"""Suggestion services against the real database: storing, re-running,
accepting through the usual services, rejecting."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from proposals.models import Evidence, Participation, Proposal, StatusEvent, Suggestion
from proposals.suggestions import services


def by(kind, created, **match):
    return [s for s in created if s.kind == kind and all(getattr(s, k) == v for k, v in match.items())]


def test_suggestions_hold_verified_quotes(later_news):
    created = services.suggest_for_source(later_news)
    assert created
    for s in created:
        assert later_news.text[s.start : s.end] == s.quote
        assert 0 <= s.confidence <= 1
        assert s.explanation
        assert s.history.count() == 1


def test_ratification_found_with_party_action_and_date(later_news, treaty_world):
    created = services.suggest_for_source(later_news)
    (ratified,) = by("participation", created, action="ratified")
    assert ratified.proposal == treaty_world["treaty"]
    assert ratified.party == treaty_world["kazakhstan"]
    assert (ratified.occurred_on, ratified.precision) == (dt.date(2018, 3, 12), "day")
    (signed,) = by("status_event", created, status="adopted")
    assert (signed.occurred_on, signed.precision) == (dt.date(2017, 6, 1), "month")


def test_rerun_adds_nothing_and_rejected_stays_rejected(later_news):
    created = services.suggest_for_source(later_news)
    rejected = services.suggestion_reject(suggestion=created[0])
    assert services.suggest_for_source(later_news) == []
    assert Suggestion.objects.filter(source=later_news).count() == len(created)
    rejected.refresh_from_db()
    assert rejected.state == "rejected"


def test_accept_participation_creates_row_with_evidence(later_news, treaty_world, editor):
    (ratified,) = by("participation", services.suggest_for_source(later_news), action="ratified")
    accepted = services.suggestion_accept(suggestion=ratified, user=editor)
    row = Participation.objects.get(pk=accepted.participation_id)
    assert (row.party, row.action, row.occurred_on) == (treaty_world["kazakhstan"], "ratified", dt.date(2018, 3, 12))
    assert row.evidence.quote == later_news.text[row.evidence.start : row.evidence.end] == ratified.quote
    assert accepted.state == "accepted"
    assert accepted.decided_by == editor
    with pytest.raises(services.SuggestionConflict):
        services.suggestion_accept(suggestion=ratified, user=editor)


def test_accept_status_event_moves_the_status(later_news, treaty_world):
    (signed,) = by("status_event", services.suggest_for_source(later_news), status="adopted")
    services.suggestion_accept(suggestion=signed)
    treaty = Proposal.objects.get(pk=treaty_world["treaty"].pk)
    assert treaty.status == "adopted"
    event = StatusEvent.objects.get(proposal=treaty, status="adopted")
    assert event.evidence.quote == signed.quote


def test_accept_with_corrections_and_a_failure_changes_nothing(later_news, treaty_world):
    created = services.suggest_for_source(later_news)
    (signed,) = by("status_event", created, status="adopted")
    before = (Evidence.objects.count(), StatusEvent.objects.count())
    with pytest.raises(ValidationError) as error:
        services.suggestion_accept(suggestion=signed, occurred_on=dt.date(2099, 1, 1))
    assert "occurred_on" in error.value.message_dict
    assert (Evidence.objects.count(), StatusEvent.objects.count()) == before
    signed.refresh_from_db()
    assert signed.state == "pending"
    accepted = services.suggestion_accept(suggestion=signed, status="in_force", occurred_on=dt.date(2017, 6, 10))
    event = StatusEvent.objects.get(pk=accepted.status_event_id)
    assert (event.status, event.occurred_on) == ("in_force", dt.date(2017, 6, 10))


def test_rejected_cannot_be_accepted(later_news):
    suggestion = services.suggest_for_source(later_news)[0]
    services.suggestion_reject(suggestion=suggestion)
    with pytest.raises(services.SuggestionConflict):
        services.suggestion_accept(suggestion=suggestion)
    with pytest.raises(services.SuggestionConflict):
        services.suggestion_reject(suggestion=suggestion)


def test_accept_new_proposal_creates_it_and_a_rerun_does_not_bring_it_back(source, editor):
    created = services.suggest_for_source(source)
    new = [s for s in created if s.kind == "new_proposal"]
    assert new
    accepted = services.suggestion_accept(suggestion=new[0], user=editor, title="A proposal from the text")
    proposal = accepted.proposal
    assert proposal.title == "A proposal from the text"
    assert proposal.evidence.get().quote == new[0].quote
    assert services.suggest_for_source(source) == []


def test_participation_needs_a_known_party(treaty_world, db):
    from proposals import services as core
    from proposals.models import Source

    src = core.record_save(
        instance=Source(),
        slug="t",
        title="t",
        published_on=dt.date(2018, 5, 1),
        text="Tajikistan ratified the SCO Convention on Countering Extremism on 3 April 2018.",
    )
    (item,) = by("participation", services.suggest_for_source(src))
    assert (item.party, item.party_name) == (None, "Tajikistan")
    with pytest.raises(ValidationError) as error:
        services.suggestion_accept(suggestion=item)
    assert "party" in error.value.message_dict
    accepted = services.suggestion_accept(suggestion=item, party=treaty_world["kazakhstan"])
    assert accepted.participation.party == treaty_world["kazakhstan"]


def test_a_party_named_only_by_name_is_found_once_the_actor_exists(treaty_world, db):
    from proposals import services as core
    from proposals.models import Actor, ActorKind, Source

    src = core.record_save(
        instance=Source(),
        slug="t",
        title="t",
        published_on=dt.date(2018, 5, 1),
        text="Tajikistan ratified the SCO Convention on Countering Extremism on 3 April 2018.",
    )
    (item,) = by("participation", services.suggest_for_source(src))
    assert item.party is None
    tajikistan = core.record_save(
        instance=Actor(), slug="tajikistan", name="Tajikistan", kind=ActorKind.STATE, country_code="TJ"
    )
    accepted = services.suggestion_accept(suggestion=item)
    assert accepted.participation.party == tajikistan
    assert accepted.party == tajikistan


def test_suggestion_marks_for_the_reader(later_news):
    created = services.suggest_for_source(later_news)
    marks = services.suggestion_marks(later_news)
    assert len(marks) == len(created)
    assert {"start", "end", "kind", "label", "url", "id", "accept_url", "reject_url"} == set(marks[0])
    assert {m["kind"] for m in marks} == {"suggestion"}
    assert marks[0]["url"].startswith("/admin/proposals/suggestion/")


def test_a_date_corrected_on_accept_drops_the_engines_note_on_how_it_found_its_date(later_news, treaty_world):
    created = services.suggest_for_source(later_news)
    item = next(s for s in created if s.kind == "participation" and s.action == "ratified")
    Suggestion.objects.filter(pk=item.pk).update(
        occurred_on=dt.date(2015, 12, 1),
        precision="month",
        date_note="Taken from an earlier sentence (“December 2015”).",
    )
    item.refresh_from_db()
    accepted = services.suggestion_accept(suggestion=item, occurred_on=dt.date(2018, 3, 12), precision="day")
    row = accepted.participation
    assert row.occurred_on == dt.date(2018, 3, 12)
    assert "earlier sentence" not in row.note
    assert "Date given on accept; the text's suggestion was 2015-12-01 (month)." in row.note
    assert "earlier sentence" not in accepted.date_note


def test_an_uncorrected_date_keeps_the_engines_note(later_news, treaty_world):
    created = services.suggest_for_source(later_news)
    item = next(s for s in created if s.kind == "participation" and s.action == "ratified")
    Suggestion.objects.filter(pk=item.pk).update(date_note="Resolved against the source's date.")
    item.refresh_from_db()
    accepted = services.suggestion_accept(suggestion=item, occurred_on=item.occurred_on, precision=item.precision)
    assert "Resolved against the source's date." in accepted.participation.note
