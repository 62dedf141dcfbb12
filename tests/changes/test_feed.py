"""The change feed (``GET /api/v1/changes/``): one total order over the
history tables, tombstones for deletions, and mirrors that end equal to the
server whatever point they start from."""

import datetime as dt
import random
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import ProtectedError
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from proposals import services
from proposals.changes.feed import KINDS
from proposals.models import Actor, ActorKind, Evidence, Proposal, Source, Status, Topic, Venue, VenueKind
from tests.api.helpers import assert_problem

TOP_LEVEL = {name for name, kind in KINDS.items() if kind.route is not None}
TEXT = " ".join(f"Sentence number {i} says a thing about cooperation." for i in range(40))


@pytest.fixture
def unthrottled(settings, monkeypatch):
    # A mirror sends hundreds of requests from one client in seconds.
    rates = dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


class Mirror:
    """A client that mirrors the API by following the feed, as the docs say:
    fetch the URL of each changed record, drop it on a tombstone."""

    def __init__(self, client, after=0, data=None):
        self.client = client
        self.after = after
        self.data = dict(data or {})

    def follow(self, limit=7):
        url = f"/api/v1/changes/?after={self.after}&limit={limit}"
        while url:
            page = self.client.get(url).json()
            for change in page["results"]:
                assert change["seq"] > self.after
                self.after = change["seq"]
                self.apply(change)
            assert page["last_seq"] == self.after
            url = page["next"]

    def apply(self, change):
        key = (change["resource_type"], change["id"])
        if change["resource_type"] not in TOP_LEVEL:
            return  # shown by its proposal, whose own change follows in the same batch
        if change["change"] == "delete":
            self.data.pop(key, None)
            return
        response = self.client.get(change["url"])
        if response.status_code == 404:
            self.data.pop(key, None)  # deleted since: its tombstone comes later
            return
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["id"] == change["id"]
        self.data[key] = body


def server_data(client) -> dict:
    """Every live record's representation, as the API serves it now."""
    out = {}
    for name in TOP_LEVEL:
        model = KINDS[name].model
        prefix = {"proposal": "proposals", "actor": "actors", "venue": "venues", "source": "sources"}.get(
            name, "topics"
        )
        for pk, slug in model.objects.values_list("pk", "slug"):
            response = client.get(f"/api/v1/{prefix}/{slug}/")
            assert response.status_code == 200
            out[(name, pk)] = response.json()
    return out


def last_seq(client) -> int:
    seq = 0
    url = "/api/v1/changes/?limit=1000"
    while url:
        page = client.get(url).json()
        seq = page["last_seq"]
        url = page["next"]
    return seq


