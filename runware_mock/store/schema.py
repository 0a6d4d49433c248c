"""The store's schema, as the list of migrations that build it: a store of an older version is
brought up to date at start; one written by a newer emulator is refused."""

from __future__ import annotations

import sqlite3

# Migration N takes a store from version N to version N + 1; ``user_version`` holds the version.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: tasks (one row each: the request as sent and the state of its results), served
    # files, and settings of the run that outlive it (the clock's offset).
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
        # ``state`` is what the emulator holds of a task, its request without inline media;
        # ``sent`` the request as it came, inline media included, to run the task again (NULL
        # while that is the request in ``state``).
        # A rowid table: a task's row is about a kilobyte, and rows that large are appended
        # to a rowid table two to three times faster than into a WITHOUT ROWID b-tree.
        "CREATE TABLE tasks (task_uuid TEXT PRIMARY KEY, owner TEXT NOT NULL, sent BLOB,"
        " state BLOB NOT NULL, finished_at REAL)",
        "CREATE TABLE files (kind TEXT NOT NULL, uuid TEXT NOT NULL, path TEXT NOT NULL,"
        " extension TEXT NOT NULL, expires_at REAL, owner TEXT,"
        " PRIMARY KEY (kind, uuid)) WITHOUT ROWID",
    ),
    # 2: deliveries (webhooks and uploads: the tries made so far, and whether they ended) and
    # fault rules with their counters.
    (
        "CREATE TABLE deliveries (task_uuid TEXT NOT NULL, generation INTEGER NOT NULL,"
        " kind TEXT NOT NULL, tries INTEGER NOT NULL DEFAULT 0, ended INTEGER NOT NULL DEFAULT 0,"
        " PRIMARY KEY (task_uuid, generation, kind)) WITHOUT ROWID",
        "CREATE TABLE fault_rules (id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
        " state BLOB NOT NULL) WITHOUT ROWID",
        # An output published before its file is made (``--renders lazy``) has no path yet,
        # and names its task and result, which make it again after a restart.
        "ALTER TABLE files ADD COLUMN made INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE files ADD COLUMN task_uuid TEXT",
        "ALTER TABLE files ADD COLUMN generation INTEGER",
    ),
    # 3: a task's deliveries go with its row, so each table's methods touch that table only
    # (a task forgotten, cleared or withdrawn owes no delivery).
    (
        "CREATE TRIGGER task_deleted_drops_its_deliveries AFTER DELETE ON tasks BEGIN"
        " DELETE FROM deliveries WHERE task_uuid = OLD.task_uuid; END",
    ),
    # 4: what an API key's account holds beyond its tasks: the models it uploaded
    # (modelUpload), what each result cost or the error that ended it (accountManagement's
    # usage, the balance), and the balances the admin API set. Spending outlives the tasks'
    # retention, as a bill does.
    (
        "CREATE TABLE uploaded_models (owner TEXT NOT NULL, air TEXT NOT NULL,"
        " spec BLOB NOT NULL, PRIMARY KEY (owner, air)) WITHOUT ROWID",
        "CREATE TABLE spending (task_uuid TEXT NOT NULL, generation INTEGER NOT NULL,"
        " owner TEXT NOT NULL, task_type TEXT NOT NULL, model TEXT NOT NULL, cost REAL NOT NULL,"
        " at REAL NOT NULL, error_code TEXT, PRIMARY KEY (task_uuid, generation))",
        "CREATE TABLE balances (owner TEXT PRIMARY KEY, usd REAL NOT NULL,"
        " spent_then REAL NOT NULL) WITHOUT ROWID",
    ),
)
VERSION = len(MIGRATIONS)


class StoreVersionError(RuntimeError):
    """The store was written by a newer emulator: this one cannot read it."""


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the store to ``VERSION``; returns the version it had."""
    found = connection.execute("PRAGMA user_version").fetchone()[0]
    if found > VERSION:
        raise StoreVersionError(
            f"the store was written by a newer runware-mock (schema version {found}; this one "
            f"reads versions up to {VERSION}): upgrade runware-mock, or use another --data-dir")
    for version in range(found, VERSION):
        with connection:
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version + 1}")
    return found
