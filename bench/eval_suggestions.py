"""Measure the suggestion step (``make eval``); see docs/SUGGESTIONS.md.

Runs in a throwaway database made like the test suite's (``test_<name>``
of ``DATABASE_URL`` on PostgreSQL, in-memory on SQLite), never the one
you work in, and drops it at the end.

(a) Seed texts, no curated proposals: the three seed sources are stored
    (text as ``load_seeds`` reads it) with no proposal, actor or alias, the
    suggestion step runs on each, and ``new_proposal`` suggestions are
    scored against the curated corpus (``seeds/data/corpus.yaml``):
    recall = curated proposals with an evidence span that some
    ``new_proposal`` suggestion overlaps; precision = ``new_proposal``
    suggestions that overlap some curated evidence span.
(b) Later news: the seed corpus is loaded in full, each document of
    ``bench/eval_data/later_news.yaml`` is stored and read, and each
    expected ``status_event``/``participation``/``mention`` counts as found
    when a suggestion of that kind has the right proposal, status or
    action, party (an actor's slug or the name as written, case-folded)
    and date (``occurred_on`` and ``precision``), proponent where given.
    Reported for the dev and held-out documents apart, with every miss.
(c) Speed: the step on a text of at least 100 KB (the seed texts repeated)
    against the loaded seed database; target under 5 s.

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-key-for-eval-only")

TARGETS = {"recall": 0.85, "precision": 0.5, "later_news": 0.8, "seconds_100kb": 5.0}
EVAL_DATA = ROOT / "bench" / "eval_data" / "later_news.yaml"


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def seed_texts(report):
    from proposals import services as core
    from proposals.importers import SEEDS_DIR
    from proposals.models import Source, Suggestion
    from proposals.suggestions.services import suggest_for_source

    corpus = yaml.safe_load((SEEDS_DIR / "data" / "corpus.yaml").read_text(encoding="utf-8"))
    curated = {}  # source slug -> [(proposal slug, start, end)]
    for proposal in corpus["proposals"]:
        for evidence in proposal.get("evidence", []):
            curated.setdefault(evidence["source"], []).append((proposal["slug"], evidence["start"], evidence["end"]))
    hits, total, covered = 0, 0, set()
    for data in corpus["sources"]:
        with open(SEEDS_DIR / "sources" / data["file"], encoding="utf-8", newline="") as handle:
            text = handle.read()
        source = core.record_save(
            instance=Source(),
            slug=data["slug"],
            title=data["title"],
            published_on=data.get("published_on"),
            published_precision=data.get("published_precision") or "day",
            text=text,
        )
        created = [s for s in suggest_for_source(source) if s.kind == "new_proposal"]
        spans = curated.get(data["slug"], [])
        doc_hits = 0
        for s in created:
            matched = {slug for slug, a, b in spans if _overlaps(s.start, s.end, a, b)}
            covered |= matched
            doc_hits += bool(matched)
        hits += doc_hits
        total += len(created)
        report(f"  {data['slug']}: {len(created)} new_proposal suggestions, {doc_hits} on curated evidence")
    all_proposals = {slug for spans in curated.values() for slug, _, _ in spans}
    missed = sorted(all_proposals - covered)
    recall = len(covered) / len(all_proposals)
    precision = hits / total if total else 0.0
    report(f"  recall {len(covered)}/{len(all_proposals)} = {recall:.2f}; precision {hits}/{total} = {precision:.2f}")
    if missed:
        report(f"  missed: {', '.join(missed)}")
    # Leave a clean database for part (b).
    Suggestion.objects.all().delete()
    Source.objects.all().delete()
    return recall, precision


def _party_ok(expected, suggestion) -> bool:
    if expected is None:
        return True
    want = str(expected).casefold()
    slug = suggestion.party.slug if suggestion.party_id else ""
    return want in (slug, suggestion.party_name.casefold())


def _proponent_ok(expected, suggestion) -> bool:
    if expected is None:
        return True
    want = str(expected).casefold()
    slug = suggestion.proponent.slug if suggestion.proponent_id else ""
    return want in (slug, suggestion.proponent_name.casefold())


def _matches(expected: dict, s) -> bool:
    if s.kind != expected["kind"]:
        return False
    if (s.proposal.slug if s.proposal_id else None) != expected["proposal"]:
        return False
    if expected["kind"] == "status_event" and s.status != expected["status"]:
        return False
    if expected["kind"] == "participation":
        if s.action != expected["action"] or not _party_ok(expected.get("party"), s):
            return False
    if expected["kind"] == "mention" and not _proponent_ok(expected.get("proponent"), s):
        return False
    if "occurred_on" in expected:
        if s.occurred_on != expected["occurred_on"] or s.precision != expected.get("precision", "day"):
            return False
    return True


def later_news(report):
    from proposals import services as core
    from proposals.importers import load_seeds
    from proposals.models import Source
    from proposals.suggestions.services import suggest_for_source

    load_seeds()
    documents = yaml.safe_load(EVAL_DATA.read_text(encoding="utf-8"))["documents"]
    scores = {}
    for doc in documents:
        source = core.record_save(
            instance=Source(),
            slug=doc["slug"],
            title=doc["title"],
            published_on=doc["published_on"],
            published_precision=doc.get("published_precision", "day"),
            text=doc["text"],
        )
        created = [s for s in suggest_for_source(source) if s.kind in ("status_event", "participation", "mention")]
        found = [e for e in doc["expected"] if any(_matches(e, s) for s in created)]
        missed = [e for e in doc["expected"] if e not in found]
        extra = [s for s in created if not any(_matches(e, s) for e in doc["expected"])]
        bucket = scores.setdefault(doc["set"], [0, 0, 0, 0])
        bucket[0] += len(found)
        bucket[1] += len(doc["expected"])
        bucket[2] += len(created) - len(extra)
        bucket[3] += len(created)
        report(f"  [{doc['set']}] {doc['slug']} ({doc['style']}): {len(found)}/{len(doc['expected'])} expected found")
        for e in missed:
            what = e.get("status") or e.get("action") or ""
            who = e.get("party", e.get("proponent", ""))
            report(f"      missed {e['kind']} {e['proposal']} {what} {who} {e.get('occurred_on', '')}")
        for s in extra:
            what = s.status or s.action
            report(
                f"      unexpected {s.kind} {s.proposal.slug if s.proposal_id else '-'} {what} "
                f"{s.party_name or s.proponent_name} {s.occurred_on or ''} {s.precision}: {s.quote[:70]!r}"
            )
    results = {}
    for name, (found, expected, right, made) in sorted(scores.items()):
        results[name] = found / expected if expected else 0.0
        report(
            f"  {name}: {found}/{expected} expected suggestions found = {results[name]:.2f}; "
            f"{right}/{made} suggestions of these kinds were expected"
        )
    every = [sum(v[i] for v in scores.values()) for i in range(4)]
    results["all"] = every[0] / every[1]
    report(f"  all: {every[0]}/{every[1]} = {results['all']:.2f}")
    return results


def speed(report):
    from proposals import services as core
    from proposals.importers import SEEDS_DIR
    from proposals.models import Source
    from proposals.suggestions.engine import Engine
    from proposals.suggestions.services import knowledge, suggest_for_source

    texts = [(path.read_text(encoding="utf-8")) for path in sorted((SEEDS_DIR / "sources").glob("*.txt"))]
    text = "\n\n".join(texts)
    while len(text.encode("utf-8")) < 100_000:
        text += "\n\n" + "\n\n".join(texts)
    source = core.record_save(
        instance=Source(), slug="eval-speed", title="Speed", published_on=dt.date(2015, 12, 15), text=text
    )
    started = time.perf_counter()
    Engine(knowledge()).run(text, published_on=source.published_on, source_id=source.pk)
    engine_only = time.perf_counter() - started
    started = time.perf_counter()
    created = suggest_for_source(source)
    seconds = time.perf_counter() - started
    report(
        f"  {len(text.encode('utf-8')) / 1000:.0f} KB ({len(text)} code points): {len(created)} suggestions "
        f"in {seconds:.2f} s (engine, storing and history included; the engine alone {engine_only:.2f} s)"
    )
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(f"Suggestion evaluation on {connection.vendor} ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)")
        print("(a) seed texts, no curated proposals in the database")
        recall, precision = seed_texts(print)
        print("(b) later-news documents, seed corpus loaded")
        news = later_news(print)
        print("(c) speed")
        seconds = speed(print)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    checks = {
        f"recall {recall:.2f} >= {TARGETS['recall']}": recall >= TARGETS["recall"],
        f"precision {precision:.2f} >= {TARGETS['precision']}": precision >= TARGETS["precision"],
        f"later news (all) {news['all']:.2f} >= {TARGETS['later_news']}": news["all"] >= TARGETS["later_news"],
        f"100 KB in {seconds:.2f} s < {TARGETS['seconds_100kb']} s": seconds < TARGETS["seconds_100kb"],
    }
    print("Targets:")
    for label, ok in checks.items():
        print(f"  {'met ' if ok else 'MISSED'} {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
