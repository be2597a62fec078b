"""The long run of the push fuzz test: generated ops, bodies and queries against the real app
(in-process, a real SQLite file), with the properties of tests/web/test_fuzz.py checked on
every example. Prints how many examples ran and how the server answered them.

    .venv/bin/python bench/fuzz.py [--examples 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fuzzing import JSON, QUERY, bad_ops, check_get, check_push  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from records_helper import Tablet  # noqa: E402
from support import Browser, user_id  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.cli import seed_demo  # noqa: E402
from webapp.db import connect  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    long = settings(max_examples=args.examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "DATA_DIR": tmp})
        db = connect(app.config["DATABASE"])
        seed_demo(db, app.extensions["vault"])
        people = user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")
        browser = Browser(app)
        browser.login("sam.supervisor@demo.test")
        sam = Tablet(browser, device="tab-fuzz")
        outcomes: Counter = Counter()
        start = time.perf_counter()

        @seed(args.seed)
        @long
        @given(data=st.data())
        def ops(data):
            check_push(sam, db, data.draw(bad_ops(sam, *people)), *people, outcomes)

        @seed(args.seed)
        @long
        @given(body=JSON)
        def bodies(body):
            response = sam.browser.post_json("/sync/push", body)
            assert 400 <= response.status_code < 500, response.get_data(as_text=True)
            outcomes[f"body {response.status_code}"] += 1

        @seed(args.seed)
        @settings(long, max_examples=max(1, args.examples // 4))
        @given(path=st.sampled_from(["/sync/pull", "/api/session", "/api/keys", "/api/pack"]), query=QUERY)
        def queries(path, query):
            check_get(sam.browser, path, query, outcomes)

        for run in (ops, bodies, queries):
            run()
        seconds = time.perf_counter() - start
        stored = next(db.query("SELECT count(*) AS n FROM records"))["n"]
    total = sum(outcomes.values())
    print(f"examples: {total} in {seconds:.0f} s; 5xx: 0 (any would have stopped the run)")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome:28} {count:6}")
    print(f"records stored: {stored} (one valid record beside each generated op that reached the ops)")


if __name__ == "__main__":
    main()
