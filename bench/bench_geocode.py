"""Geocoder accuracy and speed on the held-out address set (tests/data/geocode_heldout.csv).

    DATABASE_URL=postgis://postgres@127.0.0.1:54329/shaozi .venv/bin/python bench/bench_geocode.py [--repeat 5] [--keep]

The run never touches the database DATABASE_URL names: it creates (and afterwards drops, unless --keep) a
scratch database `bench_shaozi_geocoder` on the same server, migrates it and loads the demo boundaries (the
candidates' districts and streets come from the jurisdiction engine) and the demo gazetteer.

It prints, for `geo.geocoding.geocode` and, in the same run, for a plain pg_trgm baseline (one similarity query
per address over every gazetteer name, the best name's place wins, no parsing, no hierarchy):
- top-1 district accuracy and top-1 street accuracy (the first candidate's district / street against the
  expected ones), and how many addresses got no answer;
- addresses per second over `--repeat` passes of the whole set, one address at a time, after the in-process
  gazetteer index is built (its build time is printed separately); and the rate of the trigram query alone
  (the fuzzy path every unmatched address takes);
- the addresses the geocoder got wrong, with what it answered (--show-errors).
Nothing is asserted: the figures are for reading (tests/test_geocoding.py asserts accuracy, never time).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["SHAOZI_TEST_DB"] = "bench_shaozi_geocoder"

HELDOUT = ROOT / "tests" / "data" / "geocode_heldout.csv"


def read_heldout() -> list[tuple[str, str, str]]:
    with HELDOUT.open(encoding="utf-8") as f:
        return [(r["address"], r["district"], r["street"]) for r in csv.DictReader(f)]


def setup_database():
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    call_command("demo_load", "--if-empty", verbosity=0)
    call_command("gazetteer_demo_load", "--if-empty", verbosity=0)
    return connection


def score(answers, rows) -> tuple[float, float, int]:
    district = street = missing = 0
    for answer, (_, want_district, want_street) in zip(answers, rows, strict=True):
        if answer is None:
            missing += 1
            continue
        district += answer[0] == want_district
        street += answer[1] == want_street
    return district / len(rows), street / len(rows), missing


def baseline_answer(cursor, text: str):
    """Plain pg_trgm: the place of the name most similar to the whole address text."""
    cursor.execute(
        "SELECT p.district, p.street FROM geo_placename n JOIN geo_place p ON p.id = n.place_id "
        "WHERE n.name %% %s ORDER BY similarity(n.name, %s) DESC, n.id LIMIT 1",
        (text, text),
    )
    row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes over the held-out set for the speed figure")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    parser.add_argument("--show-errors", action="store_true", help="list the addresses answered wrongly")
    args = parser.parse_args()

    rows = read_heldout()
    connection = setup_database()
    try:
        from geo.address import normalise
        from geo.geocoding import _fuzzy, gazetteer_cache_clear, gazetteer_index, geocode

        gazetteer_cache_clear()
        started = time.perf_counter()
        gazetteer_index()
        build_s = time.perf_counter() - started

        answers = []
        for text, _, _ in rows:
            best = geocode(text, limit=1)
            answers.append((best[0].district_name, best[0].street_name, best[0].label) if best else None)
        started = time.perf_counter()
        for _ in range(args.repeat):
            for text, _, _ in rows:
                geocode(text, limit=5)
        geocoder_rate = args.repeat * len(rows) / (time.perf_counter() - started)

        keys = [normalise(text) for text, _, _ in rows]
        started = time.perf_counter()
        for _ in range(args.repeat):
            for key in keys:
                _fuzzy(key)
        trigram_rate = args.repeat * len(rows) / (time.perf_counter() - started)

        with connection.cursor() as cursor:
            baseline = [baseline_answer(cursor, key) for key in keys]
            started = time.perf_counter()
            for key in keys:
                baseline_answer(cursor, key)
            baseline_rate = len(rows) / (time.perf_counter() - started)

        d, s, missing = score(answers, rows)
        bd, bs, bmissing = score(baseline, rows)
        out = sys.stdout.write
        out(f"held-out addresses: {len(rows)} ({HELDOUT.relative_to(ROOT)})\n")
        out(f"gazetteer index build: {build_s * 1000:.0f} ms ({len(gazetteer_index().places)} places)\n")
        out(f"geocoder          top-1 district {d:6.1%}  top-1 street {s:6.1%}  no answer {missing:3d}  ")
        out(f"{geocoder_rate:8.0f} addresses/s\n")
        out(f"pg_trgm baseline  top-1 district {bd:6.1%}  top-1 street {bs:6.1%}  no answer {bmissing:3d}  ")
        out(f"{baseline_rate:8.0f} addresses/s\n")
        out(f"trigram query alone (fuzzy path, parsed key = whole text): {trigram_rate:.0f} queries/s\n")
        out(f"ratio geocoder / baseline speed: {geocoder_rate / baseline_rate:.1f}×\n")
        if args.show_errors:
            for answer, (text, want_d, want_s) in zip(answers, rows, strict=True):
                if answer is None or answer[0] != want_d or answer[1] != want_s:
                    got = "—" if answer is None else f"{answer[0]} {answer[1]} ({answer[2]})"
                    out(f"  {text}: want {want_d} {want_s}; got {got}\n")
    finally:
        if not args.keep:
            connection.creation.destroy_test_db("bench_shaozi_geocoder", verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
