"""Simulated tablets against a real server process, for the crash test and the benchmarks.

- :func:`prepare_data` makes a data folder (schema, keys, the demo organisation and any
  number of extra supervisors, each with one supervisee) with the project's own functions.
- :class:`Server` runs the app as production does (``gunicorn app:app``) as a subprocess in its
  own process group on a free loopback port, and can kill it (SIGKILL to the group) and start
  it again on the same data folder.
- :class:`Tablet` is a standard-library HTTP client (``http.client``, cookies kept by hand)
  that logs in like a browser, fetches the draft key and pushes and pulls signed records.
- :func:`check_database` opens the SQLite file afterwards and says what was lost or stored
  twice; :func:`run_verify` runs ``flask --app app verify``.

Many tablets from one machine: the server runs with ``SUPERVISE_PROXIES=1`` and each tablet
sends its own ``X-Forwarded-For`` address (documentation addresses such as 192.0.2.7, in the
header only: every connection goes to 127.0.0.1). That is what a real deployment behind a
reverse proxy sees of many devices, and it keeps the login rate limit, which is per client
address (Flask-Limiter, webapp/limits.py), per tablet, as it is for real tablets.

Importable from tests (``pythonpath = ["tests"]``) and from bench/ (which puts tests/ on
``sys.path``).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import http.client
import itertools
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from unittest import mock

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from records_helper import new_doc, op, signed

from sync.canonical import content_hash
from webapp.cli import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address any of this ever connects to
IDLE_REOPEN = 2.0  # seconds after which a kept-alive connection is opened anew


# -- the data folder ----------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """A supervisor who can log in on a tablet, and the supervisee their records are for."""

    email: str
    supervisor_id: str
    supervisee_id: str


def prepare_data(folder: Path, supervisors: int = 0) -> list[Person]:
    """Create the database, keys and demo organisation in `folder`, plus `supervisors` extra
    supervisors (``tablet-NN@tablets.test``) each paired with a new supervisee.

    Returns the people who can push: Sam (for Alex), Kim (for Cal), then the extra ones.
    Every account gets the demo password through one shared hash, made once with the
    project's own `accounts.generate_password_hash` (a password hash is deliberately slow,
    and `accounts.create_user` would make one per account).
    """
    from webapp import audit, create_app
    from webapp.cli import seed_demo
    from webapp.db import connect, transaction
    from webapp.people import accounts

    folder.mkdir(parents=True, exist_ok=True)
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "DATA_DIR": str(folder)})
    vault = app.extensions["vault"]
    shared = accounts.generate_password_hash(DEMO_PASSWORD)
    db = connect(app.config["DATABASE"])
    try:
        with mock.patch.object(accounts, "generate_password_hash", lambda _password: shared):
            seed_demo(db, vault)
            start = (dt.date.today() - dt.timedelta(days=400)).isoformat()
            with transaction(db):
                for n in range(supervisors):
                    boss = accounts.create_user(db, vault, email=f"tablet-{n:02d}@tablets.test",
                                                name=f"Tablet Supervisor {n:02d}",
                                                roles=["supervisor", "staff"], password=DEMO_PASSWORD,
                                                start_date=start)
                    staff = accounts.create_user(db, vault, email=f"tablet-staff-{n:02d}@tablets.test",
                                                 name=f"Tablet Staff {n:02d}", roles=["staff"],
                                                 password=DEMO_PASSWORD, start_date=start)
                    accounts.pair(db, boss.id, staff.id, start)
                if supervisors:
                    audit.record(db, None, "tablets.seeded", detail=f"{2 * supervisors} accounts")
        ids = {r["email"]: r["id"] for r in db.query("SELECT id, email FROM users")}
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    demo = [("sam.supervisor@demo.test", "alex.staff@demo.test"),
            ("kim.supervisor@demo.test", "cal.staff@demo.test")]
    people = [Person(boss, ids[boss], ids[staff]) for boss, staff in demo]
    people += [Person(f"tablet-{n:02d}@tablets.test", ids[f"tablet-{n:02d}@tablets.test"],
                      ids[f"tablet-staff-{n:02d}@tablets.test"]) for n in range(supervisors)]
    return people


def forwarded_address(n: int) -> str:
    """The n-th tablet's client address (documentation ranges, RFC 5737; header only)."""
    nets = ("192.0.2", "198.51.100", "203.0.113")
    return f"{nets[n // 254 % 3]}.{n % 254 + 1}"


