"""Deleted records of every kind: listed per model in the admin, restored
exactly (same id) through ``services.record_restore``, with a version that
continues past the deleted one so no ETag a client holds matches again; and
the seed loader's writes move the ETags of what shows them, like the admin's
and the API's (issue #10)."""

import shutil

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals import services
from proposals.importers import SEEDS_DIR, load_seeds
from proposals.models import Actor, ActorKind, Proposal, Source, Topic, Venue, VenueKind
from tests.api.helpers import write

API = "/api/v1"

KINDS = {
    "actor": (Actor, "actors", {"slug": "gone-actor", "name": "Gone actor", "kind": ActorKind.PERSON}),
    "venue": (Venue, "venues", {"slug": "gone-venue", "name": "Gone venue", "kind": VenueKind.SUMMIT}),
    "topic": (Topic, "topics", {"slug": "gone-topic", "name": "Gone topic"}),
    "source": (Source, "sources", {"slug": "gone-source", "title": "Gone source", "text": "Some text."}),
}


def _detail(plural, record):
    return f"{API}/{plural}/{record.slug if plural == 'topics' else record.pk}/"


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_is_listed_when_deleted_and_restored_exactly(staff_client, editor_api, kind):
    model, plural, fields = KINDS[kind]
    record = services.record_save(instance=model(), **fields)
    write(editor_api, "patch", _detail(plural, record), {"slug": fields["slug"]})  # no change, no new version
    before = editor_api.get(_detail(plural, record))
    old_tag = before["ETag"]
    assert (
        staff_client.post(reverse(f"admin:proposals_{kind}_delete", args=[record.pk]), {"post": "yes"}).status_code
        == 302
    )
    assert not model.objects.filter(pk=record.pk).exists()

    listing = staff_client.get(reverse(f"admin:proposals_{kind}_deleted"))
    assert listing.status_code == 200
    row = model.history.filter(id=record.pk, history_type="-").get()
    restore_url = reverse(f"admin:proposals_{kind}_simple_history", args=[record.pk, row.history_id])
    assert restore_url in listing.content.decode()

    assert staff_client.get(restore_url).status_code == 200
    response = staff_client.post(restore_url, {"_save": "Revert"})
    assert response.status_code == 302
    assert response["Location"] == reverse(f"admin:proposals_{kind}_change", args=[record.pk])

    after = editor_api.get(_detail(plural, record))
    assert after.status_code == 200
    assert after["ETag"] != old_tag, "an old tag must never match the restored record"
    ignore = {"version", "updated_at"}
    assert {k: v for k, v in after.json().items() if k not in ignore} == {
        k: v for k, v in before.json().items() if k not in ignore
    }
    assert record.pk not in [r.id for r in services.deleted_records(model)]
    assert "restored" in model.history.filter(id=record.pk).latest("history_date").history_change_reason


def test_restoring_a_record_whose_slug_was_taken_is_refused_with_a_message(staff_client):
    topic = services.record_save(instance=Topic(), slug="taken", name="First")
    pk = topic.pk
    services.record_delete(instance=topic)
    services.record_save(instance=Topic(), slug="taken", name="Second")
    row = Topic.history.filter(id=pk, history_type="-").get()
    response = staff_client.post(
        reverse("admin:proposals_topic_simple_history", args=[pk, row.history_id]), {"_save": "Revert"}, follow=True
    )
    assert "slug" in response.content.decode().lower()
    assert not Topic.objects.filter(pk=pk).exists()


@pytest.mark.parametrize("kind", list(KINDS) + ["proposal"])
def test_the_deleted_records_page_has_a_pinned_query_count(staff_client, kind, django_assert_max_num_queries):
    """The same number of queries at 5 and at 50 deleted records."""
    model = KINDS[kind][0] if kind in KINDS else Proposal
    url = reverse(f"admin:proposals_{kind}_deleted")

    def make(n, start):
        for i in range(start, start + n):
            if model is Proposal:
                record = services.proposal_create(slug=f"gone-{i}", title=f"Gone {i}")
            else:
                fields = dict(KINDS[kind][2], slug=f"gone-{i}")
                fields["name" if "name" in fields else "title"] = f"Gone {i}"
                record = services.record_save(instance=model(), **fields)
            services.record_delete(instance=record)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    make(5, 0)
    small = count()
    make(45, 5)
    assert count() == small


def test_a_seed_change_moves_the_etag_of_every_proposal_that_shows_it(db, tmp_path, api):
    """The loader writes through the services too: renaming a venue in the
    seed file moves the ETag and updated_at of the proposals at that venue."""
    load_seeds()
    data = yaml.safe_load((SEEDS_DIR / "data" / "corpus.yaml").read_text(encoding="utf-8"))
    venue = data["venues"][0]
    shown_at = [p["slug"] for p in data["proposals"] if p.get("venue") == venue["slug"]]
    assert shown_at
    url = f"{API}/proposals/{shown_at[0]}/"
    before = api.get(url)
    venue["name"] += " (renamed)"
    changed = tmp_path / "corpus.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    shutil.copytree(SEEDS_DIR / "sources", tmp_path / "sources")

    load_seeds(changed, sources_dir=tmp_path / "sources")

    after = api.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after.json()["venue"]["name"] == venue["name"]
    assert after.json()["updated_at"] > before.json()["updated_at"]


def test_the_restore_page_says_restore_and_hides_it_from_view_only_users(staff_client, client, django_user_model):
    # Review finding 13.
    from tests.admin_helpers import limited_client

    topic = services.record_save(instance=Topic(), slug="gone-topic", name="Gone topic")
    staff_client.post(reverse("admin:proposals_topic_delete", args=[topic.pk]), {"post": "yes"})
    row = Topic.history.filter(id=topic.pk, history_type="-").get()
    url = reverse("admin:proposals_topic_simple_history", args=[topic.pk, row.history_id])
    page = staff_client.get(url).content.decode()
    assert 'value="Restore"' in page and "Revert" not in page
    limited_client(django_user_model, client, "view_topic")
    page = client.get(url).content.decode()
    assert 'name="_save"' not in page
    assert "restoring it needs the permission" in page
    assert client.post(url, {"_save": "Restore"}).status_code == 403
    assert not Topic.objects.filter(pk=topic.pk).exists()
