"""Admin pages of webhook subscriptions and their delivery log."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.webhooks.models import Delivery, Subscription


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def _make(owner, n, start=0):
    for i in range(start, start + n):
        subscription = Subscription.objects.create(owner=owner, target_url=f"https://example.org/{i}")
        Delivery.objects.create(subscription=subscription, seq=i + 1, event_type="topic.create", payload={})


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["subscription", "delivery"])
def test_changelists_have_a_pinned_query_count(staff_client, staff, model):
    url = reverse(f"admin:proposals_{model}_changelist")
    _make(staff, 3)
    few = _queries(staff_client, url)
    _make(staff, 30, start=3)
    assert _queries(staff_client, url) == few


@pytest.mark.django_db
def test_the_admin_refuses_a_private_target(staff_client, staff):
    response = staff_client.post(
        reverse("admin:proposals_subscription_add"),
        {"owner": staff.pk, "target_url": "http://169.254.169.254/latest/", "resource_types": "[]", "active": "on"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "link-local" in response.content.decode()
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_the_delivery_log_is_read_only_in_the_admin(staff_client, staff):
    _make(staff, 1)
    delivery = Delivery.objects.get()
    assert staff_client.get(reverse("admin:proposals_delivery_change", args=[delivery.pk])).status_code == 200
    assert staff_client.get(reverse("admin:proposals_delivery_add")).status_code == 403


@pytest.mark.django_db
def test_the_admin_shows_a_subscriptions_secret_only_once_when_added(staff_client, staff, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    response = staff_client.post(
        reverse("admin:proposals_subscription_add"),
        {"owner": staff.pk, "target_url": "http://127.0.0.1:9/hook", "resource_types": "[]", "active": "on"},
        follow=True,
    )
    subscription = Subscription.objects.get()
    assert subscription.secret in response.content.decode()  # the message after adding it
    for url in (
        reverse("admin:proposals_subscription_change", args=[subscription.pk]),
        reverse("admin:proposals_subscription_changelist"),
    ):
        assert subscription.secret not in staff_client.get(url).content.decode()
