"""SQLite for several writers: WAL, a busy timeout and ``BEGIN IMMEDIATE`` write transactions.

pysqlite's own transaction handling issues a deferred ``BEGIN`` lazily, so two read-then-write
transactions deadlock and one fails with SQLITE_BUSY. SQLAlchemy's documented recipe takes the
transaction control away from pysqlite and emits ``BEGIN IMMEDIATE`` itself, taking the write lock
up front; with WAL, readers outside a transaction are not blocked.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Engine, event

BUSY_TIMEOUT_MS = 15_000
_installed = False


def _on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _on_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def install_pragmas() -> None:
    """Register the listeners once per process, for every SQLite engine."""
    global _installed
    if _installed:
        return
    event.listen(Engine, "connect", _on_connect)
    event.listen(Engine, "begin", _on_begin)
    _installed = True
