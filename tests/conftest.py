"""Shared fixtures. Tests run against the real database DATABASE_URL names
(PostgreSQL in CI) or the embedded SQLite; nothing is mocked."""

import datetime as dt
import itertools
import uuid

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from proposals import services
from proposals.models import Actor, ActorKind, Source, Topic, Venue, VenueKind

SAMPLE_TEXT = (
    "At the summit, Premier Li called for the signing of an anti-extremism treaty. "
    "A researcher said the bloc may launch a cooperative mechanism. "
    "The treaty was discussed again. The treaty was discussed again."
)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests serve files from the apps.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_RUN = uuid.uuid4().hex[:12]
_TEST_NUMBERS = itertools.count()


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings, tmp_path_factory):
    """Each test gets fresh throttle counters and export slots under a key
    prefix of its own, in whatever cache the settings name (a shared Redis
    when REDIS_URL is set; else files, in a folder of this run's own).
    Never ``cache.clear()``: on Redis that empties a database that other
    processes share."""
    caches = {}
    for name, config in settings.CACHES.items():
        config = {**config, "KEY_PREFIX": f"test-{_RUN}-{next(_TEST_NUMBERS)}"}
        if config["BACKEND"].endswith("FileBasedCache"):
            config["LOCATION"] = str(tmp_path_factory.getbasetemp() / "cache")
        caches[name] = config
    settings.CACHES = caches


@pytest.fixture
def source(db):
    return services.record_save(
        instance=Source(),
        slug="sample-source",
        title="Sample report",
        authors="A. Reporter",
        outlet="Sample Outlet",
        published_on=dt.date(2015, 12, 15),
        text=SAMPLE_TEXT,
    )


@pytest.fixture
def actor(db):
    return services.record_save(
        instance=Actor(), slug="li-keqiang", name="Li Keqiang", kind=ActorKind.PERSON, description="Premier of China"
    )


@pytest.fixture
def venue(db):
    return services.record_save(instance=Venue(), slug="sco-summit", name="SCO summit", kind=VenueKind.SUMMIT)


@pytest.fixture
def topic(db):
    return services.record_save(instance=Topic(), slug="legal-instruments", name="Legal instruments")


@pytest.fixture
def proposal(db, actor, venue, topic, source):
    proposal = services.proposal_create(
        slug="anti-extremism-treaty",
        title="Anti-extremism treaty",
        summary="A treaty against extremism.",
        venue=venue,
        proposed_on=dt.date(2015, 12, 15),
        topics=[topic],
        proponents=[{"actor": actor, "role": "called_for", "is_primary": True}],
    )
    services.evidence_attach(
        proposal=proposal, source=source, quote="Premier Li called for the signing of an anti-extremism treaty."
    )
    return proposal


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create_user("editor", password="pw-editor-1")
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user("reader", password="pw-reader-1")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("staff", "staff@example.org", "pw-staff-1")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def editor_api(editor):
    client = APIClient()
    client.force_authenticate(editor)
    return client


@pytest.fixture
def staff_client(client, staff):
    """The Django test client signed in as a superuser (the admin's staff)."""
    client.force_login(staff)
    return client
