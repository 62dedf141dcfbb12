"""A RUM index over ``Proposal.search_vector``, when the server can have one.

RUM (the ``rum`` extension, Debian/PGDG package ``postgresql-<major>-rum``)
stores each word's positions in the index, so ``ORDER BY search_vector <=>
query LIMIT 50`` is answered from the index: PostgreSQL reads the rows of
the best matches only (up to the page's last rank) instead of every match's
row to rank it with ``ts_rank`` (proposals/tracking/search.py). Measured at 1,000,000 proposals, see
docs/PERFORMANCE.md.

On PostgreSQL only. ``CREATE EXTENSION`` needs a superuser (or a trusted
extension): when the extension is not installed on the server, or this role
may not create it, the migration prints one line and carries on; the search
then ranks with ``ts_rank`` through the GIN index, as before, only slower at
scale. Run ``manage.py migrate proposals 0013`` and then ``migrate`` again
after installing it (or creating the extension as a superuser) to add the
index later.

With the RUM index, the GIN index (0002) is dropped: the RUM index also
serves ``@@`` (the capped count's bitmap scan, the alias search's
``BitmapOr``) at the same cost (measured at 1M: the count's bitmap index
scan 2.5-4 ms either way for 22,000 matches, 30-32 ms for 149,000), and
keeping both would double the index work of every write to a proposal's
text. Without RUM the GIN index stays, the search's only index.

The indexes are built ``CONCURRENTLY`` (the migration is not atomic), so
writes to proposals go on during the build, and without the app's
statement timeout (13-16 s for the RUM index at 1,000,000 proposals).
Reversing builds the GIN index again, then drops the RUM index, and leaves
the extension: it may have been there before (created by a DBA), and
dropping it needs the same privilege.
A no-op on SQLite.
"""

import sys

from django.db import DatabaseError, migrations, transaction

INDEX = "proposal_search_vector_rum"
USING = "USING rum (search_vector rum_tsvector_ops)"
#: Migration 0002's index: the search's index without RUM, dropped with it.
GIN_INDEX = "proposal_search_vector_gin"
GIN_USING = "USING gin (search_vector)"


def _say(line: str) -> None:
    # One line on stderr, beside migrate's own "Applying ..." output.
    sys.stderr.write(f"\n  {line}\n")


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
        if cursor.fetchone() is None:
            _say(
                "rum extension not installed on the server: search ranks with ts_rank "
                "(install postgresql-<major>-rum, then re-run this migration for the faster index)"
            )
            return
        try:
            # A transaction of its own, or a savepoint inside the caller's:
            # a refusal leaves the connection usable either way.
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS rum")
        except DatabaseError as exc:  # InsufficientPrivilege: not a superuser
            reason = str(exc).strip().splitlines()[0]  # not its HINT line
            _say(
                f"rum extension not created ({type(exc.__cause__ or exc).__name__}: {reason}): search ranks with "
                "ts_rank (create it as a superuser, then re-run this migration for the faster index)"
            )
            return
        # The GIN index now only doubles the RUM one's work on every write:
        # the planner counts matches through either at the same cost.
        _replace(connection, cursor, build=(INDEX, USING), drop=GIN_INDEX)


def backward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # The GIN index back first, so search always has an index.
        _replace(connection, cursor, build=(GIN_INDEX, GIN_USING), drop=INDEX)


def _replace(connection, cursor, *, build: tuple[str, str], drop: str) -> None:
    """Build the index ``build`` (name, ``USING`` clause), then drop the
    index ``drop``, without the app's statement timeout: building over
    1,000,000 proposals takes ~15 s, beyond DJANGO_DB_STATEMENT_TIMEOUT_MS
    (``RESET`` restores it)."""
    cursor.execute("SET statement_timeout = 0")
    try:
        _build(cursor, *build, concurrently=not connection.in_atomic_block)
        cursor.execute(f"DROP INDEX {_concurrently(connection)}IF EXISTS {drop}")
    finally:
        cursor.execute("RESET statement_timeout")


def _concurrently(connection) -> str:
    return "" if connection.in_atomic_block else "CONCURRENTLY "


def _build(cursor, name: str, using: str, *, concurrently: bool) -> None:
    """``CREATE INDEX name ON proposals_proposal using`` unless it exists.
    Concurrently, writes to proposals go on while it builds; a failed
    concurrent build leaves an invalid index behind, dropped and built
    again here."""
    if not concurrently:
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON proposals_proposal {using}")
        return
    cursor.execute("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
    invalid = cursor.fetchone()
    if invalid and invalid[0]:
        cursor.execute(f"DROP INDEX CONCURRENTLY {name}")
    cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON proposals_proposal {using}")


class Migration(migrations.Migration):
    # Not in a transaction: the indexes are built CONCURRENTLY (see _build).
    atomic = False
    dependencies = [("proposals", "0013_merge_stored_representations")]

    operations = [migrations.RunPython(forward, backward)]
