"""A RUM index over ``Proposal.search_vector``, when the server can have one.

RUM (the ``rum`` extension, Debian/PGDG package ``postgresql-<major>-rum``)
stores each word's positions in the index, so ``ORDER BY search_vector <=>
query LIMIT 50`` is answered from the index: PostgreSQL reads the 50 best
matches' rows instead of every match's row to rank it with ``ts_rank``
(proposals/tracking/search.py). Measured at 1,000,000 proposals, see
docs/PERFORMANCE.md.

On PostgreSQL only. ``CREATE EXTENSION`` needs a superuser (or a trusted
extension): when the extension is not installed on the server, or this role
may not create it, the migration prints one line and carries on; the search
then ranks with ``ts_rank`` through the GIN index, as before, only slower at
scale. Run ``manage.py migrate proposals 0013`` and then ``migrate`` again
after installing it (or creating the extension as a superuser) to add the
index later.

The GIN index (0002) stays: without RUM it is the search's index, and with
RUM it still serves the capped count and the alias search's ``BitmapOr``
more cheaply (a smaller index; measured in docs/PERFORMANCE.md).

The index is built ``CONCURRENTLY`` (the migration is not atomic), so
writes to proposals go on during the build, and without the app's
statement timeout (measured at 1,000,000 proposals: docs/PERFORMANCE.md).
Reversing drops the RUM index and leaves the extension: it may have been
there before (created by a DBA), and dropping it needs the same privilege.
A no-op on SQLite.
"""

import sys

from django.db import DatabaseError, migrations, transaction

INDEX = "proposal_search_vector_rum"
USING = "USING rum (search_vector rum_tsvector_ops)"


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
        # Building it over 1,000,000 proposals takes minutes, beyond the app's
        # statement timeout (DJANGO_DB_STATEMENT_TIMEOUT_MS); RESET restores it.
        cursor.execute("SET statement_timeout = 0")
        try:
            if connection.in_atomic_block:
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON proposals_proposal {USING}")
            else:
                # Concurrently: writes to proposals go on while it builds. A
                # failed concurrent build leaves an invalid index: start again.
                cursor.execute("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [INDEX])
                invalid = cursor.fetchone()
                if invalid and invalid[0]:
                    cursor.execute(f"DROP INDEX CONCURRENTLY {INDEX}")
                cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON proposals_proposal {USING}")
        finally:
            cursor.execute("RESET statement_timeout")


def backward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    # Not in a transaction: the index is built CONCURRENTLY (see forward).
    atomic = False
    dependencies = [("proposals", "0013_merge_stored_representations")]

    operations = [migrations.RunPython(forward, backward)]
