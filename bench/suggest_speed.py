"""Speed of the suggestion step on hard 100 KB texts (a benchmark, not a
timed test): one long line of news copy, a run of capitalised words with no
sentence end, Chinese without spaces, dense dates, and the seed texts
repeated. Runs the engine against the seed corpus on a throwaway SQLite
database; prints seconds per text and the sentences found.

    DJANGO_SECRET_KEY=x .venv/bin/python bench/suggest_speed.py
"""

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-key-for-bench-only")
os.environ["DATABASE_URL"] = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.sqlite3")

TEXTS = {
    "news, one 100 KB line": (
        "Kazakh Foreign Minister Kairat Abdrakhmanov on Monday urged member states to ratify the SCO "
        "Convention on Countering Extremism. Kyrgyzstan ratified it in May 2018. "
    )
    * 640,
    "capitalised run, no sentence end": "Minister " * 12000 + "urged states to ratify the SCO anti-extremism treaty.",
    "Chinese, no spaces": "上海合作组织成员国领导人签署了反极端主义公约，李克强总理呼吁各方尽快批准。" * 2800,
    "dense dates": "On 12 March 2018, 13 March 2018 and on Tuesday Kazakhstan ratified it. " * 1400,
    "news, paragraphs": (
        "Kazakhstan ratified the SCO Convention on Countering Extremism on 12 March 2018.\n\n"
        "Officials urged the other members to ratify it quickly, the ministry said on Tuesday.\n\n"
    )
    * 640,
}


def main() -> int:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_seeds", verbosity=0)
    from proposals.suggestions import engine, services

    knowledge = services.knowledge()
    worst = 0.0
    for name, text in TEXTS.items():
        started = time.perf_counter()
        found = engine.Engine(knowledge).run(text, published_on=dt.date(2019, 3, 5), published_precision="day")
        seconds = time.perf_counter() - started
        worst = max(worst, seconds)
        size = len(text.encode("utf-8")) / 1000
        count = len(engine.sentences(text))
        print(f"{name:36} {size:6.0f} KB {count:6} sentences {len(found):5} found {seconds:6.2f} s")
    print(f"Slowest: {worst:.2f} s (target < 5 s per 100 KB).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