class World:
    """Random writes, deletes and restores through the services, on
    proposals and their parts, actors, venues, sources and topics."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.n = 0
        self.deleted: list[tuple[type, int]] = []

    def name(self, prefix):
        self.n += 1
        return f"{prefix}-{self.n}"

    def pick(self, model):
        pks = list(model.objects.values_list("pk", flat=True))
        return model.objects.get(pk=self.rng.choice(pks)) if pks else None

    def step(self):
        ops = [
            self.new_actor,
            self.new_topic,
            self.new_venue,
            self.new_source,
            self.new_proposal,
            self.new_proposal,
            self.rename,
            self.rename,
            self.edit_proposal,
            self.add_event,
            self.add_quote,
            self.remove_part,
            self.delete_record,
            self.delete_proposal,
            self.restore,
        ]
        try:
            self.rng.choice(ops)()
        except (ValidationError, ProtectedError):
            pass  # refused: changes nothing

    def new_actor(self):
        slug = self.name("actor")
        services.record_save(instance=Actor(), slug=slug, name=slug.title(), kind=ActorKind.PERSON)

    def new_topic(self):
        slug = self.name("topic")
        services.record_save(instance=Topic(), slug=slug, name=slug.title())

    def new_venue(self):
        slug = self.name("venue")
        services.record_save(instance=Venue(), slug=slug, name=slug.title(), kind=VenueKind.MEETING)

    def new_source(self):
        slug = self.name("source")
        services.record_save(instance=Source(), slug=slug, title=slug.title(), text=TEXT)

    def new_proposal(self):
        actor, topic, venue = self.pick(Actor), self.pick(Topic), self.pick(Venue)
        services.proposal_create(
            slug=self.name("proposal"),
            title=f"Proposal {self.n}",
            venue=venue,
            proposed_on=dt.date(2020, 1, 1),
            topics=[topic] if topic else [],
            proponents=[{"actor": actor, "role": "proposed", "is_primary": True}] if actor else [],
        )

    def rename(self):
        model = self.rng.choice([Actor, Topic, Venue, Source, Proposal])
        record = self.pick(model)
        if record is None:
            return
        field = "title" if model in (Source, Proposal) else "name"
        services.record_save(instance=record, **{field: f"{getattr(record, field)} {self.rng.randint(0, 99)}"})

    def edit_proposal(self):
        proposal, topic, actor = self.pick(Proposal), self.pick(Topic), self.pick(Actor)
        if proposal is None:
            return
        services.proposal_update(
            proposal=proposal, topics=[topic] if topic else [], parties=[actor] if actor else [], summary="edited"
        )

    def add_event(self):
        proposal = self.pick(Proposal)
        if proposal is not None:
            status = self.rng.choice([Status.UNDER_DISCUSSION, Status.ADOPTED, Status.STALLED])
            day = dt.date(2020, 1, 1) + dt.timedelta(days=self.rng.randint(0, 900))
            services.status_event_record(proposal=proposal, status=status, occurred_on=day)

    def add_quote(self):
        proposal, source = self.pick(Proposal), self.pick(Source)
        if proposal is not None and source is not None:
            i = self.rng.randint(0, 39)
            services.evidence_attach(proposal=proposal, source=source, quote=f"Sentence number {i} says")

    def remove_part(self):
        part = self.pick(Evidence)
        if part is not None:
            services.record_delete(instance=part)

    def delete_record(self):
        model = self.rng.choice([Actor, Topic, Venue, Source])
        record = self.pick(model)
        if record is not None:
            services.record_delete(instance=record)
            self.deleted.append((model, record.pk))

    def delete_proposal(self):
        proposal = self.pick(Proposal)
        if proposal is not None:
            services.proposal_delete(proposal=proposal)
            self.deleted.append((Proposal, proposal.pk))

    def restore(self):
        if self.deleted:
            model, pk = self.deleted.pop(self.rng.randrange(len(self.deleted)))
            services.record_restore(model=model, pk=pk)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_a_mirror_replaying_from_the_start_or_any_point_ends_with_the_servers_data(seed, unthrottled):
    client = APIClient()
    world = World(seed)
    for _ in range(8):
        world.new_actor()
        world.new_topic()
        world.new_venue()
        world.new_source()
    follower = Mirror(client)  # polls now and then, from the start
    late = None  # snapshot, then follow from the seq noted before it
    stopped = []  # clients that stopped at some point and resume at the end
    for step in range(90):
        world.step()
        if step % 15 == 0:
            follower.follow()
            stopped.append(Mirror(client, follower.after, follower.data))
        if step == 50:
            seq = last_seq(client)
            late = Mirror(client, seq, server_data(client))
    deletes = [c for c in _all_changes(client) if c["change"] == "delete"]
    assert deletes, "the run deleted something, so the feed holds tombstones"
    expected = server_data(client)
    for mirror in [follower, late, *stopped, Mirror(client)]:
        mirror.follow()
        assert mirror.data == expected


def _all_changes(client):
    url, out = "/api/v1/changes/?limit=1000", []
    while url:
        page = client.get(url).json()
        out += page["results"]
        url = page["next"]
    return out


@pytest.mark.django_db
def test_each_change_names_its_record_type_version_and_changed_fields(api, proposal, actor):
    start = last_seq(api)
    services.record_save(instance=actor, name="Li Keqiang (Premier)")
    changes = api.get(f"/api/v1/changes/?after={start}").json()["results"]
    by_type = {c["resource_type"]: c for c in changes}
    assert by_type["actor"]["change"] == "update"
    assert by_type["actor"]["changed_fields"] == ["name", "updated_at", "version"]
    assert by_type["actor"]["url"].endswith("/api/v1/actors/li-keqiang/")
    assert by_type["actor"]["version"] == Actor.objects.get(pk=actor.pk).version
    shown = by_type["proposal"]
    assert shown["proposal"] == proposal.slug
    assert shown["reason"].startswith("shows actor")
    assert shown["version"] == Proposal.objects.get(pk=proposal.pk).version
    assert [c["seq"] for c in changes] == sorted(c["seq"] for c in changes)


@pytest.mark.django_db
def test_a_deleted_proposal_leaves_tombstones_for_it_and_its_parts_and_comes_back_as_a_create(api, proposal):
    start = last_seq(api)
    services.proposal_delete(proposal=proposal)
    changes = api.get(f"/api/v1/changes/?after={start}&proposal={proposal.slug}").json()["results"]
    kinds = {(c["resource_type"], c["change"]) for c in changes}
    assert {
        ("proposal", "delete"),
        ("evidence", "delete"),
        ("proponent", "delete"),
        ("status_event", "delete"),
    } <= kinds
    assert changes[-1]["resource_type"] == "proposal"
    assert api.get(changes[-1]["url"]).status_code == 404
    mid = last_seq(api)
    services.record_restore(model=Proposal, pk=proposal.pk)
    restored = api.get(f"/api/v1/changes/?after={mid}&resource_type=proposal").json()["results"]
    assert restored[0]["change"] == "create"
    assert restored[0]["version"] > changes[-1]["version"]


@pytest.mark.django_db
def test_filters_by_resource_type_and_proposal(api, proposal, source):
    other = services.proposal_create(slug="other", title="Other")
    changes = api.get("/api/v1/changes/?resource_type=evidence,source").json()["results"]
    assert {c["resource_type"] for c in changes} == {"evidence", "source"}
    changes = api.get(f"/api/v1/changes/?proposal={other.slug}").json()["results"]
    assert {c["proposal"] for c in changes} == {"other"}
    changes = api.get("/api/v1/changes/?resource_type=proposal&resource_type=topic").json()["results"]
    assert {c["resource_type"] for c in changes} == {"proposal", "topic"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=-1", "after"),
        ("after=abc", "after"),
        ("after=99999999999999999999999", "after"),
        ("after=%EF%BC%91", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("resource_type=widget", "resource_type"),
        ("proposal=no-such-proposal", "proposal"),
        ("proposal=%00", "proposal"),
        ("proposal=a%00b", "proposal"),
        ("after=9223372036854775807", "after"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(api, query, field):
    assert_problem(api.get(f"/api/v1/changes/?{query}"), 400, field)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [5, 50])
def test_a_page_of_the_feed_costs_the_same_number_of_queries_at_any_size(api, django_assert_num_queries, size):
    for i in range(size):
        services.record_save(instance=Topic(), slug=f"t-{i}", name=f"T {i}")
    services.proposal_create(slug="p", title="P", proposed_on=dt.date(2020, 1, 1))
    # One query per history table in the feed (len(KINDS): 14 with
    # participation and the four alias tables), then the slugs of topics
    # and of proposals (live).
    assert len(KINDS) == 14
    with django_assert_num_queries(len(KINDS) + 2):
        response = api.get(f"/api/v1/changes/?limit={size + 2}")
    assert len(response.json()["results"]) == size + 2  # topics, the proposal, its opening event


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writing transaction at a time")
def test_a_change_committed_late_is_numbered_after_those_committed_before_it():
    """A transaction that wrote first but commits last must not get a seq
    below one a client has already read: numbers follow commit order."""
    client = APIClient()
    wrote, go_on = threading.Event(), threading.Event()
    errors = []

    def slow_writer():
        try:
            with services.write_batch(None):
                services.record_save(instance=Topic(), slug="slow", name="Slow")
                wrote.set()
                assert go_on.wait(10)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert wrote.wait(10)
    services.record_save(instance=Topic(), slug="fast", name="Fast")
    seen = client.get("/api/v1/changes/").json()
    fast_seq = seen["last_seq"]
    assert [c["slug"] for c in seen["results"]] == ["fast"]
    go_on.set()
    thread.join(10)
    assert not errors
    later = client.get(f"/api/v1/changes/?after={fast_seq}").json()["results"]
    assert [c["slug"] for c in later] == ["slow"]


@pytest.mark.django_db
def test_history_rows_written_outside_a_batch_are_numbered_too():
    topic = Topic(slug="raw", name="Raw")
    topic.save()  # not through the services: still a change, with a number
    row = Topic.history.get(id=topic.pk)
    assert row.change_seq is not None
    assert row.change_seq > 0


@pytest.mark.django_db
def test_a_proposal_update_caused_by_a_part_names_the_part_in_changed_fields(api, proposal, actor, topic):
    from proposals.tracking.services import aliases_sync, participation_record

    def last_change(resource_type, start):
        changes = api.get(f"/api/v1/changes/?after={start}&resource_type={resource_type}").json()["results"]
        assert changes[-1]["change"] == "update"
        return changes[-1]["changed_fields"]

    start = last_seq(api)
    participation_record(proposal=proposal, party=actor, action="supported", occurred_on=dt.date(2020, 1, 1))
    assert last_change("proposal", start) == ["participation", "updated_at", "version"]
    start = last_seq(api)
    aliases_sync(owner=Proposal.objects.get(pk=proposal.pk), aliases=[{"name": "The Treaty", "language": "en"}])
    assert last_change("proposal", start) == ["aliases", "updated_at", "version"]
    start = last_seq(api)
    aliases_sync(owner=Topic.objects.get(pk=topic.pk), aliases=[{"name": "Counter-terrorism"}])
    assert last_change("topic", start) == ["aliases", "updated_at", "version"]
    start = last_seq(api)
    services.record_save(instance=Actor.objects.get(pk=actor.pk), name="Renamed")
    assert "participation" in last_change("proposal", start)


def test_the_mirroring_guide_names_every_kind_of_record_in_the_feed():
    from proposals.changes.views import MIRROR_GUIDE

    guide = " ".join(MIRROR_GUIDE.split())
    docs = " ".join((Path(__file__).resolve().parents[2] / "docs" / "CHANGES.md").read_text().split())
    for kind in KINDS:
        assert f"`{kind}`" in guide or kind in {"proposal", "actor", "venue", "source", "topic"}, kind
        assert kind in docs or kind in {"proposal", "actor", "venue", "source", "topic"}, kind
    assert "Participation is not in them" not in docs
