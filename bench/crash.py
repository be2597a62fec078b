"""Crash safety, the long run: simulated tablets stream 1,000 ops to the real server
(gunicorn, as deployed) while it is killed with SIGKILL many times and started again on the
same data folder; every op whose answer did not come back is sent again as it was.

Afterwards the SQLite file is checked: every acknowledged op is stored once, with its
revision holding what was pushed (lost must be 0), no op has two revisions (duplicates
must be 0), `PRAGMA integrity_check` says ok and `flask --app app verify` passes.
The short version is tests/web/test_crash.py.

    .venv/bin/python bench/crash.py [--ops 1000] [--devices 4] [--kills 20] [--seed 7] [--time-limit 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from tablets import CrashRun, Server, check_database, prepare_data, run_verify  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000, help="ops in all (split over the devices)")
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=300, help="seconds for the pushing part")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="supervise-crash-") as tmp:
        folder = Path(tmp) / "data"
        people = prepare_data(folder, supervisors=max(0, args.devices - 2))
        server = Server(folder, log_path=Path(tmp) / "server.log")
        with server:
            run = CrashRun(server, people, devices=args.devices, ops_per_device=args.ops // args.devices,
                           kills=args.kills, seed=args.seed, time_limit=args.time_limit)
            report = run()
            tracebacks = server.tracebacks()
            server.kill()  # a last crash: the files are checked as it leaves them
        db = check_database(folder, report.acked)
        code, verified = run_verify(folder)
    wall = time.monotonic() - started

    lost, duplicates = db["lost"], db["duplicates"] + db["unexplained"]
    print(f"devices: {report.devices}, seed: {args.seed}")
    print(f"ops sent:               {report.ops_sent}")
    print(f"ops acknowledged:       {len(report.acked)} ({report.unacknowledged} not acknowledged)")
    print(f"kills (SIGKILL):        {report.kills}")
    print(f"pushes: {report.pushes}, retries: {report.retries}"
          f" (answered duplicate, i.e. committed before the answer was lost: {report.duplicates_answered})")
    print(f"lost:                   {lost}")
    print(f"duplicates stored:      {duplicates}")
    print(f"5xx answers:            {report.answers_5xx}, server tracebacks: {len(tracebacks)}")
    print(f"integrity_check:        {db['integrity_check']} (foreign key faults: {db['foreign_key_faults']})")
    print(f"verify:                 exit {code}")
    for line in verified.splitlines():
        print(f"    {line}")
    print(f"wall time:              {wall:.1f} s (pushing and killing {report.wall:.1f} s)")
    for line in (report.problems + db["faults"])[:20]:
        print(f"  problem: {line}")
    for trace in tracebacks[:3]:
        print(trace)
    ok = (lost == 0 and duplicates == 0 and report.unacknowledged == 0 and not report.problems
          and db["integrity_check"] == "ok" and code == 0 and not tracebacks)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
