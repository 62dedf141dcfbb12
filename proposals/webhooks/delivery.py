"""Turning changes into signed deliveries, and sending them.

Signing follows the Standard Webhooks specification
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
headers ``webhook-id`` (the same on every retry), ``webhook-timestamp``
(Unix seconds, so receivers can refuse replays) and ``webhook-signature``
(``v1,`` and the base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` with
the ``whsec_`` secret), computed by the specification's own Python
library, ``standardwebhooks``.

Targets are checked against server-side request forgery (OWASP SSRF
Prevention Cheat Sheet): only http(s), and every address the host resolves
to must be public (not loopback, private, link-local, multicast, reserved
or unspecified) and not this server's own name, unless
``WEBHOOKS_ALLOW_PRIVATE_TARGETS``. The check runs when the subscription is
saved and again at every delivery, and the connection goes to the very
address that passed (no second lookup), so DNS rebinding cannot redirect
it. Redirects are not followed.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import socket
import ssl
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.http.request import validate_host
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from ..changes.feed import KINDS, build_entries, read_page, route_prefix
from .models import Delivery, DeliveryStatus, Subscription

DISPATCH_PAGE = 500


# --------------------------------------------------------------------------
# SSRF
# --------------------------------------------------------------------------


def resolve_target(url: str) -> list[str]:
    """The addresses ``url``'s host resolves to, all of them allowed as
    webhook targets; ``ValidationError`` on ``target_url`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"target_url": "Give an http or https URL with a host."})
    host = parts.hostname
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS
    if not allow_private and is_own_host(host):
        raise ValidationError({"target_url": "This URL points at the tracker itself."})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise ValidationError({"target_url": f"The host {host!r} does not resolve."}) from None
    addresses = sorted({info[4][0] for info in infos})
    if not allow_private:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not all(is_public(candidate) for candidate in (ip, *embedded_ipv4(ip))):
                raise ValidationError(
                    {
                        "target_url": f"The host resolves to {address}, a loopback, private, link-local, multicast "
                        "or reserved address; webhooks go to public addresses only (SSRF)."
                    }
                )
    return addresses


def is_own_host(host: str) -> bool:
    """Whether ``host`` is one of this server's names: it matches
    ``ALLOWED_HOSTS`` the way Django matches a request's host (``.example``
    covers its subdomains; ``*``, which matches anything, is left out)."""
    patterns = [pattern for pattern in settings.ALLOWED_HOSTS if pattern != "*"]
    return validate_host(host.lower().rstrip("."), patterns)


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast


#: NAT64 prefixes (RFC 6052 well-known, RFC 8215 local use): a translator
#: sends ``64:ff9b::a.b.c.d`` to the IPv4 address a.b.c.d.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291 §2.5.5.1 (deprecated ``::a.b.c.d``)


def embedded_ipv4(ip) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address embeds and is routed to by
    translators or tunnels: IPv4-mapped (``::ffff:a.b.c.d``),
    IPv4-compatible (``::a.b.c.d``), NAT64 (``64:ff9b::a.b.c.d``), 6to4
    (``2002:aabb:ccdd::``) and Teredo (server and client). Each must be
    public too (OWASP SSRF Prevention Cheat Sheet: check the address that
    will actually be reached)."""
    if ip.version != 6:
        return []
    found = []
    if ip.ipv4_mapped:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour:
        found.append(ip.sixtofour)
    if ip.teredo:
        found.extend(ip.teredo)
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in network for network in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(low)
    return found


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, address, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict) -> int:
    """POST ``body`` to ``url`` at an address that passed the SSRF check;
    the response's status code. The whole attempt (connect, send, status
    line, headers and up to 64 KiB of body) must end within
    ``WEBHOOKS_TIMEOUT_SECONDS`` seconds: a socket timeout alone only bounds
    each read, so a receiver trickling a byte at a time could hold the worker
    indefinitely; a watchdog shuts the socket down at the deadline. Raises
    ``ValidationError`` (refused target), ``TimeoutError`` (deadline) or
    ``OSError``/``http.client.HTTPException`` (network)."""
    address = resolve_target(url)[0]
    parts = urlsplit(url)
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(
            address, parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(address, parts.hostname, parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    expired = threading.Event()

    def cut_off():
        expired.set()
        if connection.sock is not None:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(timeout, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        if expired.is_set():
            raise TimeoutError(f"No complete answer within {timeout:g} s.")
        return response.status
    except (OSError, http.client.HTTPException, ValueError):
        if expired.is_set():
            raise TimeoutError(f"No complete answer within {timeout:g} s.") from None
        raise
    finally:
        watchdog.cancel()
        connection.close()


# --------------------------------------------------------------------------
# Deliveries
# --------------------------------------------------------------------------


def signed_request(delivery: Delivery, now: dt.datetime | None = None) -> tuple[bytes, dict]:
    """The body and headers of one attempt (Standard Webhooks)."""
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)
    now = now or timezone.now()
    signature = Webhook(delivery.subscription.secret).sign(delivery.message_id, now, body)
    headers = {
        "content-type": "application/json",
        "user-agent": "policy-proposal-tracker-webhooks",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return body.encode(), headers


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: base * 2**(attempts-1), at most a day."""
    seconds = settings.WEBHOOKS_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, 86400))


RECEIVE_PERMISSION = "proposals.add_subscription"


def may_receive(owner) -> bool:
    """Whether a subscription's owner may still be sent changes: an active
    account that still holds the permission to subscribe (the Editors
    group's ``proposals.add_subscription``; superusers hold all). An active
    account is an authenticated reader, so ``API_READ_REQUIRES_AUTH`` is
    respected too. Checked at dispatch and again at every attempt."""
    return owner.is_active and owner.has_perm(RECEIVE_PERMISSION)


def dispatch() -> int:
    """Turn the feed's changes past each active subscription's
    ``dispatched_seq`` into deliveries and queue them; returns how many.
    A subscription is locked while it is dispatched (``skip_locked``: two
    workers never dispatch one twice). A subscription whose owner may no
    longer receive changes (:func:`may_receive`) is skipped and keeps its
    mark: nothing is sent unless access is given back."""
    made = 0
    for pk in Subscription.objects.filter(active=True, owner__is_active=True).values_list("pk", flat=True):
        with transaction.atomic():
            subscription = Subscription.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if subscription is None or not may_receive(subscription.owner):
                continue
            kinds = [k for k in KINDS if not subscription.resource_types or k in subscription.resource_types]
            rows, _more = read_page(
                after=subscription.dispatched_seq,
                limit=DISPATCH_PAGE,
                kinds=kinds,
                proposal_id=subscription.proposal_pk,
            )
            if not rows:
                continue
            entries = build_entries(rows, lambda route: route_prefix(route, settings.PUBLIC_BASE_URL))
            deliveries = [
                Delivery(
                    subscription=subscription,
                    seq=entry["seq"],
                    event_type=f"{entry['resource_type']}.{entry['change']}",
                    payload=json.loads(
                        json.dumps(
                            {
                                "type": f"{entry['resource_type']}.{entry['change']}",
                                "timestamp": entry["time"],
                                "data": entry,
                            },
                            cls=DjangoJSONEncoder,
                        )
                    ),
                )
                for entry in entries
            ]
            Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            subscription.dispatched_seq = rows[-1]["change_seq"]
            subscription.save(update_fields=["dispatched_seq"])
            made += len(deliveries)
            if _more:
                transaction.on_commit(enqueue_dispatch)
    if made:
        enqueue_due()
    return made


def enqueue_due(*, restarting: bool = False) -> int:
    """Queue a delivery task for every pending delivery that is due and not
    being attempted; returns how many. ``restarting`` (the worker's start):
    also those whose attempt a killed worker cut off, each to run when its
    lease expires."""
    from .tasks import deliver

    now = timezone.now()
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING)
    if not restarting:
        pending = pending.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now), next_attempt_at__lte=now)
    count = 0
    for pk, due, lease in pending.values_list("pk", "next_attempt_at", "lease_until"):
        run_after = max(due, lease or due)
        (deliver.using(run_after=run_after) if run_after > now else deliver).enqueue(pk)
        count += 1
    return count


def attempt(delivery_id: int) -> str:
    """One attempt at a delivery: take its lease, POST, record the outcome,
    and on failure schedule the next try with exponential backoff (or give
    up after ``WEBHOOKS_MAX_ATTEMPTS``). Returns the delivery's status."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return delivery.status if delivery else "missing"
        if (delivery.lease_until and delivery.lease_until > now) or delivery.next_attempt_at > now:
            return "not due"
        if not may_receive(delivery.subscription.owner):
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "The subscription's owner may no longer receive changes (inactive or not an editor)."
            delivery.save(update_fields=["status", "last_error"])
            return delivery.status
        delivery.attempts += 1
        # Long enough for the POST to time out; a worker killed mid-attempt
        # leaves it to expire and the delivery is tried again.
        delivery.lease_until = now + dt.timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS * 2 + 1)
        delivery.save(update_fields=["attempts", "lease_until"])
    body, headers = signed_request(delivery)
    error, code = "", None
    try:
        code = post(delivery.subscription.target_url, body, headers)
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    delivery.lease_until = None
    delivery.last_status_code = code
    delivery.last_error = error
    if not error:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = timezone.now()
    elif delivery.attempts >= settings.WEBHOOKS_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
    delivery.save(
        update_fields=["lease_until", "last_status_code", "last_error", "status", "delivered_at", "next_attempt_at"]
    )
    if delivery.status == DeliveryStatus.PENDING:
        from .tasks import deliver

        deliver.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
    return delivery.status


def enqueue_dispatch() -> None:
    from .tasks import dispatch_changes

    dispatch_changes.enqueue()


def dispatch_if_subscribed() -> None:
    """Run after a write batch commits: queue a dispatch when anyone is
    subscribed. Only a task row is written (no HTTP call in the request)."""
    if Subscription.objects.filter(active=True).exists():
        enqueue_dispatch()


def changes_sealed_receiver(sender, last_seq, using, **kwargs):
    """``changes_sealed`` receiver: dispatch once the batch has committed."""
    transaction.on_commit(dispatch_if_subscribed, using=using)
