"""What every benchmark shares: output lines, medians, throw-away databases and data builders.

Data is built in two ways. Small fixtures (people, a collaboration ready for its
next gate) go through the engine's own API, exactly as a user would build them.
Large ones (100,000 collaborations, 1,000,000 events) are bulk-inserted with
SQLAlchemy Core in one pass; the rows are the ones the API writes (same columns,
same defaults) and every event is linked into the hash chain with
`workflow.audit.event_hash`, continuing from the chain head, so that
`collab audit verify` does the full work and passes.
"""

from __future__ import annotations

import compileall
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
COLLAB = str(Path(sys.executable).with_name("collab"))
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

DAY = date(2026, 1, 5)
FORCE_A, FORCE_B = "Devon & Cornwall Police", "Dorset Police"


def emit(name: str, value: float | int | str, unit: str = "", note: str = "") -> None:
    """One figure as `name: value unit (target or peer)`."""
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:#.3g}" if abs(value) < 10 else f"{value:.1f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = value
    line = f"{name}: {text}" + (f" {unit}" if unit else "") + (f" ({note})" if note else "")
    print(line, flush=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def median(values: list[float]) -> float:
    return statistics.median(values)


def pg_admin_url() -> str:
    return os.environ.get("COLLAB_BENCH_PG_URL") or os.environ.get("COLLAB_TEST_DATABASE_URL") or DEFAULT_PG_URL


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"collab-bench-{prefix}-") as folder:
        yield Path(folder)


@contextmanager
def sqlite_database(folder: Path, name: str = "collab.db") -> Iterator[str]:
    """A fresh SQLite file at the newest schema (the engine's own settings: WAL, synchronous=FULL)."""
    from workflow.db import engine_for, upgrade

    target = str(folder / name)
    upgrade(engine_for(target))
    try:
        yield target
    finally:
        engine_for(target).dispose()


