"""``?q=`` through the RUM index (migration 0014), and without it.

With the index, a search no alias matches reads its page in the index's
rank order (an incremental sort by id among equal ranks, no sort of every
match); the ``ts_rank`` path is the fallback and must give the same
proposals in the same order. The fallback is switched on per connection
(``RUM_FLAG``), as when the server has no ``rum`` extension.
"""

import importlib
import re
import uuid

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.tracking import services as tracking
from proposals.tracking.search import RUM_FLAG, RUM_INDEX, forget_rum_index, rum_index_present
from tests.factories import EvidenceFactory, ProposalFactory, SourceFactory, create_proposals_in_bulk

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="RUM is a PostgreSQL index")

URL = "/api/v1/proposals/"


def require_rum() -> None:
    """Skip unless the test database has the RUM index: the server may lack
    the extension (``.ci/run`` installs ``postgresql-<major>-rum``)."""
    forget_rum_index(connection=connection)
    if not rum_index_present(connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
            available = cursor.fetchone() is not None
        assert not available, "the server has rum but migration 0014 made no index"
        pytest.skip("the rum extension is not installed on this PostgreSQL server")


@pytest.fixture
def rum(db):
    require_rum()


@pytest.fixture(params=["rum", "ts_rank"])
def ranking(request, monkeypatch, db):
    """Each test twice: through the RUM index, and as without it."""
    if request.param == "ts_rank":
        monkeypatch.setattr(connection, RUM_FLAG, False, raising=False)
    else:
        require_rum()
    return request.param


def slugs(api, **params) -> list[str]:
    response = api.get(URL, params)
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def page_query(api, **params) -> str:
    """The SQL of the list's page query for these parameters, as run."""
    with CaptureQueriesContext(connection) as queries:
        assert api.get(URL, params).status_code == 200
    pages = [q["sql"] for q in queries.captured_queries if "list_json" in q["sql"] and "COUNT(" not in q["sql"]]
    assert len(pages) == 1, [q["sql"] for q in queries.captured_queries]
    return pages[0]


def search_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes "
            "WHERE tablename = 'proposals_proposal' AND indexdef LIKE '%%search_vector%%'"
        )
        return {row[0] for row in cursor.fetchall()}


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        # A test table is tiny: a sequential scan, or sorting its few rows,
        # would win on cost alone. With both priced out, a plain Sort is
        # still chosen when the query gives the planner no other way to its
        # order (it did with ``ORDER BY rank, id`` on the table itself).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_sort")
    return plan


@pytest.fixture
def relevance(db):
    """Four proposals that mention "extradition" with falling relevance:
    in the title (weight A), three times in the summary (B), once in the
    summary, once in an evidence quote (C); and one that does not."""
    ProposalFactory(slug="quote", title="Data sharing", summary="Records.")
    ProposalFactory(slug="once", title="Border policy", summary="It mentions extradition once.")
    ProposalFactory(slug="title", title="Extradition pact", summary="A pact.")
    ProposalFactory(slug="thrice", title="Legal aid", summary="Extradition, extradition and extradition again.")
    ProposalFactory(slug="unrelated", title="Customs union", summary="Tariffs.")
    source = SourceFactory(text="Nothing else. Officials spoke of extradition at length. The end.")
    EvidenceFactory(
        proposal=ProposalFactory._meta.model.objects.get(slug="quote"),
        source=source,
        quote="Officials spoke of extradition at length.",
    )


def test_the_plain_search_reads_its_page_in_the_rum_index_order(api, rum):
    create_proposals_in_bulk(30)
    plan = explain(page_query(api, q="bulk", page_size=5))
    assert RUM_INDEX in plan, plan
    assert "Order By: (search_vector <=>" in plan, plan
    # Equal ranks are put in id order by an incremental sort over the index
    # order; no node sorts every match.
    assert "Incremental Sort" in plan, plan
    assert not re.search(r"(^|->)\s*Sort  \(cost", plan, re.MULTILINE), plan


def test_without_the_index_the_search_ranks_with_ts_rank(api, relevance, monkeypatch):
    monkeypatch.setattr(connection, RUM_FLAG, False, raising=False)
    sql = page_query(api, q="extradition")
    assert "ts_rank(" in sql and "<=>" not in sql, sql


def test_most_relevant_first_on_both_paths(api, relevance, ranking):
    assert slugs(api, q="extradition") == ["title", "thrice", "once", "quote"]
    assert slugs(api, q="extradition -pact") == ["thrice", "once", "quote"]
    assert slugs(api, q="extradition", ordering="slug") == ["once", "quote", "thrice", "title"]


def test_equal_ranks_page_by_id_without_overlap(api, ranking, db):
    bulk = create_proposals_in_bulk(7)  # the same rank for "bulk": title only, one word
    expected = [p.slug for p in sorted(bulk, key=lambda p: -p.pk)]
    pages = [slugs(api, q="bulk", page_size=3, page=n) for n in (1, 2, 3)]
    assert [slug for page in pages for slug in page] == expected


