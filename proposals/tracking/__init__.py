"""Tracking a proposal after it was put forward: who signed, ratified,
acceded to, supported or opposed it (``Participation``), and the other
names records go by (aliases). Models are imported from
``proposals.models`` (app label ``proposals``); writes go through
``proposals.tracking.services``."""