# -- the server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _gunicorn_has(option: str) -> bool:
    from gunicorn.config import KNOWN_SETTINGS
    return any(option in (setting.cli or []) for setting in KNOWN_SETTINGS)


class ServerError(RuntimeError):
    pass


class Server:
    """`gunicorn app:app` on 127.0.0.1 in its own process group, on one data folder.

    Options are gunicorn's: `workers`, `threads` (more than 1 means the gthread worker).
    The log (gunicorn's error log, and tracebacks) goes to `log_path`.
    """

    def __init__(self, data_dir: Path, *, workers: int = 2, threads: int = 1, port: int | None = None,
                 log_path: Path | None = None, extra_args: tuple = (), boot_timeout: float = 30.0):
        self.data_dir = Path(data_dir)
        self.workers, self.threads = workers, threads
        self.port = port or free_port()
        self.log_path = Path(log_path or self.data_dir.parent / f"server-{self.port}.log")
        self.extra_args = tuple(extra_args)
        self.boot_timeout = boot_timeout
        self.proc: subprocess.Popen | None = None
        self.starts = self.kills = 0

    @property
    def running(self) -> bool:
        return self.proc is not None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{self.port}",
               "--workers", str(self.workers), "--timeout", "30", "--graceful-timeout", "5",
               "--keep-alive", "5", "--error-logfile", "-"]
        if self.threads > 1:
            cmd += ["--worker-class", "gthread", "--threads", str(self.threads)]
        if Path("/dev/shm").is_dir():  # heartbeat files in memory, as gunicorn advises
            cmd += ["--worker-tmp-dir", "/dev/shm"]
        if _gunicorn_has("--no-control-socket"):  # else every server shares ~/.gunicorn/gunicorn.ctl
            cmd += ["--no-control-socket"]
        return [*cmd, *self.extra_args, "app:app"]

    def environment(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISE_")}
        # One reverse proxy in front: each simulated tablet's X-Forwarded-For is its address.
        env.update(SUPERVISE_DATA_DIR=str(self.data_dir), SUPERVISE_PROXIES="1",
                   PYTHONUNBUFFERED="1")
        return env

    def start(self) -> Server:
        if self.proc is not None:
            raise ServerError("the server is running already")
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== start {self.starts + 1}: {' '.join(self.command()[1:])}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=self.environment(),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.starts += 1
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Until the app answers (a worker has booted), bounded by `boot_timeout`."""
        deadline = time.monotonic() + self.boot_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise ServerError(f"the server exited with {code} while starting:\n{self.log_tail()}")
            conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                conn.request("GET", "/api/session")
                if conn.getresponse().status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(0.05)
        self.stop()
        raise ServerError(f"the server did not answer within {self.boot_timeout} s:\n{self.log_tail()}")

    def _signal_group(self, sig) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # the group is the server's own (start_new_session)

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: a crash, nothing flushed or closed."""
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None
        self.kills += 1

    def stop(self) -> None:
        """A graceful stop (SIGTERM), then SIGKILL for whatever is left of the group."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)
        time.sleep(0.05)
        self._signal_group(signal.SIGKILL)  # a worker still finishing, if any
        self.proc = None

    def restart_after_kill(self) -> None:
        self.kill()
        self.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def tracebacks(self) -> list[str]:
        """Tracebacks in the server's log (a 5xx leaves one)."""
        return re.findall(r"Traceback \(most recent call last\):.*?(?=\n\S|\Z)\n?[^\n]*",
                          self.log_text(), flags=re.S)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


# -- the tablet ---------------------------------------------------------------------------

class TransportError(Exception):
    """No answer: refused, reset, closed or timed out (the op may or may not have been applied)."""


@dataclass
class Answer:
    status: int
    body: bytes
    headers: list = field(default_factory=list)

    def json(self):
        return json.loads(self.body)


class Tablet:
    """One device of one supervisor, talking HTTP/1.1 to the server on 127.0.0.1.

    The cookie jar is the session cookie kept by hand (http.cookies); the CSRF token comes
    from `GET /api/session` as the tablet asks for it, and is refreshed when it goes stale.
    """

    _serial = itertools.count()

    def __init__(self, port: int, email: str, *, device: str | None = None, address: str | None = None,
                 password: str = DEMO_PASSWORD, timeout: float = 30.0):
        n = next(self._serial)
        self.port, self.email, self.password, self.timeout = port, email, password, timeout
        self.device = device or f"tab-sim-{n}-{uuid.uuid4().hex[:8]}"
        self.address = address or forwarded_address(n)
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.kid: str | None = None
        self.key: bytes | None = None
        self._conn: http.client.HTTPConnection | None = None
        self._used = 0.0

    # HTTP
    def _headers(self, extra: dict | None) -> dict:
        headers = {"X-Forwarded-For": self.address, "User-Agent": f"supervise-sim-tablet ({self.device})",
                   "Accept": "application/json, text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for line in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                expires = morsel["expires"]
                gone = morsel.value == "" or (expires and "1970" in expires) or morsel["max-age"] == "0"
                if gone:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Answer:
        """One request on the tablet's connection (reopened as needed); TransportError if no answer.

        A kept-alive connection idle for a while is not reused: the server closes it after
        its keep-alive time (5 s here) and a request sent as it does so would be cut off."""
        if self._conn is not None and time.monotonic() - self._used > IDLE_REOPEN:
            self.close()
        if self._conn is None:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            self._conn.request(method, path, body=body, headers=self._headers(headers))
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        self._used = time.monotonic()
        self._keep_cookies(response)
        if response.will_close:
            self.close()
        return Answer(response.status, data, response.getheaders())

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def get_json(self, path: str):
        answer = self.request("GET", path)
        if answer.status != 200:
            raise AssertionError(f"GET {path}: {answer.status} {answer.body[:300]!r}")
        return answer.json()

    # Logging in and the draft key
    def login(self) -> None:
        page = self.request("GET", "/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.body.decode()).group(1)
        form = urllib.parse.urlencode({"email": self.email, "password": self.password, "csrf_token": token})
        answer = self.request("POST", "/login", form.encode(),
                              {"Content-Type": "application/x-www-form-urlencoded"})
        if answer.status != 302:
            raise AssertionError(f"login of {self.email} answered {answer.status}")
        self.refresh_csrf()
        keys = self.get_json("/api/keys")
        self.kid, self.key = keys["kid"], base64.b64decode(keys["key"])

    def refresh_csrf(self) -> None:
        session = self.get_json("/api/session")
        if session["user"] is None:
            raise AssertionError(f"{self.email} is not logged in")
        self.csrf = session["csrf"]

    # Sync
    def op(self, doc: dict, base_rev: int | None = None, op_id: str | None = None) -> dict:
        """An op for `doc`, sealed under this user's draft key (build once, resend as it is)."""
        return op(self.key, self.kid, doc, base_rev, op_id)

    def push_body(self, ops: list[dict]) -> bytes:
        return json.dumps({"device": self.device, "ops": ops}).encode()

    def push(self, ops: list[dict]) -> Answer:
        """POST /sync/push once. TransportError when no answer came."""
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.csrf}
        answer = self.request("POST", "/sync/push", self.push_body(ops), headers)
        if answer.status == 400 and b"expired" in answer.body:  # a stale token: ask again once
            self.refresh_csrf()
            headers["X-CSRFToken"] = self.csrf
            answer = self.request("POST", "/sync/push", self.push_body(ops), headers)
        return answer

    def push_without_reading(self, ops: list[dict]) -> None:
        """Send a push and hang up before the answer: the answer is lost whatever happened."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            conn.request("POST", "/sync/push", body=self.push_body(ops),
                         headers=self._headers({"Content-Type": "application/json",
                                                "X-CSRFToken": self.csrf}))
        finally:
            conn.close()

    def push_until_answered(self, ops: list[dict], deadline: float, stop: threading.Event | None = None,
                            backoff: float = 0.05) -> tuple[list[dict], int, list[str]]:
        """Send the same push until a 200 comes back (retry on no answer, 429 and 5xx with
        backoff, as the tablet does). Returns (results, attempts, what went wrong on the way).
        Raises TimeoutError at the deadline."""
        attempts, trouble, wait = 0, [], backoff
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            attempts += 1
            try:
                answer = self.push(ops)
            except TransportError as exc:
                trouble.append(str(exc))
            else:
                if answer.status == 200:
                    return answer.json()["results"], attempts, trouble
                trouble.append(f"HTTP {answer.status}: {answer.body[:200]!r}")
                if answer.status not in (429,) and answer.status < 500:
                    raise AssertionError(f"push answered {answer.status}: {answer.body[:500]!r}")
            time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
            wait = min(wait * 2, 1.0)
        raise TimeoutError(f"no answer to a push of {len(ops)} op(s) after {attempts} attempts;"
                           f" last: {trouble[-1:] or 'none'}")

    def pull(self, since: str = "") -> dict:
        """One page of GET /sync/pull."""
        return self.get_json(f"/sync/pull?since={urllib.parse.quote(since)}")

    def pull_all(self, since: str = "", max_pages: int = 1000) -> tuple[dict, str, int]:
        """Every page from `since` on, while the answer says `more` (bounded):
        ({record id: item}, the last cursor, pages)."""
        items: dict[str, dict] = {}
        for page in range(1, max_pages + 1):
            answer = self.pull(since)
            items.update((item["record"], item) for item in answer["records"])
            since = answer["cursor"]
            if not answer.get("more"):
                return items, since, page
        raise AssertionError(f"the pull still said “more” after {max_pages} pages")

    def open(self, item: dict, aad: str | None = None) -> dict:
        plain = AESGCM(self.key).decrypt(base64.b64decode(item["iv"]), base64.b64decode(item["ct"]),
                                         (aad or item["record"]).encode())
        return json.loads(plain)


# -- records ------------------------------------------------------------------------------

FIELDS = ("wellbeing", "workload", "current_work", "emotional_impact", "safe_practice",
          "relationships_with_learners", "behaviour_management", "summary")


def record_doc(person: Person, n: int, *, text: int = 1000, sign: bool = True) -> dict:
    """A session record like a real one: eight answers of `text` characters, three agreed
    actions, and (by default) both signatures, so that it locks and is sealed on arrival."""
    words = (f"Session {n} of {person.email}: workload, the new timetable, two students' ISPs. " * 40)
    doc = new_doc(person.supervisee_id, person.supervisor_id)
    for name in FIELDS:
        doc["fields"][name] = words[:text]
    doc["lists"]["actions"] = [{"id": f"a{i}", "text": f"Action {i} of record {n}", "owner": "supervisee",
                                "deadline": "2026-12-01"} for i in range(3)]
    return signed(doc) if sign else doc


@dataclass
class Acked:
    """An op the server acknowledged (200 with a result) and what it answered."""

    device: str
    op: str
    record: str
    digest: str  # content hash of the document that was pushed
    status: str  # the first status (for a duplicate: the stored one)
    rev: int | None
    duplicate: bool = False  # the server had it already: an answer was lost on the way


def acked(device: str, sent: dict, doc: dict, result: dict) -> Acked:
    duplicate = result["status"] == "duplicate"
    return Acked(device, sent["op"], sent["record"], content_hash(doc),
                 result["result"] if duplicate else result["status"], result.get("rev"), duplicate)


# -- after the run: what the database holds -----------------------------------------------

def _vault(data_dir: Path):
    from webapp.crypto import Vault
    return Vault((Path(data_dir) / "master.key").read_bytes())


def check_database(data_dir: Path, acks: list[Acked]) -> dict:
    """Open the SQLite file (the server stopped) and compare it with what was acknowledged.

    lost: acknowledged ops without their stored answer, or without their revision holding
    the pushed content at the acknowledged rev. duplicates: a (device, op) with more than one
    revision. unexplained: revisions of these devices that no acknowledged op explains.
    """
    from webapp.records.store import revision_key

    vault = _vault(data_dir)
    conn = sqlite3.connect(f"file:{Path(data_dir) / 'supervise.db'}?mode=rw", timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        ops = {(r["device"], r["op"]): r for r in conn.execute("SELECT * FROM sync_ops")}
        revisions: dict[tuple, list] = {}
        for r in conn.execute("SELECT * FROM revisions"):
            revisions.setdefault((r["device"], r["op"]), []).append(r)
        heads = {r["id"]: r["rev"] for r in conn.execute("SELECT id, rev FROM records")}
        devices = {a.device for a in acks}
        faults = []
        for a in acks:
            name = f"{a.device}/{a.op} (record {a.record}, rev {a.rev})"
            stored = ops.get((a.device, a.op))
            if stored is None:
                faults.append(f"lost: {name}: no stored answer")
                continue
            if (said := json.loads(stored["result"]).get("rev")) != a.rev:
                faults.append(f"lost: {name}: the stored answer says rev {said}")
            if a.status not in ("applied", "merged", "conflict"):
                continue
            mine = revisions.get((a.device, a.op), [])
            at_rev = [r for r in mine if r["rev"] == a.rev and r["record_id"] == a.record]
            if a.record not in heads or heads[a.record] < (a.rev or 0):
                faults.append(f"lost: {name}: the record's head is {heads.get(a.record)}")
            elif a.status == "applied" and not at_rev:
                faults.append(f"lost: {name}: no revision {a.rev} from this op")
            elif a.status == "applied":
                row = at_rev[0]
                doc = json.loads(vault.open("revisions", revision_key(row), "doc_enc", row["doc_enc"]))
                if row["content_hash"] != a.digest or content_hash(doc) != a.digest:
                    faults.append(f"lost: {name}: revision {a.rev} holds other content")
        duplicates = [f"duplicate: {dev}/{op_id}: {len(rows)} revisions"
                      for (dev, op_id), rows in revisions.items() if len(rows) > 1]
        explained = {(a.device, a.op) for a in acks}
        unexplained = [f"unexplained: {dev}/{op_id}" for (dev, op_id) in revisions
                       if dev in devices and (dev, op_id) not in explained]
        return {"integrity_check": integrity, "foreign_key_faults": len(fk),
                "lost": sum(f.startswith("lost") for f in faults), "duplicates": len(duplicates),
                "unexplained": len(unexplained), "sync_ops": sum(d in devices for d, _ in ops),
                "revisions": sum(len(v) for (d, _), v in revisions.items() if d in devices),
                "faults": faults + duplicates + unexplained}
    finally:
        conn.close()


def run_verify(data_dir: Path, timeout: float = 120) -> tuple[int, str]:
    """`flask --app app verify` on the data folder: (exit code, its output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISE_")}
    env["SUPERVISE_DATA_DIR"] = str(data_dir)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "verify"], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return done.returncode, (done.stdout + done.stderr).strip()


# -- the crash run: tablets stream ops while the server is killed and restarted -----------

@dataclass
class CrashReport:
    devices: int = 0
    ops_sent: int = 0  # distinct ops (each built once and re-sent as it is)
    pushes: int = 0  # POST /sync/push requests, retries included
    retries: int = 0  # pushes sent again because no 200 came back
    kills: int = 0
    acked: list = field(default_factory=list)  # [Acked]
    unacknowledged: int = 0  # ops that never got an answer before the time limit
    answers_5xx: int = 0
    problems: list = field(default_factory=list)  # refusals, unexpected answers, exceptions
    wall: float = 0.0

    @property
    def duplicates_answered(self) -> int:
        """Ops whose first answer was lost (the server had committed them before it died)."""
        return sum(a.duplicate for a in self.acked)

    def summary(self) -> str:
        return (f"devices {self.devices}, ops sent {self.ops_sent}, acknowledged {len(self.acked)},"
                f" unacknowledged {self.unacknowledged}, kills {self.kills}, pushes {self.pushes},"
                f" retries {self.retries}, answered duplicate {self.duplicates_answered},"
                f" 5xx {self.answers_5xx}, problems {len(self.problems)}, wall {self.wall:.1f} s")


def _stamp(n: int) -> str:
    """An edit time that grows with n (meta.edited), after every signature's signed_at."""
    at = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Device:
    """One tablet's outbox: new drafts, edits of its drafts, signing them, new signed records,
    one to three ops (of different records) per push, each push sent until it is answered."""

    def __init__(self, tablet: Tablet, person: Person, ops: int, rng, run: CrashRun):
        self.tablet, self.person, self.ops, self.rng, self.run = tablet, person, ops, rng, run
        self.drafts: dict[str, tuple[dict, int]] = {}  # record id -> (document, rev)

    def _next_batch(self, seq: int, left: int) -> list[tuple[dict, dict]]:
        batch, used = [], set()
        for _ in range(min(left, self.rng.randint(1, 3))):
            choice = self.rng.random()
            open_drafts = [r for r in self.drafts if r not in used]
            n = seq + len(batch)
            op_id = f"{self.tablet.device}-{n}"
            if not open_drafts or choice < 0.35:
                doc = record_doc(self.person, n, text=self.run.text, sign=self.rng.random() < 0.2)
                base = None
            else:
                record = self.rng.choice(open_drafts)
                doc, base = copy.deepcopy(self.drafts[record][0]), self.drafts[record][1]
                if choice < 0.85:
                    doc["fields"]["summary"] = f"Edit {n} on {self.tablet.device}. " * 10
                    doc["meta"]["edited"]["fields.summary"] = _stamp(n)
                else:
                    doc = signed(doc)
            used.add(doc["id"])
            batch.append((doc, self.tablet.op(doc, base, op_id=op_id)))
        return batch

    def __call__(self) -> None:
        run, seq = self.run, 0
        try:
            while seq < self.ops and not run.stop.is_set():
                batch = self._next_batch(seq, self.ops - seq)
                seq += len(batch)
                with run.lock:
                    run.report.ops_sent += len(batch)
                results, attempts, trouble = self.tablet.push_until_answered(
                    [o for _, o in batch], run.deadline, run.stop)
                with run.lock:
                    run.report.pushes += attempts
                    run.report.retries += attempts - 1
                    errors = [f"{self.tablet.device}: {t}" for t in trouble if t.startswith("HTTP 5")]
                    run.report.answers_5xx += len(errors)
                    run.report.problems += errors
                for (doc, sent), result in zip(batch, results, strict=True):
                    final = result.get("result") if result["status"] == "duplicate" else result["status"]
                    if result["op"] != sent["op"] or final != "applied":
                        with run.lock:
                            run.report.problems.append(f"{self.tablet.device}/{sent['op']}: {result}")
                        continue
                    ack = acked(self.tablet.device, sent, doc, result)
                    if doc["signatures"]:
                        self.drafts.pop(doc["id"], None)  # signed by both: locked
                    else:
                        self.drafts[doc["id"]] = (doc, ack.rev)
                    with run.lock:
                        run.report.acked.append(ack)
        except TimeoutError as exc:
            with run.lock:
                run.report.problems.append(f"{self.tablet.device}: {exc}")
        except Exception:  # reported, and the whole run stops
            with run.lock:
                run.report.problems.append(f"{self.tablet.device}: {traceback.format_exc()}")
            run.stop.set()


class CrashRun:
    """Devices stream ops in threads while the server is SIGKILLed `kills` times (after a
    seeded random share of the ops has been acknowledged, plus a few random ms, so a kill
    lands in the middle of requests) and started again on the same data folder.

    The server must be running; it is running again at the end (the caller stops it).
    """

    def __init__(self, server: Server, people: list[Person], *, devices: int, ops_per_device: int,
                 kills: int, seed: int, time_limit: float, text: int = 300):
        self.server, self.people, self.devices = server, people, devices
        self.ops_per_device, self.kills, self.seed = ops_per_device, kills, seed
        self.time_limit, self.text = time_limit, text
        self.rng = random.Random(seed)
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.report = CrashReport(devices=devices)
        self.deadline = 0.0

    def _acknowledged(self) -> int:
        with self.lock:
            return len(self.report.acked)

    def __call__(self) -> CrashReport:
        start = time.monotonic()
        self.deadline = start + self.time_limit
        tablets = []
        for n in range(self.devices):
            person = self.people[n % len(self.people)]
            tablet = Tablet(self.server.port, person.email, device=f"tab-crash-{self.seed}-{n}",
                            address=forwarded_address(n), timeout=15)
            tablet.login()
            tablets.append(tablet)
        threads = [threading.Thread(target=_Device(t, self.people[n % len(self.people)], self.ops_per_device,
                                                   random.Random(self.seed * 1000 + n), self),
                                    name=f"device-{n}", daemon=True) for n, t in enumerate(tablets)]
        for thread in threads:
            thread.start()
        total = self.devices * self.ops_per_device
        marks = sorted(self.rng.sample(range(total // 10, total * 9 // 10), self.kills))
        try:
            for mark in marks:
                while (self._acknowledged() < mark and any(t.is_alive() for t in threads)
                       and time.monotonic() < self.deadline):
                    time.sleep(0.005)
                if not any(t.is_alive() for t in threads) or time.monotonic() >= self.deadline:
                    break
                time.sleep(self.rng.uniform(0, 0.03))
                self.server.kill()
                time.sleep(self.rng.uniform(0, 0.2))
                self.server.start()
        except Exception:
            self.stop.set()
            raise
        finally:
            for thread in threads:
                thread.join(max(0.1, self.deadline - time.monotonic() + 5))
            self.stop.set()
            for tablet in tablets:
                tablet.close()
        report = self.report
        report.kills = self.server.kills
        report.unacknowledged = total - len(report.acked)  # refused, unanswered or never sent
        report.wall = time.monotonic() - start
        return report
