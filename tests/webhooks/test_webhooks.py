"""Webhooks: signed deliveries of the change feed by a real worker process
to a real local receiver; retries, restarts, SSRF, owners."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from proposals import services
from proposals.models import Topic
from proposals.webhooks import delivery as webhook_delivery
from proposals.webhooks.models import Delivery, Subscription
from tests.api.helpers import assert_problem

ROOT = Path(__file__).resolve().parents[2]
needs_shared_db = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the worker process needs a database it can share (SQLite tests: memory)"
)


class Receiver:
    """A local HTTP server that records what it receives. ``fail`` answers
    500 to that many requests first; ``hold`` keeps each request waiting
    until ``release`` is set."""

    def __init__(self, fail=0, hold=False):
        self.received, self.fail, self.hold = [], fail, hold
        self.arrived, self.release = threading.Event(), threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrived.set()
                if receiver.hold:
                    receiver.release.wait(30)
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        # Port 0: the system picks a free one (a fixed range clashed with
        # other runs on the same machine: "Address already in use").
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def owner(django_user_model):
    """A user who may subscribe. Staff: transactional tests flush the
    Editors group the migrations made."""
    return django_user_model.objects.create_superuser("owner", "owner@example.org", "pw-owner-1")


@pytest.fixture
def allow_loopback(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True


class Worker:
    """``manage.py webhooks_worker`` in its own process, on the test database."""

    def __init__(self):
        self.process = None

    def start(self):
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SECRET_KEY": "x",
            "DATABASE_URL": f"postgres://{quote(db['USER'])}{':' + quote(db['PASSWORD']) if db['PASSWORD'] else ''}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1",
            "WEBHOOKS_BACKOFF_SECONDS": "0.2",
            "WEBHOOKS_TIMEOUT_SECONDS": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "webhooks_worker", "--interval", "0.1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def worker():
    running = Worker()
    yield running
    running.kill()


def wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def subscribe(editor, url, **fields):
    client = APIClient()
    client.force_authenticate(editor)
    response = client.post("/api/v1/webhooks/", {"target_url": url, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@needs_shared_db
@pytest.mark.django_db(transaction=True)
def test_a_receiver_gets_each_change_once_signed_so_the_reference_library_accepts_it(
    owner, allow_loopback, receiver_factory, worker
):
    receiver = receiver_factory()
    created = subscribe(owner, receiver.url, resource_types=["topic"])
    worker.start()
    services.record_save(instance=Topic(), slug="one", name="One")
    topic = services.record_save(instance=Topic(), slug="two", name="Two")
    services.record_save(instance=topic, name="Two, renamed")
    assert wait_for(lambda: len(receiver.received) >= 3)
    time.sleep(0.5)  # anything extra would have arrived by now
    assert len(receiver.received) == 3
    verifier = Webhook(created["secret"])
    payloads = []
    # Deliveries are independent and may arrive in any order; data.seq orders them.
    for headers, body in sorted(receiver.received, key=lambda hb: json.loads(hb[1])["data"]["seq"]):
        lowered = {k.lower(): v for k, v in headers.items()}
        payloads.append(verifier.verify(body, lowered))
        assert lowered["webhook-signature"].startswith("v1,")
    assert [(p["type"], p["data"]["slug"]) for p in payloads] == [
        ("topic.create", "one"),
        ("topic.create", "two"),
        ("topic.update", "two"),
    ]
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 3
    tampered = receiver.received[0][1] + b" "
    with pytest.raises(Exception, match="signature"):
        verifier.verify(tampered, {k.lower(): v for k, v in receiver.received[0][0].items()})


@needs_shared_db
@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_fails_twice_gets_the_change_on_the_third_try(owner, allow_loopback, receiver_factory, worker):
    receiver = receiver_factory(fail=2)
    subscribe(owner, receiver.url)
    worker.start()
    services.record_save(instance=Topic(), slug="retried", name="Retried")
    assert wait_for(lambda: len(receiver.received) == 1)
    sent = Delivery.objects.get()
    assert sent.attempts == 3
    assert sent.status == "succeeded"
    assert json.loads(receiver.received[0][1])["data"]["slug"] == "retried"


@needs_shared_db
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_delivery_loses_nothing(owner, allow_loopback, receiver_factory, worker):
    receiver = receiver_factory(hold=True)
    subscribe(owner, receiver.url)
    worker.start()
    services.record_save(instance=Topic(), slug="survives", name="Survives")
    assert receiver.arrived.wait(20)  # the worker is mid-delivery
    worker.kill()
    receiver.hold = False
    receiver.release.set()
    services.record_save(instance=Topic(), slug="while-down", name="While down")  # written while no worker runs
    worker.start()
    assert wait_for(lambda: set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"})
    slugs = [json.loads(body)["data"]["slug"] for _h, body in receiver.received]
    assert sorted(set(slugs)) == ["survives", "while-down"]
    # The cut-off attempt may have reached the receiver before the kill: at
    # least once, then, under the same webhook-id, for the receiver to deduplicate.
    ids = {json.loads(body)["data"]["slug"]: h["webhook-id"] for h, body in receiver.received}
    assert len(ids) == 2
    assert (
        Delivery.objects.get(seq__isnull=False, event_type="topic.create", payload__data__slug="survives").attempts == 2
    )


@needs_shared_db
@pytest.mark.django_db(transaction=True)
def test_a_write_does_not_wait_for_a_receiver_that_hangs(owner, allow_loopback, receiver_factory, worker):
    receiver = receiver_factory(hold=True)
    subscribe(owner, receiver.url)
    worker.start()
    client = APIClient()
    client.force_authenticate(owner)
    assert client.post("/api/v1/topics/", {"slug": "first", "name": "First"}, format="json").status_code == 201
    assert receiver.arrived.wait(20)  # the receiver holds the first delivery and does not answer
    response = client.post("/api/v1/topics/", {"slug": "second", "name": "Second"}, format="json")
    assert response.status_code == 201  # answered while the receiver still hangs
    assert receiver.received == []
    receiver.hold = False
    receiver.release.set()
    assert wait_for(lambda: len(receiver.received) == 2)


@pytest.mark.django_db
def test_a_delivery_is_retried_with_backoff_and_checked_again_for_ssrf_when_sent(editor, settings, receiver_factory):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    receiver = receiver_factory()
    subscription = Subscription(owner=editor, target_url=receiver.url)
    subscription.full_clean()
    subscription.save()
    services.record_save(instance=Topic(), slug="t", name="T")
    assert webhook_delivery.dispatch() == 1
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False  # e.g. the name now resolves to a private address
    sent = Delivery.objects.get()
    assert webhook_delivery.attempt(sent.pk) == "pending"
    sent.refresh_from_db()
    assert sent.last_error  # refused: loopback, and this server's own name
    assert receiver.received == []
    assert sent.attempts == 1
    assert sent.next_attempt_at > sent.created_at
    assert webhook_delivery.backoff(3) == 4 * webhook_delivery.backoff(1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "ftp://example.org/hook",
        "not a url",
        "http://no-such-host.invalid/hook",
    ],
)
def test_private_or_invalid_targets_are_refused(editor_api, url):
    response = editor_api.post("/api/v1/webhooks/", {"target_url": url}, format="json")
    assert_problem(response, 400, "target_url")
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_subscriptions_and_their_logs_are_their_owners_only(editor, allow_loopback, django_user_model, api):
    created = subscribe(editor, "http://127.0.0.1:8169/hook", resource_types=["proposal"])
    assert created["secret"].startswith("whsec_")
    owner = APIClient()
    owner.force_authenticate(editor)
    shown = owner.get(f"/api/v1/webhooks/{created['id']}/").json()
    assert shown["secret"] is None  # shown once, at creation
    other = django_user_model.objects.create_user("other-editor")
    other.groups.add(*editor.groups.all())
    stranger = APIClient()
    stranger.force_authenticate(other)
    assert stranger.get(f"/api/v1/webhooks/{created['id']}/").status_code == 404
    assert stranger.get(f"/api/v1/webhooks/{created['id']}/deliveries/").status_code == 404
    assert stranger.get("/api/v1/webhooks/").json()["results"] == []
    assert api.get("/api/v1/webhooks/").status_code == 401
    assert owner.get(f"/api/v1/webhooks/{created['id']}/deliveries/").status_code == 200


@pytest.mark.django_db
def test_unknown_resource_types_and_proposals_are_refused(editor_api, allow_loopback):
    response = editor_api.post(
        "/api/v1/webhooks/", {"target_url": "http://127.0.0.1:8169/", "resource_types": ["widget"]}, format="json"
    )
    assert_problem(response, 400, "resource_types.0")
    response = editor_api.post(
        "/api/v1/webhooks/", {"target_url": "http://127.0.0.1:8169/", "proposal": "nope"}, format="json"
    )
    assert_problem(response, 400, "proposal")


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 20])
def test_the_subscription_list_and_delivery_log_cost_a_fixed_number_of_queries(
    editor, editor_api, allow_loopback, count, django_assert_num_queries
):
    subscription = None
    for i in range(count):
        subscription = Subscription.objects.create(owner=editor, target_url=f"http://127.0.0.1:8169/{i}")
        Delivery.objects.create(subscription=subscription, seq=i + 1, event_type="topic.create", payload={})
    with django_assert_num_queries(2):  # count, page
        assert editor_api.get("/api/v1/webhooks/").status_code == 200
    with django_assert_num_queries(3):  # the subscription, count, page
        assert editor_api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/").status_code == 200


def test_the_worker_settings_default_to_refusing_private_targets():
    assert django_settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS is False


def test_a_trickling_receiver_cannot_hold_a_delivery_beyond_the_timeout(settings):
    """``WEBHOOKS_TIMEOUT_SECONDS`` bounds the whole attempt, not each read:
    a receiver sending one byte every half second is cut off."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def drip():
        conn, _ = server.accept()
        conn.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nX: aaaaaaaa":
            try:
                conn.send(bytes([byte]))
                time.sleep(0.5)
            except OSError:
                return
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    start = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            webhook_delivery.post(f"http://127.0.0.1:{port}/", b"{}", {"content-type": "application/json"})
        assert time.monotonic() - start < 2.5
    finally:
        server.close()


