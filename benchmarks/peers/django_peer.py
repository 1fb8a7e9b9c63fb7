"""Django + django-fsm-2 + django-fsm-log: the peer most Python teams would reach for.

A minimal in-process project configured in code (`settings.configure`): contenttypes, auth,
django_fsm_log and one app (`benchmarks/peers/fsmapp`, the model and its transitions). Its tables
are made by `migrate` run programmatically (the app itself has no migrations: `run_syncdb`).
SQLite gets WAL and synchronous=FULL from a `connection_created` signal, and write transactions
take the lock up front (`transaction_mode="IMMEDIATE"`, Django 5.1+), as collab's do; PostgreSQL
is used through psycopg 3 with its defaults.

Per move, as a view would do it: in `transaction.atomic()`, `Record.objects.get(key=...)`, call
the transition (its conditions run; django-fsm-log's SimpleBackend inserts the StateLog row from
the post_transition signal, `by` the acting user and `description` the reason) and `save()`
(an UPDATE that also matches the stage read, from ConcurrentTransitionMixin).
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import unquote, urlsplit

from benchmarks.peers.store import BUSY_TIMEOUT_MS, Moves

APP = "benchmarks.peers.fsmapp"


class ActiveDatabase:
    """Routes every model to the database of the phase being measured (SQLite, then PostgreSQL)."""

    alias = "default"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return ActiveDatabase.alias

    db_for_write = db_for_read

    def allow_relation(self, *_: Any, **__: Any) -> bool:
        return True

    def allow_migrate(self, *_: Any, **__: Any) -> bool:
        return True


def postgres_settings(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {"ENGINE": "django.db.backends.postgresql", "NAME": parts.path.lstrip("/"),
            "USER": unquote(parts.username or ""), "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "", "PORT": str(parts.port or "")}


def configure(sqlite_path: str, postgres_url: str | None) -> None:
    """Configure and set up Django once for this process: alias `default` is SQLite, `postgresql` the other."""
    import django
    from django.conf import settings
    from django.db.backends.signals import connection_created

    sqlite: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_path,
                              "OPTIONS": {"timeout": BUSY_TIMEOUT_MS / 1000}}
    if django.VERSION >= (5, 1):
        sqlite["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    databases = {"default": sqlite}
    if postgres_url:
        databases["postgresql"] = postgres_settings(postgres_url)
    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        SECRET_KEY="collab-peers-benchmark",
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_fsm_log", APP],
        DATABASES=databases,
        DATABASE_ROUTERS=[ActiveDatabase()],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LOGGING_CONFIG=None,
    )

    def durable_sqlite(sender: Any, connection: Any, **_: Any) -> None:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")

    connection_created.connect(durable_sqlite, weak=False)
    django.setup()


class DjangoPeer(Moves):
    name, title = "django_fsm", "Django + django-fsm-2 + django-fsm-log"

    def __init__(self, backend: str, delivery: list[str], scoping: list[str]) -> None:
        from django.contrib.auth.models import User
        from django.core.management import call_command

        from benchmarks.peers.fsmapp.models import DELIVERY, SCOPING, Benefit, Partner, Record

        self.alias = "default" if backend == "sqlite" else "postgresql"
        ActiveDatabase.alias = self.alias
        call_command("migrate", database=self.alias, run_syncdb=True, verbosity=0)
        self.user = User.objects.create(username="pm")
        Record.objects.bulk_create([Record(key=key, stage=DELIVERY, rationale="agreed") for key in delivery])
        ready = Record.objects.bulk_create(
            [Record(key=key, stage=SCOPING, rationale="s.22A agreements considered") for key in scoping])
        Partner.objects.bulk_create([Partner(record=record, name=name) for record in ready
                                     for name in ("Devon & Cornwall Police", "Dorset Police")])
        Benefit.objects.bulk_create([Benefit(record=record, code=code) for record in ready for code in ("B1", "B2")])
        self.record = Record

    def fire(self, key: str, action: str, reason: str | None = None) -> None:
        from django.db import transaction

        with transaction.atomic(using=self.alias):
            record = self.record.objects.get(key=key)
            getattr(record, action)(by=self.user, description=reason)
            record.save()

    def connections(self) -> list[sqlite3.Connection]:
        from django.db import connections

        connection = connections[self.alias]
        connection.ensure_connection()
        return [connection.connection] if connection.vendor == "sqlite" else []

    def close(self) -> None:
        from django.db import connections

        connections[self.alias].close()
