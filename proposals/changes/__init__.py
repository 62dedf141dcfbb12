"""The change feed: one total order over every history row of every model.

The feed is not a second log. Every model's django-simple-history table *is*
the log; this package gives each history row a place in one sequence
(``change_seq``), the names of the fields it changed (``changed_fields``) and
the sequence number that ends its write batch (``batch_end_seq``), all
stored when the row is written. ``proposals.changes.views`` serves it as
``GET /api/v1/changes/``; ``proposals.versions`` reads the same columns to
rebuild a proposal exactly as it was.
"""
