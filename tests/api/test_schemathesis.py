"""The API keeps the promises of its own OpenAPI schema, for generated input.

Schemathesis reads the schema the app serves (``/api/schema/``) and, for
every operation, generates requests from it: valid ones (positive) and ones
that break it (negative: wrong types, missing required fields, bad enums...).
They run in-process over WSGI against the real database, seeded with the
curated corpus, once anonymously and once as an editor with a knox token.
Every response must be:

* not a server error (5xx);
* a status code the schema documents for that operation;
* of a content type the schema documents for that status;
* valid against the response schema documented for it, headers included;
* for a request that breaks the schema, a refusal (4xx), never a success:
  nothing the schema forbids is accepted (``negative_data_rejection``);
* without a required header (``If-Match``), a refusal;
* for a 405, an ``Allow`` header that lists what the schema documents.

Writes need ``If-Match``; for some examples the test sends the record's
real ETag (read first), so successful writes are checked as well as the
428/412 refusals. Each example runs in a savepoint that is rolled back, so
every example meets the same seeded data. Examples are bounded and
derandomised: the run is repeatable and takes seconds.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from knox.models import AuthToken
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from werkzeug.test import Client as WerkzeugClient

from proposals.importers import load_seeds
from proposals.models import Actor, Proposal, Source, Suggestion, Topic, Venue
from proposals.suggestions.services import suggest_for_source
from proposals.webhooks.models import Subscription
from tracker.wsgi import application

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.missing_required_header,
    schemathesis.checks.allow_header_conformance,
]
MAX_EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 20}


#: Refusals of schema-violating requests (``negative_data_rejection``):
#: schemathesis' default list plus 412 (``If-Match`` is checked first, so
#: a stale tag refuses a bad body too) and 413. A 5xx is never one.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "412", "413", "415", "422", "428", "429"]
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}})


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)


@pytest.fixture
def unthrottled(settings, monkeypatch):
    # The run sends hundreds of requests from one client in seconds.
    lifted = "1000000/minute"
    rates = {
        **SimpleRateThrottle.THROTTLE_RATES,
        **dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], lifted),
    }
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    # The export's cap on concurrent exports is a limit too: the generated
    # requests never read their CSV streams to the end, so their slots are
    # only freed when they time out.
    settings.API_EXPORT_MAX_CONCURRENT = 1_000_000


@pytest.fixture
def keep_the_test_connection():
    """Schemathesis calls the real WSGI handler, which closes "old" database
    connections at each request's start and end: inside the test's
    transaction that would close its connection (PostgreSQL; SQLite's
    in-memory one survives). Django's test client unhooks the same signals."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db):
    """The curated corpus; returns, per resource, identifiers of records
    that exist, which path parameters take besides generated ones."""
    load_seeds()
    suggest_for_source(Source.objects.get(slug="scmp-2015-china-on-is-threat"))

    def first(model, field):
        return list(model.objects.order_by("pk").values_list(field, flat=True)[:4])

    known = {
        "proposals": first(Proposal, "slug"),
        "topics": first(Topic, "slug"),
        "actors": first(Actor, "pk"),
        "venues": first(Venue, "pk"),
        "sources": first(Source, "pk"),
        "suggestions": first(Suggestion, "pk"),
    }
    assert all(known.values()), known
    return known


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()  # raises if the schema has an operation it cannot read


def _etag_of(path: str) -> str | None:
    """The current ETag of the record at ``path``, if it exists."""
    # Werkzeug's client, as schemathesis uses: Django's test client would
    # re-hook close_old_connections when done (see keep_the_test_connection).
    response = WerkzeugClient(application).get(path)
    return response.headers.get("ETag") if response.status_code == 200 else None


def _exercise(operation, mode, roles: dict, known_ids: dict) -> None:
    """Send bounded generated examples of ``operation``, each once per role,
    and validate every response; raises on the first failure."""
    # /api/v1/<resource>/{…}/…: the one path parameter names a record of <resource>.
    resource = operation.path.split("/")[3]
    # Positive examples mostly address a record that exists. Negative ones
    # keep their generated path values: swapping in a real id could repair
    # the very part schemathesis broke, and a valid request is not refused.
    real_ids = (
        {p.name: st.sampled_from([*known_ids[resource], None]) for p in operation.path_parameters}  # None: keep it
        if mode is GenerationMode.POSITIVE
        else {}
    )
    conditional = operation.method.upper() in ("PUT", "PATCH", "DELETE")

    @settings(
        max_examples=MAX_EXAMPLES[mode],
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the example as found
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), ids=st.fixed_dictionaries(real_ids), etag=st.booleans())
    def run(case, ids, etag):
        # Mostly address a record that exists...
        for name, value in ids.items():
            if value is not None:
                case.path_parameters[name] = value
        # ...and, for a write, hold its current ETag, so it can succeed.
        if conditional and etag and (current := _etag_of(case.formatted_path)):
            case.headers = {**(case.headers or {}), "If-Match": current}
        for role, headers in roles.items():
            with transaction.atomic():  # every example meets the same data
                try:
                    case.call_and_validate(headers=headers, checks=CHECKS)
                except Exception as exc:
                    raise AssertionError(f"As {role}:\n{exc}") from exc
                finally:
                    transaction.set_rollback(True)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_every_operation_keeps_the_schemas_promises(
    api_schema, seeded, unthrottled, keep_the_test_connection, editor, mode
):
    # The editor's own webhook subscriptions (targets are not resolved here:
    # the records are made directly, and nothing delivers during the run).
    seeded["webhooks"] = [
        Subscription.objects.create(owner=editor, target_url=f"https://example.org/{i}").pk for i in range(2)
    ]
    roles = {
        "anonymous": {},
        "editor (knox token)": {"Authorization": f"Token {AuthToken.objects.create(editor)[1]}"},
    }
    operations = list(_operations(api_schema))
    # 5 resources x 7, events and evidence x 2, participation x 6 (list, create, get, put, patch, delete)
    assert len(operations) >= 45, [op.label for op in operations]
    failures = []
    for operation in operations:
        try:
            _exercise(operation, mode, roles, seeded)
        except Unsatisfiable:
            # Only a path slug to vary, and every string is a valid one to
            # send: there is no negative request for this operation.
            assert mode == GenerationMode.NEGATIVE, operation.label
        except Exception as exc:  # noqa: BLE001 - every operation runs; all failures are reported together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, f"{len(failures)} operation(s) broke the schema's promises:\n\n" + "\n\n".join(failures)
