"""Entities (actions, packages, triggers, rules), activation records and
alarm registrations in one SQLite file (WAL mode): nothing to install, and a
restart loses nothing that finished."""

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    namespace TEXT NOT NULL,          -- owner namespace, e.g. guest
    collection TEXT NOT NULL,         -- actions | packages
    name TEXT NOT NULL,               -- hello, or pkg/hello for an action in a package
    updated INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (namespace, collection, name)
);
CREATE TABLE IF NOT EXISTS activations (
    activation_id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,               -- the action's simple name
    path TEXT NOT NULL,               -- ns/[pkg/]name: the binding's path, else the path annotation
    start INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activations_by_start ON activations (namespace, start DESC);
CREATE TABLE IF NOT EXISTS alarms (   -- /whisk.system/alarms registrations, one per trigger
    namespace TEXT NOT NULL,
    trigger TEXT NOT NULL,
    doc TEXT NOT NULL,                -- config and state (alarm_feeds.py)
    PRIMARY KEY (namespace, trigger)
);
CREATE TABLE IF NOT EXISTS apis (     -- API gateway routes (gateway.py): one swagger per base path
    namespace TEXT NOT NULL,
    basepath TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (namespace, basepath)
);
"""


@dataclass(frozen=True)
class ActivationQuery:
    namespace: str
    name: str | None = None  # "action" or "pkg/action"
    since: int | None = None
    upto: int | None = None
    skip: int = 0
    limit: int = 30


class Store:
    """Thread-safe: one connection, one re-entrant lock (SQLite serialises writers anyway)."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a crash of the server
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the data file {path}: {exc}. Check that the folder is "
                             "writable, or pass another --data-dir.") from exc
        self._lock = threading.RLock()
        self.path = path

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator["Store"]:
        """Read-check-write under one lock, so that no other request interleaves."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Entities. Callers hold transaction() for read-modify-write sequences. A single read
    # takes the lock for itself; several reads in a row outside a transaction may see a
    # write land between them (the catalog's generation check covers its cache).

    def get(self, namespace: str, collection: str, name: str) -> dict[str, Any] | None:
        row = self._query_one("SELECT doc FROM entities WHERE namespace=? AND collection=? AND name=?",
                              (namespace, collection, name))
        return json.loads(row[0]) if row else None

    def collection_of(self, namespace: str, name: str) -> str | None:
        row = self._query_one("SELECT collection FROM entities WHERE namespace=? AND name=?", (namespace, name))
        return row[0] if row else None

    def put(self, namespace: str, collection: str, name: str, doc: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?)",
                             (namespace, collection, name, doc["updated"], json.dumps(doc, ensure_ascii=False)))

    def delete(self, namespace: str, collection: str, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM entities WHERE namespace=? AND collection=? AND name=?",
                             (namespace, collection, name))

    def entities(self, namespace: str, collection: str, *, prefix: str | None = None, skip: int = 0,
             limit: int = 30) -> list[dict[str, Any]]:
        """Newest first; ``prefix`` ("pkg/") keeps one package's actions."""
        sql = "SELECT doc FROM entities WHERE namespace=? AND collection=?"
        args: list[Any] = [namespace, collection]
        if prefix is not None:
            sql += " AND substr(name, 1, ?) = ? AND instr(substr(name, ?), '/') = 0"
            args += [len(prefix), prefix, len(prefix) + 1]
        # Newest first; within one millisecond, the later write first (REPLACE gives a new rowid).
        sql += " ORDER BY updated DESC, rowid DESC LIMIT ? OFFSET ?"
        args += [limit, skip]
        return [json.loads(row[0]) for row in self._query_all(sql, tuple(args))]

    def count(self, namespace: str, collection: str, *, prefix: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM entities WHERE namespace=? AND collection=?"
        args: list[Any] = [namespace, collection]
        if prefix is not None:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(prefix), prefix]
        return int(self._query_one(sql, tuple(args))[0])

    # Alarms.

    def get_alarm(self, namespace: str, trigger: str) -> dict[str, Any] | None:
        row = self._query_one("SELECT doc FROM alarms WHERE namespace=? AND trigger=?", (namespace, trigger))
        return json.loads(row[0]) if row else None

    def put_alarm(self, namespace: str, trigger: str, doc: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO alarms VALUES (?, ?, ?)",
                             (namespace, trigger, json.dumps(doc, ensure_ascii=False)))

    def delete_alarm(self, namespace: str, trigger: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM alarms WHERE namespace=? AND trigger=?", (namespace, trigger))

    def alarms(self) -> list[dict[str, Any]]:
        return [json.loads(row[0]) for row in self._query_all("SELECT doc FROM alarms", ())]

    # API routes.

    def put_api(self, namespace: str, basepath: str, swagger: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO apis VALUES (?, ?, ?)",
                             (namespace, basepath, json.dumps(swagger, ensure_ascii=False)))

    def delete_api(self, namespace: str, basepath: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM apis WHERE namespace=? AND basepath=?", (namespace, basepath))

    def apis(self, namespace: str) -> list[dict[str, Any]]:
        rows = self._query_all("SELECT doc FROM apis WHERE namespace=? ORDER BY basepath", (namespace,))
        return [json.loads(row[0]) for row in rows]

    # Activations.

    def add_activation(self, record: dict[str, Any]) -> None:
        # The key OpenWhisk's name filter matches (activations view, pathFilter): an activation
        # through a binding is found by the binding's name, not the bound package's.
        found = {a["key"]: a["value"] for a in record.get("annotations", []) if a["key"] in ("path", "binding")}
        if "binding" in found:
            path = f"{found['binding']}/{record['name']}"
        else:
            path = found.get("path", f"{record['namespace']}/{record['name']}")
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO activations VALUES (?, ?, ?, ?, ?, ?)",
                             (record["activationId"], record["namespace"], record["name"], path,
                              record["start"], json.dumps(record, ensure_ascii=False)))

    def get_activation(self, namespace: str, activation_id: str) -> dict[str, Any] | None:
        row = self._query_one("SELECT doc FROM activations WHERE activation_id=? AND namespace=?",
                              (activation_id, namespace))
        return json.loads(row[0]) if row else None

    def activations(self, query: ActivationQuery) -> list[dict[str, Any]]:
        where, args = self._activation_filter(query)
        sql = f"SELECT doc FROM activations WHERE {where} ORDER BY start DESC LIMIT ? OFFSET ?"
        return [json.loads(row[0]) for row in self._query_all(sql, (*args, query.limit, query.skip))]

    def count_activations(self, query: ActivationQuery) -> int:
        where, args = self._activation_filter(query)
        return int(self._query_one(f"SELECT COUNT(*) FROM activations WHERE {where}", tuple(args))[0])

    @staticmethod
    def _activation_filter(query: ActivationQuery) -> tuple[str, list[Any]]:
        clauses, args = ["namespace=?"], [query.namespace]
        if query.name:
            if "/" in query.name:  # pkg/action: match the end of the path
                clauses.append("name=? AND path LIKE ? ESCAPE '\\'")
                escaped = query.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                args += [query.name.split("/")[-1], f"%/{escaped}"]
            else:  # a simple name: actions outside packages only (path ns/name)
                clauses.append("name=? AND path NOT LIKE '%/%/%'")
                args.append(query.name)
        if query.since is not None:
            clauses.append("start >= ?")
            args.append(query.since)
        if query.upto is not None:
            clauses.append("start <= ?")
            args.append(query.upto)
        return " AND ".join(clauses), args

    def _query_one(self, sql: str, args: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _query_all(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()
