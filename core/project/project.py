"""The project file: one SQLite database (``*.luma``).

* WAL journal, foreign keys on, a ``luma_schema`` table with the applied
  migrations; files from a newer Luma Studio are refused.
* Every user action is one transaction: wrap it in ``with project.transaction():``
  (nested blocks become savepoints). Nothing is ever only in memory, so a crash
  loses at most the action that was running.
* "Save" checkpoints the WAL into the main file; "Save As" writes a consistent
  copy with SQLite's backup API into a temporary file beside the target,
  rewrites the relative media paths for the new folder and renames it into
  place atomically.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils
from psygnal import Signal

from core import __version__
from core.errors import ProjectError, ProjectVersionError
from core.project.migrations import MIGRATIONS, latest_version

PROJECT_SUFFIX = ".luma"
APPLICATION_ID = 0x4C554D41  # "LUMA" in the SQLite header: tells our files apart


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10.0)
    conn.row_factory = None
    return conn


class Project:
    """An open project file. Use :meth:`create` or :meth:`open`."""

    #: Emitted after a transaction that changed something commits: (label,)
    changed = Signal(str)

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = Path(path).resolve()
        self._conn = conn
        self.db = sqlite_utils.Database(conn, execute_plugins=False)
        self._lock = threading.RLock()
        self._depth = 0

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def create(cls, path: str | os.PathLike, name: str | None = None, overwrite: bool = False) -> "Project":
        path = Path(path)
        if path.suffix != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        if path.exists():
            if not overwrite:
                raise ProjectError(f"{path}: a file with this name exists already")
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        if not path.parent.is_dir():
            raise ProjectError(f"{path.parent}: folder does not exist")
        try:
            conn = _connect(path)
        except sqlite3.Error as exc:
            raise ProjectError(f"{path}: cannot create the project file ({exc})") from exc
        project = cls(path, conn)
        project._configure()
        project._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        project._migrate()
        with project.transaction("create project"):
            project.set_meta("name", name or path.stem)
            project.set_meta("created_at", now_iso())
            project.set_meta("created_with", __version__)
        return project

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Project":
        path = Path(path)
        if not path.is_file():
            raise ProjectError(f"{path}: project file not found")
        with open(path, "rb") as fh:
            head = fh.read(16)
        if head != b"SQLite format 3\x00":
            raise ProjectError(f"{path}: not a Luma Studio project (not an SQLite database)")
        try:
            conn = _connect(path)
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            has_schema = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='luma_schema'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise ProjectError(f"{path}: the project file is damaged ({exc})") from exc
        if app_id != APPLICATION_ID or not has_schema:
            conn.close()
            raise ProjectError(f"{path}: not a Luma Studio project")
        project = cls(path, conn)
        version = project.schema_version()
        if version > latest_version():
            conn.close()
            raise ProjectVersionError(
                f"{path.name} was saved by a newer Luma Studio (project format {version}; "
                f"this version reads up to {latest_version()}). Update Luma Studio to open it."
            )
        project._configure()
        project._migrate()
        return project

    def _configure(self) -> None:
        c = self._conn
        mode = c.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ProjectError(f"{self.path}: cannot enable write-ahead logging (journal mode {mode})")
        c.execute("PRAGMA foreign_keys=ON")
        c.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
            self._conn = None  # type: ignore[assignment]

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ProjectError(f"{self.path.name}: the project is closed")
        return self._conn

    @property
    def folder(self) -> Path:
        return self.path.parent

    # ------------------------------------------------------------ schema
    def schema_version(self) -> int:
        row = self.conn.execute("SELECT MAX(version) FROM luma_schema").fetchone()
        return int(row[0] or 0)

    def _migrate(self) -> None:
        c = self.conn
        c.execute(
            "CREATE TABLE IF NOT EXISTS luma_schema ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL, app_version TEXT NOT NULL)"
        )
        current = self.schema_version()
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            with self.transaction(f"migrate to {migration.version}", notify=False):
                migration.apply(c)
                c.execute(
                    "INSERT INTO luma_schema(version, name, applied_at, app_version) VALUES (?, ?, ?, ?)",
                    (migration.version, migration.name, now_iso(), __version__),
                )

    # ------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def transaction(self, label: str = "", notify: bool = True) -> Iterator[sqlite3.Connection]:
        """One user action: commits everything inside or nothing.

        Nested calls become savepoints of the outer transaction; the
        ``changed`` signal fires once, after the outermost commit.
        """
        with self._lock:
            conn = self.conn
            self._depth += 1
            try:
                with self.db.atomic():
                    yield conn
            except sqlite3.Error as exc:
                raise ProjectError(f"{self.path.name}: could not save '{label or 'change'}' ({exc})") from exc
            finally:
                self._depth -= 1
        if notify and self._depth == 0:
            self.changed.emit(label)

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        with self._lock:
            return self.conn.execute(sql, params)

    def query(self, sql: str, params: tuple | dict = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    # ------------------------------------------------------------ metadata
    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction(f"set {key}", notify=False):
            self.conn.execute(
                "INSERT INTO project_meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.query("SELECT value FROM project_meta WHERE key = ?", (key,))
        return row[0][0] if row else default

    # ------------------------------------------------------------ paths
    def relative_path(self, path: str | os.PathLike) -> str:
        """How a media path is stored: relative to the project folder, POSIX style."""
        absolute = Path(path).resolve()
        return Path(os.path.relpath(absolute, self.folder)).as_posix()

    def absolute_path(self, stored: str) -> Path:
        return (self.folder / Path(stored)).resolve()

    # ------------------------------------------------------------ save
    def save(self) -> None:
        """Fold the write-ahead log into the project file (data is already committed)."""
        with self._lock:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def save_as(self, new_path: str | os.PathLike) -> None:
        """Write a copy at ``new_path`` atomically and continue working on it."""
        new_path = Path(new_path)
        if new_path.suffix != PROJECT_SUFFIX:
            new_path = new_path.with_name(new_path.name + PROJECT_SUFFIX)
        new_path = new_path.resolve()
        if new_path == self.path:
            self.save()
            return
        if not new_path.parent.is_dir():
            raise ProjectError(f"{new_path.parent}: folder does not exist")
        with self._lock:
            fd, tmp_name = tempfile.mkstemp(prefix=".saving-", suffix=PROJECT_SUFFIX, dir=new_path.parent)
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                dest = sqlite3.connect(str(tmp))
                try:
                    self.conn.backup(dest)
                    # Media paths are relative to the project folder: rebase them.
                    rows = dest.execute("SELECT id, path FROM media").fetchall()
                    drows = dest.execute("SELECT id, path FROM derived_media").fetchall()
                    dest.execute("BEGIN")
                    for table, items in (("media", rows), ("derived_media", drows)):
                        for row_id, stored in items:
                            absolute = self.absolute_path(stored)
                            rel = Path(os.path.relpath(absolute, new_path.parent)).as_posix()
                            dest.execute(f"UPDATE {table} SET path = ? WHERE id = ?", (rel, row_id))
                    dest.execute("COMMIT")
                    dest.execute("PRAGMA journal_mode=DELETE")
                finally:
                    dest.close()
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                for suffix in ("-wal", "-shm"):
                    Path(str(new_path) + suffix).unlink(missing_ok=True)
                os.replace(tmp, new_path)
            except (OSError, sqlite3.Error) as exc:
                tmp.unlink(missing_ok=True)
                raise ProjectError(f"{new_path}: could not save a copy ({exc})") from exc
            self.close()
            self.path = new_path
            self._conn = _connect(new_path)
            self.db = sqlite_utils.Database(self._conn, execute_plugins=False)
            self._configure()
        self.changed.emit("save as")
