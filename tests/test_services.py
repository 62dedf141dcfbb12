"""Services: the one way to change a status, history with its user."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from proposals import services
from proposals.models import Proposal, Status


def test_a_status_event_moves_the_current_status(proposal, editor):
    services.status_event_record(proposal=proposal, status=Status.ADOPTED, occurred_on=dt.date(2016, 6, 1), user=editor)
    proposal.refresh_from_db()
    assert proposal.status == Status.ADOPTED


def test_an_older_event_does_not_replace_the_latest_status(proposal, editor):
    services.status_event_record(proposal=proposal, status=Status.ADOPTED, occurred_on=dt.date(2016, 6, 1), user=editor)
    services.status_event_record(proposal=proposal, status=Status.STALLED, occurred_on=dt.date(2016, 1, 1), user=editor)
    proposal.refresh_from_db()
    assert proposal.status == Status.ADOPTED
    assert [e.status for e in proposal.events.all()] == [Status.PROPOSED, Status.STALLED, Status.ADOPTED]


def test_deleting_the_latest_event_restores_the_previous_status(proposal, editor):
    event = services.status_event_record(
        proposal=proposal, status=Status.REJECTED, occurred_on=dt.date(2016, 1, 1), user=editor
    )
    services.status_event_delete(event=event, user=editor)
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED


def test_proposal_update_refuses_to_set_status(proposal):
    with pytest.raises(TypeError, match="status"):
        services.proposal_update(proposal=proposal, status=Status.IN_FORCE)


@pytest.mark.parametrize("service", ["record_save", "proposal_update"])
def test_generic_saves_refuse_the_status_whatever_the_entry_point(proposal, service):
    """Issue #10.3: the generic save used to write ``status=`` while the
    latest event said otherwise; now only whitelisted fields are set."""
    call = {
        "record_save": lambda: services.record_save(instance=proposal, status=Status.IN_FORCE),
        "proposal_update": lambda: services.proposal_update(proposal=proposal, status=Status.IN_FORCE),
    }[service]
    with pytest.raises(TypeError, match="status"):
        call()
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED


def test_a_status_set_on_the_instance_is_not_saved_by_a_field_update(proposal):
    """Even an attribute set by hand is not written: updates save only the
    fields they changed (``update_fields``)."""
    proposal.status = Status.IN_FORCE
    services.record_save(instance=proposal, title="Renamed")
    assert Proposal.objects.get(pk=proposal.pk).status == Status.PROPOSED


@pytest.mark.parametrize(
    ("field", "value"),
    [("version", 99), ("updated_at", None), ("sha256", "0" * 64), ("created_at", None), ("id", 5)],
)
def test_generic_saves_refuse_server_owned_fields(source, field, value):
    with pytest.raises(TypeError, match=field):
        services.record_save(instance=source, **{field: value})


def test_history_rows_carry_the_user(proposal, editor):
    services.proposal_update(proposal=proposal, title="Anti-extremism treaty (SCO)", user=editor)
    latest = proposal.history.latest()
    assert latest.history_user == editor
    assert latest.title == "Anti-extremism treaty (SCO)"


def test_a_deleted_record_keeps_its_history(proposal, editor):
    pk = proposal.pk
    proposal._history_user = editor
    proposal.delete()
    rows = Proposal.history.filter(id=pk).order_by("history_date")
    assert rows.last().history_type == "-"
    assert rows.last().history_user == editor
    assert rows.first().title == "Anti-extremism treaty"


def test_an_unchanged_update_writes_nothing(proposal):
    before = (proposal.version, proposal.history.count())
    services.proposal_update(proposal=proposal, title=proposal.title, summary=proposal.summary)
    proposal.refresh_from_db()
    assert (proposal.version, proposal.history.count()) == before


def test_attaching_evidence_verifies_and_moves_the_version(proposal, source, editor):
    before = proposal.version
    evidence = services.evidence_attach(proposal=proposal, source=source, quote="A researcher said", user=editor)
    assert source.text[evidence.start : evidence.end] == "A researcher said"
    assert proposal.version == before + 1
    with pytest.raises(ValidationError):
        services.evidence_attach(proposal=proposal, source=source, quote="not in the text")


def test_history_entries_show_field_changes(proposal, editor):
    services.proposal_update(proposal=proposal, title="New title", user=editor)
    entries = services.history_entries(proposal.history.all())
    assert entries[0]["user"] == "editor"
    assert {"field": "title", "old": "Anti-extremism treaty", "new": "New title"} in entries[0]["changes"]
    assert entries[-1]["type"] == "created"


def test_history_says_why_when_only_a_part_changed(proposal, source, editor):
    services.evidence_attach(proposal=proposal, source=source, quote="A researcher said", user=editor)
    latest = services.history_entries(proposal.history.all())[0]
    assert (latest["user"], latest["reason"], latest["changes"]) == ("editor", "evidence added", [])