def test_both_paths_find_the_same_proposals(api, relevance, rum, monkeypatch):
    # Single words and ``or``: RUM's distance is 1 / ts_rank, so the order is
    # the same too. Words that must all appear (and phrases, exclusions) RUM
    # ranks with its own formula: the same proposals, and at 1M the same
    # title matches first, but not always in ts_rank's order.
    create_proposals_in_bulk(5)
    same_order = ["extradition", "bulk", "bulk or extradition", "pact or bulk"]
    same_set = ['"extradition pact"', "pact -extradition", "extradition pact", "the", "bulk proposal"]
    through_rum = {q: slugs(api, q=q, page_size=100) for q in same_order + same_set}
    monkeypatch.setattr(connection, RUM_FLAG, False, raising=False)
    through_ts_rank = {q: slugs(api, q=q, page_size=100) for q in same_order + same_set}
    assert {q: through_ts_rank[q] for q in same_order} == {q: through_rum[q] for q in same_order}
    assert {q: set(through_ts_rank[q]) for q in same_set} == {q: set(through_rum[q]) for q in same_set}
    assert len(through_rum["bulk or extradition"]) == 9
    assert len(through_rum["bulk proposal"]) == 5


def test_an_alias_match_and_an_exact_alias_still_count(api, relevance, ranking, actor):
    # Found through a proponent's alias only: the general path.
    aliased = ProposalFactory(
        slug="by-alias",
        title="Premier's proposal",
        summary="No match in the text.",
        proponents=[{"actor": actor, "role": "proposed", "is_primary": True}],
    )
    tracking.alias_add(owner=actor, name="extradition hawk", language="en")
    assert set(slugs(api, q="extradition hawk")) == {"by-alias"}
    # An alias equal to the whole query puts its proposal first, above a
    # better text match.
    tracking.alias_add(owner=aliased, name="Extradition", language="en")
    assert slugs(api, q="extradition")[:2] == ["by-alias", "title"]
    assert slugs(api, q="extradition pact") == ["title"]  # no alias: the index path


def test_the_connection_looks_for_the_index_once(rum):
    forget_rum_index(connection=connection)
    with CaptureQueriesContext(connection) as first:
        assert rum_index_present(connection)
    with CaptureQueriesContext(connection) as again:
        assert rum_index_present(connection)
    assert (len(first), len(again)) == (1, 0)


def test_the_migration_carries_on_when_the_extension_cannot_be_created(rum, capsys):
    migration = importlib.import_module("proposals.migrations.0014_search_rum_index")
    role = f"rum_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        # All inside the test's transaction, rolled back after it.
        cursor.execute("DROP EXTENSION rum CASCADE")
        cursor.execute(f"CREATE ROLE {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    try:
        with connection.schema_editor(atomic=False) as editor:
            migration.forward(apps, editor)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT to_regclass(%s), (SELECT count(*) FROM pg_extension WHERE extname = 'rum')", [RUM_INDEX]
            )
            assert cursor.fetchone() == (None, 0)  # and the transaction is still usable
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    err = capsys.readouterr().err
    assert "rum extension not created (InsufficientPrivilege: permission denied" in err, err
    assert err.strip().count("\n") == 0, err


@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses_and_the_search_follows(api):
    require_rum()
    ProposalFactory(slug="title", title="Extradition pact", summary="A pact.")
    ProposalFactory(slug="once", title="Border policy", summary="It mentions extradition once.")
    call_command("migrate", "proposals", "0013_merge_stored_representations", verbosity=0)
    try:
        assert search_indexes() == {"proposal_search_vector_gin"}
        assert not rum_index_present(connection)  # post_migrate made it look again
        sql = page_query(api, q="extradition")
        assert "ts_rank(" in sql and "<=>" not in sql
        assert slugs(api, q="extradition") == ["title", "once"]
    finally:
        call_command("migrate", "proposals", verbosity=0)
    assert search_indexes() == {RUM_INDEX}  # the GIN index would only double the writes' work
    assert rum_index_present(connection)
    assert "<=>" in page_query(api, q="extradition")
    assert slugs(api, q="extradition") == ["title", "once"]


def test_the_alias_statement_compiled_once_finds_what_the_orm_finds(relevance, actor):
    from proposals.tracking.search import _alias_rows, alias_matches

    aliased = ProposalFactory(slug="by-alias", proponents=[{"actor": actor, "role": "proposed", "is_primary": True}])
    tracking.alias_add(owner=actor, name="extradition hawk", language="en")
    tracking.alias_add(owner=aliased, name="Extradition", language="en")
    for text in ["extradition", "Extradition hawk", '"extradition hawk"', "hawk -extradition", "pact or hawk", "the"]:
        built = {(pk, bool(exact)) for pk, exact in _alias_rows(text)}
        ids, exact = alias_matches(text)
        assert (set(ids), exact) == ({pk for pk, e in built if not e}, any(e for _, e in built)), text
    assert alias_matches("extradition") == ([aliased.pk], True)
