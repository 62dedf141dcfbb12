"""Health probes: /readyz is ready only when the database holds every
migration this code ships; both probes answer plain HTTP under DJANGO_SECURE.
Against real servers (an empty database, a hung one): tests/test_deploy.py,
tests/test_prod_stack.py."""

from django.db import connection

from tests.test_settings import settings_json


def test_readyz_is_ok_on_a_migrated_database(client, db):
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_readyz_is_503_when_a_migration_is_missing(client, db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM django_migrations WHERE app = 'proposals' ORDER BY name DESC LIMIT 1",
        )
        (latest,) = cursor.fetchone()
        cursor.execute("DELETE FROM django_migrations WHERE app = 'proposals' AND name = %s", [latest])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert f"proposals.{latest}" in response.json()["detail"]
    assert "not migrated" in response.json()["detail"]


def test_readyz_is_503_without_a_migrations_table(client, db):
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE django_migrations")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "not migrated" in response.json()["detail"]


def test_health_probes_are_exempt_from_the_https_redirect(client, db, settings):
    exempt = settings_json("settings.SECURE_REDIRECT_EXEMPT", DJANGO_SECURE="1", DJANGO_SECRET_KEY="k")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = exempt
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/proposals/").status_code == 301
    assert client.get("/admin/login/").status_code == 301
