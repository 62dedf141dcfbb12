"""PostgreSQL full-text search: a GIN index over ``Proposal.search_vector``
and triggers that keep the vector current on every write path (admin, API,
seed loader, bulk loads). Weighted: title A, summary B, evidence quotes C.

A no-op on SQLite, which searches with LIKE instead.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION proposals_search_document(pid bigint, title text, summary text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
        || setweight(to_tsvector('english', coalesce(
               (SELECT string_agg(e.quote, ' ') FROM proposals_evidence e WHERE e.proposal_id = pid), '')), 'C')
$$;

CREATE OR REPLACE FUNCTION proposals_proposal_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := proposals_search_document(NEW.id, NEW.title, NEW.summary);
    RETURN NEW;
END $$;

CREATE TRIGGER proposals_proposal_search
    BEFORE INSERT OR UPDATE OF title, summary ON proposals_proposal
    FOR EACH ROW EXECUTE FUNCTION proposals_proposal_search_trigger();

CREATE OR REPLACE FUNCTION proposals_evidence_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE proposals_proposal p
           SET search_vector = proposals_search_document(p.id, p.title, p.summary)
         WHERE p.id = OLD.proposal_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE proposals_proposal p
           SET search_vector = proposals_search_document(p.id, p.title, p.summary)
         WHERE p.id = NEW.proposal_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER proposals_evidence_search
    AFTER INSERT OR UPDATE OF quote, proposal_id OR DELETE ON proposals_evidence
    FOR EACH ROW EXECUTE FUNCTION proposals_evidence_search_trigger();

CREATE INDEX IF NOT EXISTS proposal_search_vector_gin ON proposals_proposal USING gin (search_vector);
"""

BACKWARD = """
DROP INDEX IF EXISTS proposal_search_vector_gin;
DROP TRIGGER IF EXISTS proposals_evidence_search ON proposals_evidence;
DROP TRIGGER IF EXISTS proposals_proposal_search ON proposals_proposal;
DROP FUNCTION IF EXISTS proposals_evidence_search_trigger();
DROP FUNCTION IF EXISTS proposals_proposal_search_trigger();
DROP FUNCTION IF EXISTS proposals_search_document(bigint, text, text);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
