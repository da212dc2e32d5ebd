"""The store of a run: an SQLite manifest (one row per item) beside one ``.npz`` per finished item.

Why this format: SQLite is in the standard library, embedded (no server), and transactional — in WAL mode
with ``synchronous=FULL`` a committed row survives a crash, and a killed process leaves at most an
uncommitted transaction that SQLite rolls back. Each item's result is an :class:`~peephole.Explanation`
saved in its open ``.npz`` format (arrays + JSON, read by ``peephole.load`` and by NumPy alone). The file is
written under a temporary name, fsynced and renamed *before* its row is committed, so a committed row
always points at a complete file; a file without a row (killed between the two) is simply redone.

The run's settings (method, model, options, package version, ...) are stored once; opening the store with
different settings is refused, so one run never mixes results made differently.

Several processes may run over one folder at once: each item is *claimed* (a row naming the process and the
time, taken in a ``BEGIN IMMEDIATE`` transaction) before it is explained and released when its row is
committed, so each item is explained once. A claim whose process has died, or not renewed for :data:`LEASE`
seconds, is stale: another run takes the item over (a killed run's item in flight is redone on resume).

A store that SQLite cannot open, read or write (damaged, truncated, not a database, locked, a full disk) is
one :class:`StoreError` saying what is wrong and what to do, never an ``sqlite3`` traceback.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
import socket
import sqlite3
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.result import Explanation

MANIFEST = "run.sqlite"
ITEMS = "items"

#: The per-item table, in export order: (column, SQL type).
COLUMNS = (
    ("id", "TEXT PRIMARY KEY"),
    ("seq", "INTEGER"),  #: the item's position in the dataset
    ("source", "TEXT"),  #: image path or sentence
    ("stamp", "TEXT"),  #: the item file's size, modification time and SHA-1 when explained (:func:`file_stamp`)
    ("label", "TEXT"),  #: the true class as given (index or name)
    ("true_class", "INTEGER"),  #: the true class index, when the label names one of the model's classes
    ("status", "TEXT"),  #: 'done', 'failed' or 'skipped' (no result by design, e.g. a misclassified benchmark image)
    ("error", "TEXT"),  #: the failure's message (or why the item was skipped)
    ("file", "TEXT"),  #: the result's .npz, relative to the run folder
    ("prediction", "INTEGER"),
    ("prediction_name", "TEXT"),
    ("confidence", "REAL"),  #: the predicted class's probability
    ("correct", "INTEGER"),  #: prediction == true class (NULL when no label)
    ("targets", "TEXT"),  #: JSON list of the explained classes
    ("top", "TEXT"),  #: JSON [[class, name, probability], ...] of the top classes
    ("metrics", "TEXT"),  #: JSON {"insertion": auc, "deletion": auc} when computed
    ("n_queries", "INTEGER"),
    ("seconds", "REAL"),
    ("attempts", "INTEGER"),
    ("finished", "REAL"),  #: UNIX time of the commit
)
NAMES = tuple(c for c, _ in COLUMNS)
TOP = 5  #: top classes kept in an item's ``top`` column


def prediction_columns(probabilities: Any, class_names: Any = None, true_class: int | None = None) -> dict[str, Any]:
    """An item's prediction columns from the model's output on the unperturbed input: ``prediction``,
    ``prediction_name``, ``confidence``, ``correct`` (prediction == ``true_class``; None without one) and ``top``.

    The one definition of "correctly classified": ``peephole benchmark`` scores only items whose ``correct`` is 1.
    """
    p = np.asarray(probabilities, np.float64).reshape(-1)
    pred = int(np.argmax(p))
    name = lambda i: class_names[i] if class_names is not None and i < len(class_names) else f"class {i}"  # noqa: E731
    top = [[int(i), name(int(i)), float(p[i])] for i in np.argsort(-p, kind="stable")[:TOP]]
    truth = None if true_class is None or not 0 <= int(true_class) < len(p) else int(true_class)
    return {
        "prediction": pred,
        "prediction_name": name(pred),
        "confidence": float(p[pred]),
        "correct": None if truth is None else int(pred == truth),
        "top": top,
    }


class SettingsMismatch(InputError):
    """The run folder holds results made with other settings."""


class StoreError(InputError):
    """The run store (``run.sqlite``) cannot be opened, read or written; the message says why and what to do."""


#: Seconds after its last renewal that a claim is stale even when its process seems alive (its pid reused, or on
#: another machine): a running session renews its claims every LEASE / 4 seconds (:meth:`Store.renew`).
LEASE = 120.0
#: Seconds a process waits for another one's write transaction before the store is reported locked.
BUSY_S = 30
HOST = socket.gethostname()
_OWNERS: set[str] = set()  #: the claim owners (run sessions) active in this process
_WRITING: set[str] = set()  #: the temporary files this process's commits are writing now (other threads' are not debris)


class Store:
    """A run folder: ``run.sqlite`` (settings, one row per item, sessions) and ``items/*.npz``."""

    def __init__(self, path: str | Path, settings: dict[str, Any] | None = None, *, total: int | None = None) -> None:
        """Open (and with ``settings``, create or resume) the run in folder ``path``.

        Without ``settings`` the run must exist (read-only use: reports, exports). With them, a new run
        records them; an existing run must have been made with the same ones, else :class:`SettingsMismatch`
        names each difference.
        """
        self.path = Path(path)
        db = self.path / MANIFEST
        if db.exists() and not db.is_file():  # a folder, or a FIFO that SQLite would wait on forever
            raise StoreError(f"{db} is not a regular file: move it aside, or give another --out folder")
        if settings is None and not db.is_file():
            raise InputError(f"{self.path}: not a Peephole run (no {MANIFEST})")
        if settings is not None:
            try:
                (self.path / ITEMS).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"{self.path}: cannot create the run folder ({exc.strerror or exc}); give another --out folder"
                ) from exc
        # one transaction at a time: the runner commits from its writer thread and claims from its own
        self._lock = threading.RLock()
        try:
            self._open(db, settings, total)
        except BaseException:
            if hasattr(self, "_db"):
                self._db.close()
            raise

    def _open(self, db: Path, settings: dict[str, Any] | None, total: int | None) -> None:
        with self._guard():
            self._db = sqlite3.connect(db, timeout=BUSY_S, isolation_level=None, check_same_thread=False)
            self._db.text_factory = lambda b: b.decode("utf-8", "replace")  # a flipped bit shows as U+FFFD, not a crash
            _wal(self._db)
            self._db.execute("PRAGMA synchronous=FULL")
            problems = [r[0] for r in self._db.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                found = "; ".join(" ".join(p.split()) for p in problems)
                raise sqlite3.DatabaseError(f"database disk image is malformed: {found}")
            if settings is None:
                tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if not {"meta", "items"} <= tables:
                    raise StoreError(
                        f"{db}: not a Peephole run store (no {', '.join(sorted({'meta', 'items'} - tables))} table); "
                        "run peephole run into this folder, or give the folder of a run"
                    )
                with self._tx():
                    self._add_columns()
            else:
                with self._tx():
                    self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
                    self._db.execute(f"CREATE TABLE IF NOT EXISTS items ({', '.join(f'{c} {t}' for c, t in COLUMNS)})")
                    self._db.execute(
                        "CREATE TABLE IF NOT EXISTS sessions (n INTEGER PRIMARY KEY, engine TEXT, started REAL, "
                        "finished REAL, done INTEGER, failed INTEGER, seconds REAL)"
                    )
                    self._db.execute(
                        "CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, owner TEXT, pid INTEGER, host TEXT, since REAL)"
                    )
                    self._add_columns()
        stored = self.meta("settings")
        if settings is None and stored is None:
            raise StoreError(f"{db}: records no run settings: not a Peephole run store; give the folder of a run")
        if settings is not None:
            if stored is None:
                self._set_meta("settings", settings)
            elif stored != json.loads(json.dumps(settings)):
                raise SettingsMismatch(_mismatch(self.path, stored, settings))
            if total is not None:
                self._set_meta("total", total)
            for stale in (self.path / ITEMS).glob(".tmp-*.npz"):
                if _debris(stale):
                    stale.unlink(missing_ok=True)

    def _add_columns(self) -> None:
        """Columns a store made by an earlier Peephole lacks (``stamp``), added empty: its runs resume."""
        have = {r[1] for r in self._db.execute("PRAGMA table_info(items)")}
        for column, sql_type in COLUMNS:
            if column not in have:
                self._db.execute(f"ALTER TABLE items ADD COLUMN {column} {sql_type}")

    # --- settings and metadata ---------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        return self.meta("settings") or {}

    @property
    def total(self) -> int | None:
        return self.meta("total")

    def meta(self, key: str) -> Any:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        if not rows:
            return None
        try:
            return json.loads(rows[0][0])
        except (TypeError, ValueError) as exc:
            raise StoreError(
                _store_problem(self.path / MANIFEST, sqlite3.DatabaseError(f"its {key} cannot be read: {exc}"))
            ) from exc

    def _set_meta(self, key: str, value: Any) -> None:
        with self._tx():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """One write transaction (``BEGIN IMMEDIATE``: it waits for, then excludes, every other writer)."""
        with self._lock, self._guard():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock, self._guard():
            return self._db.execute(sql, args).fetchall()

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite's errors as one :class:`StoreError` saying what is wrong and what to do."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise StoreError(_store_problem(self.path / MANIFEST, exc)) from exc
        except UnicodeDecodeError as exc:  # SQLite's message quotes a damaged schema: not UTF-8
            raise StoreError(_store_problem(self.path / MANIFEST, sqlite3.DatabaseError("malformed schema"))) from exc

    # --- writing -----------------------------------------------------------------------------------
    def commit(self, row: dict[str, Any], explanation: Explanation | None = None, npz: bytes | None = None) -> Path | None:
        """Record one item atomically: its result file first (temp name, fsync, rename), then its row.

        ``row`` holds the item's columns (see :data:`COLUMNS`); a finished item also gives its result, as an
        :class:`Explanation` or as the bytes of its saved ``.npz`` (what a remote worker sends back). Returns
        the result file's path (None for an item without a result).
        """
        row = dict(row)
        final = None
        if explanation is not None or npz is not None:
            name = f"{ITEMS}/{hashlib.sha1(row['id'].encode('utf-8')).hexdigest()[:20]}.npz"
            final = self.path / name
            # one temporary file per writer (thread and process; the pid last, for the clean-up of a killed writer's)
            tmp = final.with_name(f".tmp-{final.stem}-{threading.get_ident()}-{os.getpid()}.npz")
            writing = str(tmp.resolve())
            _WRITING.add(writing)  # before the file exists: a store opened meanwhile in this process leaves it
            try:
                with open(tmp, "wb") as f:
                    if explanation is not None:
                        explanation.dump(f)  # not save(): that would write a temporary file of its own beside this one
                    else:
                        f.write(npz)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, final)
            except BaseException:
                tmp.unlink(missing_ok=True)  # a failed write (disk full, file too large) leaves nothing behind
                raise
            finally:
                _WRITING.discard(writing)
            _fsync_dir(final.parent)
            row["file"] = name
        row["finished"] = time.time()
        for key in ("targets", "top", "metrics"):
            if key in row and not isinstance(row[key], str) and row[key] is not None:
                row[key] = json.dumps(row[key])
        cols = [c for c in NAMES if c in row and c != "attempts"]
        with self._tx():
            self._db.execute(
                f"INSERT INTO items ({', '.join(cols)}, attempts) VALUES ({', '.join('?' * len(cols))}, 1) "
                f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in cols)}, attempts = attempts + 1",
                [row[c] for c in cols],
            )
            self._db.execute("DELETE FROM claims WHERE id = ?", (row["id"],))
        return final

    def claim(self, item_id: str, owner: str, seen: int | None) -> bool:
        """Claim one item for ``owner`` (a run session's token): True when the caller is to explain it — no other
        live process holds it and its row is still as the caller saw it when it listed its work (``seen``: the
        row's ``attempts`` then, None for no row). The claim is released when the item's row is committed."""
        with self._tx():
            row = self._db.execute("SELECT attempts FROM items WHERE id = ?", (item_id,)).fetchone()
            if (row[0] if row else None) != seen:
                return False  # committed by another run since
            held = self._db.execute("SELECT owner, pid, host, since FROM claims WHERE id = ?", (item_id,)).fetchone()
            if held is not None and held[0] != owner and _live_claim(*held):
                return False
            _OWNERS.add(owner)
            self._db.execute(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)", (item_id, owner, os.getpid(), HOST, time.time())
            )
        return True

    def renew(self, owner: str) -> None:
        """Renew ``owner``'s claims (the heartbeat of a running session: a claim not renewed for :data:`LEASE`
        seconds is stale)."""
        with self._tx():
            self._db.execute("UPDATE claims SET since = ? WHERE owner = ?", (time.time(), owner))

    def release(self, owner: str) -> None:
        """Drop ``owner``'s claims on items it did not commit (a run stopped early)."""
        _OWNERS.discard(owner)
        with self._tx():
            self._db.execute("DELETE FROM claims WHERE owner = ?", (owner,))

    def attempts(self) -> dict[str, int]:
        """``{item id: attempts}`` of every recorded item: what :meth:`claim` compares its ``seen`` with."""
        return dict(self._read("SELECT id, attempts FROM items"))

    def start_session(self, engine: str) -> int:
        with self._tx():
            cur = self._db.execute("INSERT INTO sessions (engine, started) VALUES (?, ?)", (engine, time.time()))
        return int(cur.lastrowid)

    def end_session(self, n: int, done: int, failed: int, seconds: float) -> None:
        with self._tx():
            self._db.execute(
                "UPDATE sessions SET finished = ?, done = ?, failed = ?, seconds = ? WHERE n = ?",
                (time.time(), done, failed, seconds, n),
            )

    # --- reading -----------------------------------------------------------------------------------
    def status(self, check_files: bool = False) -> dict[str, str]:
        """``{item id: 'done' | 'failed' | 'skipped'}`` of every recorded item. With ``check_files``, a done item
        whose result file is missing or damaged (no readable zip directory, or without its maps) is left out, as
        if never run: a resumed run redoes it. (Damage inside the compressed data shows only when the file is
        read: ``peephole report`` then lists the item as failed, with the error.)"""
        out = {}
        for item_id, status, file in self._read("SELECT id, status, file FROM items"):
            if not (check_files and status == "done" and not _intact(_result_file(self.path, file))):
                out[str(item_id)] = status
        return out

    def changed(self, sources: dict[str, Any]) -> set[str]:
        """The ids of done items whose file (``sources``: id -> path) is not the one they were explained from: its
        size, or its content when only its modification time differs (a copied dataset is not redone)."""
        found = set()
        for item_id, stamp in self._read("SELECT id, stamp FROM items WHERE status = 'done' AND stamp IS NOT NULL"):
            source = sources.get(str(item_id))
            if isinstance(source, str) and not same_file(source, str(stamp)):
                found.add(str(item_id))
        return found

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """The per-item table (JSON columns decoded), in dataset order."""
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        cur = self._read(f"SELECT {', '.join(NAMES)} FROM items {where} ORDER BY seq, id", args)
        out = []
        for values in cur:
            r = {c: _typed(v, t) for (c, t), v in zip(COLUMNS, values)}
            r["id"] = str(values[0])
            for key in ("targets", "top", "metrics"):
                try:
                    r[key] = json.loads(r[key]) if r[key] else None
                except ValueError:  # a damaged cell: the row is still listed
                    r[key] = None
            out.append(r)
        return out

    def sessions(self) -> list[dict[str, Any]]:
        cur = self._read("SELECT n, engine, started, finished, done, failed, seconds FROM sessions ORDER BY n")
        types = ("INTEGER", "TEXT", "REAL", "REAL", "INTEGER", "INTEGER", "REAL")
        names = ("n", "engine", "started", "finished", "done", "failed", "seconds")
        return [{c: _typed(x, t) for c, t, x in zip(names, types, v)} for v in cur]

    def file_of(self, item_id: str) -> Path:
        found = self._read("SELECT file, status, error FROM items WHERE id = ?", (item_id,))
        row = found[0] if found else None
        if row is None:
            some = [r[0] for r in self._read("SELECT id FROM items WHERE file IS NOT NULL ORDER BY seq, id LIMIT 3")]
            hint = f"; its items are named like {', '.join(map(repr, some))}" if some else "; it has no finished item yet"
            raise InputError(f"{self.path}: no item {item_id!r} in this run{hint}")
        if row[0] is None:
            why = "was skipped" if row[1] == "skipped" else "failed"
            raise InputError(f"{self.path}: item {item_id!r} {why} ({row[2]}); it has no result")
        path = _result_file(self.path, row[0])
        if path is None:
            raise InputError(f"{self.path}: the store's entry for item {item_id!r} is damaged (file {row[0]!r})")
        return path

    def load(self, item_id: str) -> Explanation:
        """The :class:`Explanation` of one finished item (``peephole.load`` of its ``.npz``)."""
        from peephole.store.npz import read

        path = self.file_of(item_id)
        if not path.is_file():
            raise InputError(f"{self.path}: the result file of item {item_id!r} ({path.name}) is missing")
        return read(path)

    def export(self, path: str | Path) -> Path:
        """Write the per-item table to ``.csv`` or ``.parquet`` (needs pyarrow: ``pip install 'peephole[parquet]'``)."""
        p = Path(path)
        check_export(p)
        rows = self.rows()
        for r in rows:
            for key in ("targets", "top", "metrics"):
                r[key] = json.dumps(r[key]) if r[key] is not None else None
        try:
            if p.suffix.lower() == ".csv":
                with p.open("w", newline="", encoding="utf-8") as f:
                    w = csv.DictWriter(f, fieldnames=NAMES)
                    w.writeheader()
                    w.writerows(rows)
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.Table.from_pylist(rows, schema=_arrow_schema(pa)), p)
        except OSError as exc:
            raise InputError(f"cannot write {p}: {exc.strerror or exc}") from exc
        return p

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def file_stamp(source: Any) -> str | None:
    """``size:mtime_ns:sha1`` of the file ``source`` names, or None (a sentence, an array, no such file)."""
    try:
        p = Path(source) if isinstance(source, str) else None
        if p is None or not p.is_file():
            return None
        st = p.stat()
        return f"{st.st_size}:{st.st_mtime_ns}:{hashlib.sha1(p.read_bytes()).hexdigest()}"
    except (OSError, ValueError):  # not a path (a long text, a NUL), or unreadable: nothing to compare later
        return None


def same_file(source: str, stamp: str) -> bool:
    """Whether the file at ``source`` is still the one ``stamp`` (:func:`file_stamp`) describes; a file gone or
    unreadable counts as the same (its result stays; redoing it would only fail)."""
    try:
        size, mtime, digest = stamp.split(":")
        st = Path(source).stat()
        if st.st_size != int(size):
            return False
        return st.st_mtime_ns == int(mtime) or hashlib.sha1(Path(source).read_bytes()).hexdigest() == digest
    except (OSError, ValueError):
        return True


def check_export(path: str | Path) -> None:
    """Refuse an export path :meth:`Store.export` cannot write (another suffix; Parquet without pyarrow) before a
    run starts: one :class:`InputError` saying what to give or install."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"{path}: export to a .csv or .parquet file")
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise InputError("Parquet export needs pyarrow: pip install 'peephole[parquet]'") from exc


def _arrow_schema(pa: Any) -> Any:
    types = {"INTEGER": pa.int64(), "REAL": pa.float64()}
    return pa.schema([(c, types.get(t.split()[0], pa.string())) for c, t in COLUMNS])


def _typed(value: Any, sql_type: str) -> Any:
    """A cell as its column's type, or None when damage changed its type (a flipped bit in a record header)."""
    kind = {"INTEGER": int, "REAL": (int, float), "TEXT": str}[sql_type.split()[0]]
    return value if value is None or isinstance(value, kind) else None


def _result_file(folder: Path, file: Any) -> Path | None:
    """The path of a row's result file; None unless it is a name the store writes (``items/<hash>.npz``)."""
    ok = isinstance(file, str) and re.fullmatch(rf"{ITEMS}/[0-9a-f]{{20}}\.npz", file)
    return folder / file if ok else None


def _intact(path: Path | None) -> bool:
    """Whether a done item's result file is there and its zip directory names the arrays every result has."""
    if path is None or not path.is_file():  # missing, or a FIFO that opening would wait on
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return {"__meta__.npy", "maps.npy"} <= set(z.namelist())
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False


class ClaimSession:
    """One run session's claims on a store: an owner token for :meth:`Store.claim`, renewed every ``LEASE / 4``
    seconds in a thread (an item may take longer than :data:`LEASE`) and released by :meth:`close` (or on leaving a
    ``with`` block), so another process sees a live claim while this one works and a stale one if it dies."""

    def __init__(self, store: Store) -> None:
        self.store, self.owner = store, uuid.uuid4().hex
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._renew, name="peephole-claims", daemon=True)
        self._beat.start()

    def _renew(self) -> None:
        while not self._stop.wait(LEASE / 4):
            try:
                self.store.renew(self.owner)
            except InputError:  # the store became unwritable: the next commit says so
                return

    def claim(self, item_id: str, seen: int | None) -> bool:
        """:meth:`Store.claim` for this session."""
        return self.store.claim(item_id, self.owner, seen)

    def close(self) -> None:
        """Stop renewing and drop the claims on items this session did not commit."""
        self._stop.set()
        self._beat.join()
        self.store.release(self.owner)

    def __enter__(self) -> ClaimSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _live_claim(owner: str, pid: int, host: str, since: float) -> bool:
    """Whether a claim still holds: renewed within :data:`LEASE` seconds and, on this machine, its process alive
    (in this process: its session still active — a restarted container may reuse a dead run's pid)."""
    if not isinstance(since, (int, float)) or time.time() - since > LEASE:
        return False
    if host != HOST:
        return True
    return owner in _OWNERS if pid == os.getpid() else _alive(pid)


def _wal(con: sqlite3.Connection) -> None:
    """Switch to WAL mode. Two processes switching a new file together deadlock in SQLite, which then answers
    'database is locked' at once instead of waiting (its busy handler is skipped); so retry for :data:`BUSY_S`."""
    deadline = time.monotonic() + BUSY_S
    while True:
        try:
            con.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _store_problem(db: Path, exc: sqlite3.DatabaseError) -> str:
    """What an SQLite error means for the user of a run folder, and what to do."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (
            f"{db}: the run store stayed locked by another process for {BUSY_S} s ({text}); "
            "wait for it, or use another --out folder"
        )
    if "full" in text or "disk I/O" in text or "readonly" in text or "unable to open" in text:
        return (
            f"{db}: cannot open or write the run store ({text}); check the disk space and the folder's permissions, "
            "then run the same command again to resume"
        )
    return (
        f"{db} is damaged ({text}): it is not a readable run store. Move the run folder aside and start a new --out "
        "folder (the finished items' results in its items/*.npz can still be read one by one with peephole.load)"
    )


def _debris(tmp: Path) -> bool:
    """Whether an item's temporary file was left by a writer that was killed (its pid, the name's last field, no
    longer runs) rather than being written now. A file with this process's pid is debris of an earlier process that
    had the same pid, unless one of this process's commits is writing it now (``_WRITING``: another thread's)."""
    pid = tmp.stem.rsplit("-", 1)[-1]
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return str(tmp.resolve()) not in _WRITING
    return not _alive(int(pid))


def _alive(pid: int) -> bool:
    """Whether another process ``pid`` still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    if os.name == "posix":
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _differences(stored: dict[str, Any], given: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(stored) | set(given)):
        a, b = stored.get(k), given.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}: run has {a!r}, this call {b!r}")
    return out


def _mismatch(path: Path, stored: dict[str, Any], given: dict[str, Any]) -> str:
    diffs = _differences(stored, json.loads(json.dumps(given)))
    return (
        f"{path} holds a run made with other settings, and one run never mixes results made differently — "
        f"{'; '.join(diffs)}. Use another --out folder, or the run's settings to resume it."
    )