@pytest.mark.django_db
@pytest.mark.parametrize("lose", ["deactivated", "no longer an editor"])
def test_no_deliveries_for_an_owner_who_lost_access(editor, topic, allow_loopback, lose):
    subscription = Subscription.objects.create(owner=editor, target_url="http://127.0.0.1:9/hook")
    services.record_save(instance=Topic.objects.get(pk=topic.pk), description="first")
    made = webhook_delivery.dispatch()
    assert made > 0
    queued = Delivery.objects.order_by("seq").last()
    if lose == "deactivated":
        editor.is_active = False
        editor.save()
    else:
        editor.groups.clear()
    editor = type(editor).objects.get(pk=editor.pk)  # no cached permissions
    services.record_save(instance=Topic.objects.get(pk=topic.pk), description="second")
    assert webhook_delivery.dispatch() == 0
    assert Delivery.objects.count() == made
    # A delivery queued before is not sent either.
    assert webhook_delivery.attempt(queued.pk) == "failed"
    assert "may no longer receive" in Delivery.objects.get(pk=queued.pk).last_error
    assert Subscription.objects.get(pk=subscription.pk).dispatched_seq == queued.seq


def test_make_run_points_webhook_links_at_its_own_address():
    """``make run PORT=8190``: the worker's payload URLs use that port."""
    try:
        out = subprocess.run(
            ["make", "-n", "run", "HOST=127.0.0.1", "PORT=8190"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except FileNotFoundError:
        pytest.skip("make is not installed")
    worker = next(line for line in out.splitlines() if "webhooks_worker" in line or "PUBLIC_BASE_URL=" in line)
    assert 'PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:8190}"' in worker
