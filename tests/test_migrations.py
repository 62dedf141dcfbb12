"""Upgrading a database that holds data: the migrations after the last
release (0008) must apply to a database with history rows, not only to an
empty one (a fresh test database proves only the latter)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

RELEASED = [("proposals", "0008_lowercase_slugs")]


def _latest(executor):
    return executor.loader.graph.leaf_nodes("proposals")


@pytest.mark.django_db(transaction=True)
def test_a_database_with_history_rows_upgrades_from_the_last_release():
    executor = MigrationExecutor(connection)
    latest = _latest(executor)
    executor.migrate(RELEASED)
    try:
        old = executor.loader.project_state(RELEASED).apps
        user = old.get_model("auth", "User").objects.create(username="curator")
        topic = old.get_model("proposals", "Topic").objects.create(slug="extradition", name="Extradition")
        history = old.get_model("proposals", "HistoricalTopic")
        for version in (1, 2):
            history.objects.create(
                id=topic.pk,
                slug=topic.slug,
                name=topic.name,
                description="",
                version=version,
                updated_at=topic.updated_at,
                history_date=topic.updated_at,
                history_type="+" if version == 1 else "~",
                history_user=user,
            )
        proposal = old.get_model("proposals", "Proposal").objects.create(slug="treaty", title="Treaty")
        proposal.topics.add(topic)
        proposal_history = old.get_model("proposals", "HistoricalProposal")
        copied = {
            f.attname: getattr(proposal, f.attname)
            for f in proposal._meta.concrete_fields
            if f.attname != "search_vector"
        }
        proposal_history.objects.create(**copied, history_date=proposal.updated_at, history_type="+", history_user=user)

        # On PostgreSQL this failed with "cannot CREATE INDEX ... because it
        # has pending trigger events" when the numbering of existing history
        # rows ran in the migration that added the indexed column.
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

        new = executor.loader.project_state(latest).apps
        rows = new.get_model("proposals", "HistoricalTopic").objects.order_by("change_seq")
        assert [(row.version, row.change_seq) for row in rows] == [(1, 1), (2, 2)]
        assert new.get_model("proposals", "ChangeCounter").objects.get(id=1).value == 3
        row = new.get_model("proposals", "HistoricalProposal").objects.get()
        assert row.change_seq == 3
        assert row.links == {"topics": [topic.pk], "parties": []}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(_latest(executor))
