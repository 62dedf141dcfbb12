"""Dates mean what they say (issue item 7): ``proposed_on`` is when a
proposal was put forward, so it is not in the future; a timeline starts
then, so no status event is dated before it; and no date the client did not
give is invented. The rules live in ``Proposal.clean``,
``StatusEvent.clean`` and ``services.proposal_open_timeline``, so the
admin, the API and the seed loader share them."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from proposals import services
from proposals.models import Proposal, Status
from tests.factories import ProposalFactory

from .helpers import assert_problem, write

API = "/api/v1"


def payload(**fields):
    return {"slug": "new-proposal", "title": "New proposal", **fields}


def far_future():
    return (timezone.now().date() + dt.timedelta(days=400)).isoformat()


# ----------------------------------------------------------------- examples


def test_future_proposed_on_is_refused_on_proposed_on(editor_api):
    response = editor_api.post(f"{API}/proposals/", payload(proposed_on="2999-01-01"), format="json")
    body = assert_problem(response, 400, "proposed_on")
    assert [e["field"] for e in body["errors"]] == ["proposed_on"]  # not occurred_on, never sent
    assert not Proposal.objects.filter(slug="new-proposal").exists()


def test_without_proposed_on_no_event_date_is_invented(editor_api):
    response = editor_api.post(f"{API}/proposals/", payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["proposed_on"] is None
    assert body["status"] == "proposed"
    assert body["events"] == []


def test_initial_status_without_proposed_on_is_refused(editor_api):
    response = editor_api.post(f"{API}/proposals/", payload(initial_status="adopted"), format="json")
    body = assert_problem(response, 400, "proposed_on")
    assert "initial_status" in body["errors"][0]["detail"]
    assert not Proposal.objects.filter(slug="new-proposal").exists()


def test_opening_event_is_dated_proposed_on_with_its_precision(editor_api):
    response = editor_api.post(
        f"{API}/proposals/",
        payload(proposed_on="2015-12-01", proposed_precision="month", initial_status="adopted"),
        format="json",
    )
    assert response.status_code == 201, response.content
    [event] = response.json()["events"]
    assert (event["status"], event["occurred_on"], event["precision"]) == ("adopted", "2015-12-01", "month")


def test_status_event_before_proposed_on_is_refused(editor_api, proposal):
    response = editor_api.post(
        f"{API}/proposals/{proposal.slug}/events/", {"status": "stalled", "occurred_on": "2010-01-01"}, format="json"
    )
    body = assert_problem(response, 400, "occurred_on")
    assert "proposed_on 2015-12-15" in body["errors"][0]["detail"]
    assert proposal.events.count() == 1


def test_event_in_the_year_of_a_day_precise_proposal_is_accepted_at_year_precision(editor_api, proposal):
    # "2015" (stored 2015-01-01) does not contradict 15 December 2015.
    response = editor_api.post(
        f"{API}/proposals/{proposal.slug}/events/",
        {"status": "under_discussion", "occurred_on": "2015-01-01", "precision": "year"},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_moving_proposed_on_after_its_events_is_refused(editor_api, proposal):
    services.status_event_record(proposal=proposal, status=Status.ADOPTED, occurred_on=dt.date(2016, 6, 1))
    response = write(editor_api, "patch", f"{API}/proposals/{proposal.slug}/", {"proposed_on": "2017-01-01"})
    assert_problem(response, 400, "proposed_on")
    proposal.refresh_from_db()
    assert proposal.proposed_on == dt.date(2015, 12, 15)


def test_future_proposed_on_is_refused_on_update(editor_api, proposal):
    response = write(editor_api, "patch", f"{API}/proposals/{proposal.slug}/", {"proposed_on": far_future()})
    assert_problem(response, 400, "proposed_on")


# ------------------------------------------------------------ service sweep


@pytest.mark.parametrize("status", [s for s in Status if s != Status.PROPOSED])
def test_every_non_default_opening_status_needs_a_date(db, status):
    with pytest.raises(ValidationError) as caught:
        ProposalFactory(proposed_on=None, initial_status=status)
    assert set(caught.value.message_dict) == {"proposed_on"}


@pytest.mark.parametrize(
    ("proposed", "proposed_precision", "occurred", "precision", "allowed"),
    [
        (dt.date(2015, 12, 15), "day", dt.date(2015, 12, 14), "day", False),
        (dt.date(2015, 12, 15), "day", dt.date(2015, 12, 15), "day", True),
        (dt.date(2015, 12, 15), "day", dt.date(2015, 12, 1), "month", True),
        (dt.date(2015, 12, 15), "day", dt.date(2015, 11, 1), "month", False),
        (dt.date(2015, 1, 1), "year", dt.date(2015, 3, 4), "day", True),
        (dt.date(2015, 1, 1), "year", dt.date(2014, 12, 31), "day", False),
    ],
)
def test_events_are_compared_with_proposed_on_at_the_coarser_precision(
    db, proposed, proposed_precision, occurred, precision, allowed
):
    proposal = ProposalFactory(proposed_on=proposed, proposed_precision=proposed_precision)
    record = lambda: services.status_event_record(  # noqa: E731
        proposal=proposal, status=Status.STALLED, occurred_on=occurred, precision=precision
    )
    if allowed:
        record()
    else:
        with pytest.raises(ValidationError) as caught:
            record()
        assert set(caught.value.message_dict) == {"occurred_on"}
