"""Load: 50 simulated tablets push signed session records at once to the real server, run as
the README deploys it (`gunicorn -w 2 app:app`), on a fresh data folder.

First one tablet pushes records one after the other (the single-client rate), then 50
tablets, each its own supervisor login, device id and client address, push 20 records each
at the same moment. Every push carries one op (one record), as the tablet sends a finished
record as soon as it is saved; each tablet then pulls (every page). The records are like
real ones (eight answers of 1,000 characters, three actions, signed by both: so each is also
locked and sealed on arrival). After the server has stopped, the SQLite file is opened to check that
every acknowledged record is there.

Prints records pushed, throughput single and under load (records/s), their ratio (target
>= 0.80), p50 and p99 push latency under load (target p99 <= 1 s), errors (a non-200 answer,
no answer, or a refused op; target 0) and lost records (target 0), with PASS/FAIL for each.

    .venv/bin/python bench/load.py [--tablets 50] [--records 20] [--single 100]
                                   [--worker-class sync|gthread] [--threads 4]

Server configuration: `gunicorn -w 2 --timeout 30 --graceful-timeout 5 --keep-alive 5
--worker-tmp-dir /dev/shm` with sync workers (the default here; tests/tablets.py Server).
Sync workers are the better choice for this app: every push is a write and SQLite lets one
writer in at a time, so threads inside a worker add no throughput, only more writers waiting
for the write lock in SQLite's busy handler (which sleeps and polls, so a waiting push can
wait far longer than its turn) and more contention for the worker's GIL; with sync workers
the waiting happens in the listen queue, first come first served. Measured here (2 cores,
50 x 20 records, several runs each): sync p99 0.45-0.58 s with the slowest push under 0.7 s;
gthread with 4 threads p99 0.86-1.96 s, slowest 1.7-6 s; gthread with 2 threads p99
0.64-1.45 s, slowest 1.7-2.5 s; throughput about the same for all (it is bound by the CPU).
The figures move with whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from tablets import (  # noqa: E402
    Server,
    Tablet,
    TransportError,
    acked,
    check_database,
    forwarded_address,
    prepare_data,
    record_doc,
    run_verify,
)

RATIO_TARGET, P99_TARGET = 0.80, 1.0
WARM_UP = 5  # records the single client pushes before it is timed (the workers' first requests)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.pull_latencies: list[float] = []
        self.acks: list = []
        self.errors: list[str] = []


def drive(tablet: Tablet, docs: list[dict], ops: list[dict], stats: Stats, deadline: float,
          pull: int | None = None) -> None:
    """Push each op alone (sent again after an error, each error counted), then pull (every
    page), expecting `pull` records (by default the ones pushed here; 0: no pull)."""
    pull = len(ops) if pull is None else pull
    try:
        for doc, sent in zip(docs, ops, strict=True):
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError("the time limit passed")
                start = time.perf_counter()
                try:
                    answer = tablet.push([sent])
                except TransportError as exc:
                    with stats.lock:
                        stats.errors.append(f"{tablet.device}: {exc}")
                    time.sleep(0.2)
                    continue
                took = time.perf_counter() - start
                if answer.status != 200:
                    with stats.lock:
                        stats.errors.append(f"{tablet.device}: HTTP {answer.status} {answer.body[:200]!r}")
                    time.sleep(0.2)
                    continue
                [result] = answer.json()["results"]
                with stats.lock:
                    stats.latencies.append(took)
                    if result["status"] in ("applied", "duplicate"):
                        stats.acks.append(acked(tablet.device, sent, doc, result))
                    else:
                        stats.errors.append(f"{tablet.device}: {result}")
                break
        if pull:
            start = time.perf_counter()
            pulled, _cursor, _pages = tablet.pull_all()
            with stats.lock:
                stats.pull_latencies.append(time.perf_counter() - start)
                if len(pulled) != pull:
                    stats.errors.append(f"{tablet.device}: pulled {len(pulled)} of {pull} records")
    except Exception as exc:  # counted, so the run still ends and prints
        with stats.lock:
            stats.errors.append(f"{tablet.device}: {type(exc).__name__}: {exc}")
    finally:
        tablet.close()


def phase(tablets: list[Tablet], work: list[tuple[list, list]], time_limit: float,
          pull: int | None = None) -> tuple[Stats, float]:
    """All tablets start together; returns the stats and the wall time until the last is done."""
    stats = Stats()
    gate = threading.Barrier(len(tablets) + 1)
    deadline = time.monotonic() + time_limit

    def run(tablet, docs, ops):
        gate.wait(30)
        drive(tablet, docs, ops, stats, deadline, pull)

    threads = [threading.Thread(target=run, args=(t, d, o), daemon=True)
               for t, (d, o) in zip(tablets, work, strict=True)]
    for thread in threads:
        thread.start()
    gate.wait(30)
    start = time.perf_counter()
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic() + 5))
    if any(thread.is_alive() for thread in threads):
        stats.errors.append("a tablet was still busy at the time limit")
    return stats, time.perf_counter() - start


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def login_all(port: int, people, first: int) -> list[Tablet]:
    """Log the tablets in, a few at a time (each login is a scrypt check on the server)."""
    tablets = [Tablet(port, p.email, device=f"tab-load-{first + n:03d}", address=forwarded_address(first + n))
               for n, p in enumerate(people)]
    errors = []

    def login(tablet):
        try:
            tablet.login()
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(f"{tablet.email}: {exc}")

    for i in range(0, len(tablets), 4):
        threads = [threading.Thread(target=login, args=(t,)) for t in tablets[i:i + 4]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    if errors:
        raise SystemExit("login failed: " + "; ".join(errors[:5]))
    return tablets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--records", type=int, default=20, help="records per tablet under load")
    parser.add_argument("--single", type=int, default=100, help="records pushed by the single client")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker with gthread")
    parser.add_argument("--time-limit", type=float, default=240, help="seconds for each phase")
    args = parser.parse_args()
    started = time.monotonic()
    threads = args.threads if args.worker_class == "gthread" else 1

    with tempfile.TemporaryDirectory(prefix="supervise-load-") as tmp:
        folder = Path(tmp) / "data"
        people = prepare_data(folder, supervisors=args.tablets + 1)[2:]  # tablet-NN supervisors
        server = Server(folder, workers=2, threads=threads, log_path=Path(tmp) / "server.log")
        with server:
            # The single client: its own supervisor, the same kind of records, a warm-up first.
            [solo] = login_all(server.port, people[-1:], first=args.tablets)
            warm = [record_doc(people[-1], -n) for n in range(1, WARM_UP + 1)]
            warmed = Stats()
            drive(solo, warm, [solo.op(d) for d in warm], warmed, time.monotonic() + 60, pull=0)
            docs = [record_doc(people[-1], n) for n in range(args.single)]
            single, single_wall = phase([solo], [(docs, [solo.op(d) for d in docs])], args.time_limit,
                                        pull=len(warm) + args.single)
            single.errors += warmed.errors

            tablets = login_all(server.port, people[:args.tablets], first=0)
            work = []
            for tablet, person in zip(tablets, people, strict=False):
                docs = [record_doc(person, n) for n in range(args.records)]
                work.append((docs, [tablet.op(d) for d in docs]))
            load, load_wall = phase(tablets, work, args.time_limit)
            tracebacks = server.tracebacks()
        db = check_database(folder, warmed.acks + single.acks + load.acks)
        verify_code, verified = run_verify(folder)

    pushed = WARM_UP + args.single + args.tablets * args.records
    single_rate = len(single.acks) / single_wall
    load_rate = len(load.acks) / load_wall
    ratio = load_rate / single_rate
    p50, p99 = quantile(load.latencies, 0.50), quantile(load.latencies, 0.99)
    errors = len(single.errors) + len(load.errors)
    lost = db["lost"] + (pushed - len(warmed.acks) - len(single.acks) - len(load.acks))

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    print(f"server: gunicorn -w 2, {args.worker_class} workers"
          + (f", {threads} threads each" if threads > 1 else "") + "; one op (one signed record) per push")
    print(f"records pushed: {pushed} (single client {WARM_UP} to warm up and {args.single},"
          f" then {args.tablets} tablets x {args.records})")
    print(f"single client:  {single_rate:7.1f} records/s ({single_wall:.2f} s; p50 push"
          f" {quantile(single.latencies, 0.5) * 1000:.0f} ms)")
    print(f"under load:     {load_rate:7.1f} records/s ({load_wall:.2f} s)")
    print(f"ratio load/single: {ratio:.2f} (target >= {RATIO_TARGET:.2f})  {verdict(ratio >= RATIO_TARGET)}")
    print(f"push latency under load: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms,"
          f" max {max(load.latencies, default=0) * 1000:.0f} ms (target p99 <= {P99_TARGET * 1000:.0f} ms)"
          f"  {verdict(p99 <= P99_TARGET)}")
    print(f"pull latency under load: p50 {quantile(load.pull_latencies, 0.5) * 1000:.0f} ms,"
          f" max {max(load.pull_latencies, default=0) * 1000:.0f} ms")
    print(f"errors: {errors} (target 0)  {verdict(errors == 0)}")
    print(f"lost records: {lost} (target 0; integrity_check {db['integrity_check']},"
          f" duplicates {db['duplicates']})  {verdict(lost == 0 and db['integrity_check'] == 'ok')}")
    faults = [line for line in verified.splitlines() if line.startswith("FAULT")]
    print(f"verify (not a target here): exit {verify_code}, {len(faults)} fault(s)"
          + ("" if faults or not verify_code else f": {verified.splitlines()[-1:]}"))
    for line in (single.errors + load.errors)[:10] + db["faults"][:10] + faults[:5]:
        print(f"  {line}")
    for trace in tracebacks[:3]:
        print(trace)
    print(f"wall time: {time.monotonic() - started:.1f} s")
    ok = ratio >= RATIO_TARGET and p99 <= P99_TARGET and errors == 0 and lost == 0 and not tracebacks
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
