"""History people can read (issue #13.4): one history row per admin save,
with a reason (typed or generated) and the changed fields old → new, and a
revert page whose breadcrumb leads back to the live record."""

import re

from django.urls import reverse

from proposals import services
from proposals.models import Status
from tests.admin_helpers import form_data


def _save_with_event(client, proposal, **changes):
    url = reverse("admin:proposals_proposal_change", args=[proposal.pk])
    data = form_data(client.get(url))
    n = int(data["events-TOTAL_FORMS"])
    data.update(
        {
            "events-TOTAL_FORMS": str(n + 1),
            f"events-{n}-occurred_on": "2016-03-01",
            f"events-{n}-precision": "day",
            f"events-{n}-status": Status.STALLED,
            **changes,
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]


def test_an_admin_save_writes_one_history_row_with_a_generated_reason(staff_client, proposal):
    before = proposal.history.count()
    _save_with_event(staff_client, proposal, title="Anti-extremism convention")
    rows = list(proposal.history.order_by("-history_id")[: proposal.history.count() - before])
    assert len(rows) == 1, [(r.history_type, r.history_change_reason) for r in rows]
    row = rows[0]
    assert row.history_user.username == "staff"
    assert row.history_change_reason == "changed title; status event added: stalled, 2016-03-01"
    assert (row.title, row.status) == ("Anti-extremism convention", Status.STALLED)


def test_a_reason_typed_in_the_admin_leads_the_history_row(staff_client, proposal):
    _save_with_event(staff_client, proposal, change_reason="Stalled per the 2016 communiqué")
    row = proposal.history.latest()
    assert row.history_change_reason.startswith("Stalled per the 2016 communiqué; status event added: stalled")


def test_every_row_of_a_service_write_has_a_reason(proposal, source, staff):
    # The fixture's create and quote, then a plain field change.
    services.proposal_update(proposal=proposal, summary="Changed.", user=staff)
    reasons = list(proposal.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons[0].startswith("created")
    assert reasons[-1] == "changed summary"
    assert None not in reasons and "" not in reasons
    assert None not in proposal.evidence.get().history.values_list("history_change_reason", flat=True)


def test_the_history_page_shows_who_why_and_each_change_old_to_new(staff_client, proposal):
    _save_with_event(staff_client, proposal, title="Anti-extremism convention")
    page = staff_client.get(reverse("admin:proposals_proposal_history", args=[proposal.pk])).content.decode()
    table = re.sub(r"\s+", " ", page[page.index('id="change-history"') :])
    assert "<strong>Title:</strong> Anti-extremism treaty &rarr; Anti-extremism convention" in table
    assert "<strong>Status:</strong> Proposed &rarr; Stalled" in table
    assert "status event added: stalled, 2016-03-01" in table
    # A write with no user (the fixture's) reads "system", never "None".
    assert ">None<" not in table and "system" in table
    # Bookkeeping fields are not news.
    assert "Version:" not in table and "Updated at" not in table


def test_the_revert_breadcrumb_leads_to_the_live_record_and_its_history(staff_client, proposal):
    first = proposal.history.earliest()
    services.proposal_update(proposal=proposal, title="Anti-extremism convention")
    page = staff_client.get(reverse("admin:proposals_proposal_simple_history", args=[proposal.pk, first.history_id]))
    crumbs = re.sub(r"\s+", " ", re.search(r'<div class="breadcrumbs">(.*?)</div>', page.content.decode(), re.S)[1])
    assert '<a href="/admin/proposals/">Policy proposals</a>' in crumbs
    assert '<a href="/admin/proposals/proposal/">Proposals</a>' in crumbs
    assert f'<a href="/admin/proposals/proposal/{proposal.pk}/change/">Anti-extremism convention</a>' in crumbs
    assert f'<a href="/admin/proposals/proposal/{proposal.pk}/history/">History</a>' in crumbs
    assert "Historical" not in crumbs


def test_the_restore_breadcrumb_leads_to_the_deleted_records(staff_client, proposal):
    services.proposal_delete(proposal=proposal)
    row = services.deleted_records(type(proposal)).get()
    page = staff_client.get(reverse("admin:proposals_proposal_simple_history", args=[row.id, row.history_id]))
    crumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', page.content.decode(), re.S)[1]
    assert reverse("admin:proposals_proposal_deleted") in crumbs
    assert "/change/" not in crumbs


def test_a_revert_is_one_history_row_that_says_so(staff_client, proposal):
    first = proposal.history.earliest()
    services.proposal_update(proposal=proposal, title="Anti-extremism convention")
    url = reverse("admin:proposals_proposal_simple_history", args=[proposal.pk, first.history_id])
    before = proposal.history.count()
    response = staff_client.post(url, {**form_data(staff_client.get(url)), "_continue": "1"})
    assert response.status_code == 302, response.context and response.context["errors"]
    assert proposal.history.count() == before + 1
    row = proposal.history.latest()
    assert row.title == "Anti-extremism treaty"
    assert row.history_change_reason.startswith("reverted to the version of ")
    assert row.history_change_reason.endswith("; changed title")


def _reason(record) -> str:
    return type(record).history.filter(id=record.pk).latest("history_date").history_change_reason


def test_a_part_edit_says_which_part_and_field_old_to_new(staff_client, proposal):
    # Review finding 8: was "status event changed" with an empty Changes column.
    import datetime as dt

    services.status_event_record(proposal=proposal, status=Status.STALLED, occurred_on=dt.date(2016, 3, 1))
    url = reverse("admin:proposals_proposal_change", args=[proposal.pk])
    data = form_data(staff_client.get(url))
    row = next(k[: -len("-status")] for k, v in data.items() if k.startswith("events-") and v == Status.STALLED)
    data[f"{row}-note"] = "x"
    assert staff_client.post(url, data).status_code == 302
    assert "status event (stalled, 2016-03-01) note: '' → 'x'" in _reason(proposal)


def test_the_bulk_topic_action_says_which_topic_was_added(staff_client, proposal):
    from proposals.models import Topic

    topic = services.record_save(instance=Topic(), slug="energy", name="Energy")
    staff_client.post(
        reverse("admin:proposals_proposal_changelist"),
        {"action": "attach_topic", "_selected_action": [proposal.pk], "index": "0", "apply": "1", "topic": topic.pk},
    )
    assert _reason(proposal) == "topic added: Energy"


def test_a_reader_attach_says_which_quote_the_source_gained(staff_client, source):
    quote = "A researcher said"
    start = source.text.index(quote)
    staff_client.post(
        reverse("admin:proposals_source_reader", args=[source.pk]),
        {"start": start, "end": start + len(quote), "quote": quote, "new_title": "Research"},
    )
    assert _reason(source) == f"quote added: 'A researcher said' ({start}–{start + len(quote)})"