@contextmanager
def postgres_database(admin_url: str | None = None) -> Iterator[str | None]:
    """A throw-away PostgreSQL database at the newest schema, dropped afterwards; None if unreachable."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from workflow.db import database_url, engine_for, upgrade

    admin_url = admin_url or pg_admin_url()
    name = f"collab_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(database_url(admin_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except (OperationalError, ImportError) as error:
        print(f"# PostgreSQL at {admin_url} not usable ({type(error).__name__}); its figures are skipped", flush=True)
        yield None
        return
    base = admin_url.split("?", 1)[0].rsplit("/", 1)[0]
    target = f"{base}/{name}"
    try:
        upgrade(engine_for(target))
        yield target
    finally:
        engine_for(target).dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def postgres_version(admin_url: str | None = None) -> str | None:
    from sqlalchemy import create_engine, text

    from workflow.db import database_url

    try:
        engine = create_engine(database_url(admin_url or pg_admin_url()))
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar()
        engine.dispose()
        return str(version)
    except Exception:  # noqa: BLE001 - only a label for the machine table
        return None


# -- builders through the engine API -------------------------------------------------------------


def people(target: str) -> None:
    """An admin, a programme manager and an auditor, registered through the API."""
    from workflow.service import Collab

    Collab.open(target).add_user("root", "admin")
    admin = Collab.open(target, "root")
    admin.add_user("pm", "programme-manager")
    admin.add_user("audit", "auditor")


def ready_for_pid(target: str, key: str) -> None:
    """A collaboration in scoping that meets every requirement of the pid gate (six use cases)."""
    from workflow.service import Collab

    pm = Collab.open(target, "pm")
    pm.new(key, f"Collaboration {key}", objective="Share services", public_benefit="Protect the front line", on=DAY)
    pm.update(key, rationale="s.22A agreements considered; serves efficiency and effectiveness")
    pm.add_partner(key, FORCE_A, kind="police", risk_appetite="cautious")
    pm.add_partner(key, FORCE_B, kind="police", risk_appetite="open")
    pm.add_benefit(key, "B1", title="Savings", category="economic")
    pm.add_benefit(key, "B2", title="Public confidence", category="effectiveness")


# -- bulk builders (SQLAlchemy Core) ------------------------------------------------------------------


class Chain:
    """Appends events to the hash chain of one database, continuing from its head, as `audit.append` writes them
    (format 2, each collaboration's events linked by collab_prev). Make one per builder: it keeps the heads."""

    def __init__(self, target: str) -> None:
        from sqlalchemy import select

        from workflow.db import engine_for
        from workflow.model import ChainHead, Event

        with engine_for(target).connect() as connection:
            self.seq, self.hash = connection.execute(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1)).one()
            self.latest: dict[str, str] = dict(connection.execute(
                select(Event.collaboration, Event.hash).where(Event.collaboration.is_not(None)).order_by(Event.seq)).all())

    def link(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The row of the next event: `fields` (payload a dict) with seq, format, links, payload text and hash."""
        from workflow.audit import FORMAT, GENESIS, event_hash, payload_json

        self.seq += 1
        key = fields["collaboration"]
        row = {**fields, "seq": self.seq, "format": FORMAT, "prev_hash": self.hash,
               "collab_prev": None if key is None else self.latest.get(key, GENESIS),
               "payload": payload_json(fields["payload"])}
        row["hash"] = self.hash = event_hash(row)
        if key is not None:
            self.latest[key] = self.hash
        return row

    def save(self, connection: Any) -> None:
        from sqlalchemy import update

        from workflow.model import ChainHead

        connection.execute(update(ChainHead).where(ChainHead.id == 1).values(seq=self.seq, hash=self.hash))


def bulk_ready_collaborations(target: str, keys: list[str], batch: int = 5000) -> None:
    """Insert collaborations in scoping that meet the pid gate, as `ready_for_pid` leaves them.

    Each gets the row `Collab.new` writes, two police partners with risk appetites, an economic
    and an effectiveness benefit, and its `registered` event in the chain. The definition must
    already be stored (register one collaboration through the API first).
    """
    from sqlalchemy import insert, select

    from workflow.db import engine_for
    from workflow.model import Benefit, Collaboration, DefinitionVersion, Event, Partner, User

    engine = engine_for(target).execution_options(collab_write=True)
    with engine.begin() as connection:
        manager = connection.execute(select(User.id).where(User.name == "pm")).scalar_one()
        name, version = connection.execute(select(DefinitionVersion.name, DefinitionVersion.version)).first()
    recorded = datetime(2026, 1, 5, 9, 0)
    chain = Chain(target)
    for start in range(0, len(keys), batch):
        chunk = keys[start:start + batch]
        with engine.begin() as connection:
            ids = connection.execute(
                insert(Collaboration).returning(Collaboration.id, sort_by_parameter_order=True),
                [
                    {"key": key, "title": f"Collaboration {key}", "objective": "Share services",
                     "public_benefit": "Protect the front line",
                     "rationale": "s.22A agreements considered; serves efficiency and effectiveness",
                     "origin": "programme", "manager_id": manager, "definition_name": name,
                     "definition_version": version, "stage": "scoping", "stage_since": DAY, "created_on": DAY,
                     "version": 1}
                    for key in chunk
                ],
            ).scalars().all()
            connection.execute(insert(Partner), [
                {"collaboration_id": cid, "name": force, "kind": "police", "risk_appetite": appetite}
                for cid in ids for force, appetite in ((FORCE_A, "cautious"), (FORCE_B, "open"))
            ])
            connection.execute(insert(Benefit), [
                {"collaboration_id": cid, "code": code, "title": title, "category": category, "dis_benefit": False,
                 "unit": "", "start_on": DAY}
                for cid in ids for code, title, category in (("B1", "Savings", "economic"),
                                                              ("B2", "Public confidence", "effectiveness"))
            ])
            events = []
            for offset, key in enumerate(chunk):
                payload = {"title": f"Collaboration {key}", "objective": "Share services",
                           "public_benefit": "Protect the front line", "origin": "programme", "manager": "pm",
                           "definition": f"{name} v{version}"}
                events.append(chain.link({
                    "collaboration": key,
                    "recorded_at": (recorded + timedelta(seconds=start + offset)).isoformat(timespec="microseconds"),
                    "effective_on": DAY.isoformat(), "actor": "pm", "action": "registered", "from_stage": None,
                    "to_stage": "scoping", "reason": None, "payload": payload,
                }))
            connection.execute(insert(Event), events)
            chain.save(connection)


ACTIONS = (
    ("updated", None, None, None, {"changes": {"objective": {"from": "Share services", "to": "Share and align services"}}}),
    ("partner-changed", None, None, None, {"partner": FORCE_B, "kind": "police", "risk_appetite": "open", "cost_share": "30"}),
    ("hold", "delivery", "on-hold", "budget review by both forces", {}),
    ("resume", "on-hold", "delivery", None, {}),
    ("benefit-updated", None, None, None, {"benefit": "B2", "changes": {"target": {"from": 77.0, "to": 78.0}}}),
    ("advance", "pid", "delivery", "PID and agreement approved", {}),
)


def bulk_events(target: str, count: int, keys: int = 10_000, batch: int = 20_000,
                timed_hash: Callable[[list[bytes]], None] | None = None) -> None:
    """Append `count` events to the chain: a realistic mix of actions over `keys` collaborations.

    `timed_hash`, if given, is called with each batch's canonical encodings (the exact bytes
    that verify hashes) so that a caller can time bare SHA-256 over the same bytes.
    """
    from sqlalchemy import insert

    from workflow.audit import event_json
    from workflow.db import engine_for
    from workflow.model import Event

    engine = engine_for(target).execution_options(collab_write=True)
    start = datetime(2024, 1, 1, 9, 0)
    chain = Chain(target)
    for first in range(0, count, batch):
        with engine.begin() as connection:
            rows = []
            for n in range(first, min(first + batch, count)):
                action, from_stage, to_stage, reason, payload = ACTIONS[n % len(ACTIONS)]
                moment = start + timedelta(seconds=37 * n)
                rows.append(chain.link({
                    "collaboration": f"C{n % keys:06d}",
                    "recorded_at": moment.isoformat(timespec="microseconds"), "effective_on": moment.date().isoformat(),
                    "actor": ("pm", "cc.dc", "pcc.do", "owner")[n % 4], "action": action,
                    "from_stage": from_stage, "to_stage": to_stage, "reason": reason, "payload": payload,
                }))
            if timed_hash is not None:
                timed_hash([event_json(row).encode() for row in rows])
            connection.execute(insert(Event), rows)
            chain.save(connection)


# -- processes ---------------------------------------------------------------------------------------


@functools.cache
def compiled() -> None:
    """Compile the project's modules to bytecode once, as `pip install` does for an installed package.

    An editable install compiles on first import and caches the result, unless PYTHONDONTWRITEBYTECODE is set
    (as on this project's machines): then every `collab` process would compile cli.py and the engine from
    source again, about 150 ms of CPU a write that no installed copy pays.
    """
    for part in ("cli.py", "workflow", "notifications", "web"):
        path = ROOT / part
        ok = compileall.compile_dir(path, quiet=1) if path.is_dir() else compileall.compile_file(path, quiet=1)
        if not ok:
            raise SystemExit(f"could not compile {path} to bytecode")


def collab_env(target: str, actor: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
    env["COLLAB_DB"] = target
    if actor:
        env["COLLAB_USER"] = actor
    return env


# Starts the command and reaps it with wait4, from a process of its own: a child's peak RSS counts the memory of the
# process it was forked from (Linux carries the parent's high-water mark over fork and exec), and this script's can
# be a gigabyte (the data it built, the JSON it parsed), which `reviews` and `remind` were charged with.
_LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
elapsed = time.perf_counter() - started
with open(sys.argv[1], "w") as report:
    report.write(f"{elapsed} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, str]:
    """Run a process to its end: (wall seconds, exit code, its peak resident memory in KiB, output), the
    project compiled to bytecode first (`compiled`).

    A small launcher starts it and reaps it with wait4, which reports that one child's own peak RSS (unlike
    RUSAGE_CHILDREN, which keeps the largest of every child so far), and times it from its start to its end.
    """
    compiled()
    with tempfile.NamedTemporaryFile("r", suffix=".usage") as report:
        process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, report.name, *args], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, env=env)
        out, _ = process.communicate()
        elapsed, peak = report.read().split()
    return float(elapsed), process.returncode, int(peak), out.decode(errors="replace")
