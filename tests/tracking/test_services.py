"""Participation and alias services: validation in the models, one history
row on the owner with a readable reason, and a new version (ETag) for the
record that shows the change."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from proposals import services
from proposals.models import (
    Actor,
    ActorAlias,
    ActorKind,
    Participation,
    PartyAction,
    Proposal,
    ProposalAlias,
)
from proposals.tracking import services as tracking


@pytest.fixture
def china(db):
    return services.record_save(instance=Actor(), slug="china", name="China", kind=ActorKind.STATE, country_code="CN")


def _fresh(record):
    return type(record)._base_manager.get(pk=record.pk)


def test_adding_participation_bumps_the_proposal_once_with_a_readable_reason(proposal, china, editor):
    before = _fresh(proposal)
    row = tracking.participation_record(
        proposal=proposal, party=china, action=PartyAction.RATIFIED, occurred_on=dt.date(2017, 6, 9), user=editor
    )
    after = _fresh(proposal)
    assert after.version == before.version + 1
    assert after.updated_at > before.updated_at
    assert row.recorded_by == editor
    rows = list(proposal.history.filter(version=after.version))
    assert len(rows) == 1
    assert rows[0].history_change_reason == "participation added: China ratified, 2017-06-09"
    assert rows[0].history_user == editor


def test_changing_and_removing_participation_bump_the_proposal(proposal, china):
    row = tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED)
    v1 = _fresh(proposal).version
    tracking.participation_record(
        proposal=proposal, party=china, action=PartyAction.SIGNED, occurred_on=dt.date(2017, 6, 9), participation=row
    )
    v2 = _fresh(proposal).version
    assert v2 == v1 + 1
    # The reason names the row and its changed field, old → new.
    assert (
        proposal.history.get(version=v2).history_change_reason
        == "participation (China signed, 2017-06-09) occurred on: None → 2017-06-09"
    )
    tracking.participation_delete(participation=row)
    assert _fresh(proposal).version == v2 + 1
    assert not Participation.objects.exists()


def test_an_unchanged_participation_save_writes_nothing(proposal, china):
    row = tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED)
    version = _fresh(proposal).version
    tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED, participation=row)
    assert _fresh(proposal).version == version


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "ratify"}, "action"),
        ({"occurred_on": dt.date.today() + dt.timedelta(days=5)}, "occurred_on"),
        ({"occurred_on": dt.date(2001, 6, 15)}, "occurred_on"),  # before proposed_on (2015-12-15)
        ({"precision": "week", "occurred_on": dt.date(2016, 1, 1)}, "precision"),
    ],
)
def test_bad_participation_is_refused_and_changes_nothing(proposal, china, kwargs, field):
    version = _fresh(proposal).version
    data = {"proposal": proposal, "party": china, "action": PartyAction.SIGNED, **kwargs}
    with pytest.raises(ValidationError) as exc:
        tracking.participation_record(**data)
    assert field in exc.value.message_dict
    assert not Participation.objects.exists()
    assert _fresh(proposal).version == version


def test_evidence_of_another_proposal_is_refused(proposal, china, source):
    other = services.proposal_create(slug="other", title="Other")
    quote = services.evidence_attach(proposal=other, source=source, quote="Premier Li")
    with pytest.raises(ValidationError) as exc:
        tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED, evidence=quote)
    assert "evidence" in exc.value.message_dict


def test_the_same_action_twice_is_refused_dated_or_not(proposal, china):
    day = dt.date(2017, 6, 9)
    tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED, occurred_on=day)
    tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED)
    for occurred_on in (day, None):
        with pytest.raises(ValidationError):
            tracking.participation_record(
                proposal=proposal, party=china, action=PartyAction.SIGNED, occurred_on=occurred_on
            )
    assert Participation.objects.count() == 2


def test_a_party_with_participation_cannot_be_deleted(proposal, china):
    tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED)
    with pytest.raises(ProtectedError):
        services.record_delete(instance=china)


def test_renaming_a_party_bumps_the_proposals_it_acted_on(proposal, china):
    tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED)
    version = _fresh(proposal).version
    services.record_save(instance=china, name="People's Republic of China")
    assert _fresh(proposal).version == version + 1


def test_removing_a_cited_quote_bumps_the_proposal(proposal, china):
    quote = proposal.evidence.get()
    row = tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED, evidence=quote)
    version = _fresh(proposal).version
    services.record_delete(instance=quote)
    row.refresh_from_db()
    assert row.evidence is None
    assert _fresh(proposal).version > version


def test_a_deleted_proposal_comes_back_with_its_participation_and_aliases(proposal, china):
    tracking.participation_record(proposal=proposal, party=china, action=PartyAction.SIGNED)
    tracking.alias_add(owner=proposal, name="SCO Convention on Countering Extremism", language="en")
    pk = proposal.pk
    services.proposal_delete(proposal=proposal)
    assert not Participation.objects.exists() and not ProposalAlias.objects.exists()
    restored, parts = services.proposal_restore(proposal_id=pk)
    assert parts["participation"] == 1 and parts["aliases"] == 1
    assert restored.participation.get().party == china
    assert restored.aliases.get().name == "SCO Convention on Countering Extremism"


def test_an_actor_alias_bumps_the_actor_with_a_readable_reason(actor, editor):
    version = _fresh(actor).version
    alias = tracking.alias_add(owner=actor, name="李克强", language="zh", user=editor)
    fresh = _fresh(actor)
    assert fresh.version == version + 1
    assert actor.history.get(version=fresh.version).history_change_reason == "actor alias added: 李克强 (zh)"
    tracking.alias_delete(alias=alias, user=editor)
    assert _fresh(actor).version == version + 2
    assert not ActorAlias.objects.exists()


def test_a_proposal_alias_bumps_the_proposal(proposal):
    version = _fresh(proposal).version
    tracking.alias_add(owner=proposal, name="SCO Convention on Countering Extremism", language="en")
    assert _fresh(proposal).version == version + 1


@pytest.mark.parametrize(
    ("name", "language", "field"),
    [
        ("李克强", "chinese", "language"),
        ("李克强", "xx-foo", "language"),
        ("   ", "", "name"),
        (" Li ", "", "name"),
        ("Li Keqiang", "", "name"),  # its own name
        ("x" * 301, "", "name"),
    ],
)
def test_bad_aliases_are_refused_and_change_nothing(actor, name, language, field):
    version = _fresh(actor).version
    with pytest.raises(ValidationError) as exc:
        tracking.alias_add(owner=actor, name=name, language=language)
    assert field in exc.value.message_dict
    assert not ActorAlias.objects.exists()
    assert _fresh(actor).version == version


def test_a_duplicate_alias_is_refused_but_another_language_is_not(actor):
    tracking.alias_add(owner=actor, name="Li", language="en")
    with pytest.raises(ValidationError):
        tracking.alias_add(owner=actor, name="Li", language="en")
    tracking.alias_add(owner=actor, name="Li", language="")
    assert ActorAlias.objects.count() == 2


def test_aliases_sync_adds_and_removes_in_one_version(actor):
    tracking.alias_add(owner=actor, name="Li", language="en")
    version = _fresh(actor).version
    assert tracking.aliases_sync(owner=actor, aliases=[{"name": "李克强", "language": "zh"}])
    assert [a.name for a in actor.aliases.all()] == ["李克强"]
    assert _fresh(actor).version == version + 1
    assert not tracking.aliases_sync(owner=actor, aliases=[{"name": "李克强", "language": "zh"}])
    with pytest.raises(ValidationError):
        tracking.aliases_sync(owner=actor, aliases=[{"name": "A"}, {"name": "A", "language": ""}])


def test_aliases_index_lists_names_slugs_and_aliases(proposal, actor):
    tracking.alias_add(owner=actor, name="李克强", language="zh")
    tracking.alias_add(owner=proposal, name="SCO Convention on Countering Extremism")
    index = tracking.aliases_index()
    assert ("李克强", actor.pk) in index["actor"]
    assert ("Li Keqiang", actor.pk) in index["actor"]
    assert ("li-keqiang", actor.pk) in index["actor"]
    assert ("SCO Convention on Countering Extremism", proposal.pk) in index["proposal"]
    assert ("Anti-extremism treaty", proposal.pk) in index["proposal"]
    assert set(index) == {"actor", "venue", "topic", "proposal"}


def test_aliases_of_other_kinds_are_a_programming_error(source):
    with pytest.raises(TypeError):
        tracking.alias_add(owner=source, name="x")


def test_proposal_model_is_unchanged_by_tracking_rows(proposal, china):
    tracking.participation_record(proposal=proposal, party=china, action=PartyAction.ENTERED_INTO_FORCE)
    assert Proposal.objects.get(pk=proposal.pk).status == "proposed"
    assert str(Participation.objects.get()) == "entry into force for China"
