"""Feedback on answers (👍/👎 and an optional comment), kept in SQLite outside the code.

The database lives in the user's data folder, never in the checkout:
``$ASSISTANT_DATA_DIR/feedback.db``, by default
``~/.local/share/jiceng-assistant/feedback.db`` (``$XDG_DATA_HOME`` is
respected).  It runs in WAL mode and every write opens its own short-lived
connection inside ``BEGIN IMMEDIATE``, so concurrent users' writes queue on
SQLite's lock (``busy_timeout``) instead of failing, and readers (the
export) never block writers.  Feedback is written by its own UI event, so a
slow disk can delay a "谢谢" but never an answer.

Example::

    >>> from assistant.feedback import FeedbackStore
    >>> store = FeedbackStore()                               # doctest: +SKIP
    >>> fid = store.record("停车难怎么办？", "……[1]", [{"n": 1}], "extractive", "👍")  # doctest: +SKIP
    >>> store.update(fid, comment="很实用")                    # doctest: +SKIP
    >>> store.export_csv("feedback.csv")                      # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from assistant.errors import InputError

APP_DIR_NAME = "jiceng-assistant"
RATINGS = ("👍", "👎")
MAX_COMMENT_CHARS = 2000
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL,
    citations  TEXT NOT NULL,   -- JSON list of the answer's citations
    mode       TEXT NOT NULL,   -- extractive | llm
    model      TEXT,            -- LLM model name in llm mode
    rating     TEXT,            -- 👍 | 👎 | NULL (a comment without a rating)
    comment    TEXT NOT NULL DEFAULT '',
    session    TEXT,            -- browser session, to group one user's ratings
    username   TEXT             -- the login name when login is configured
)
"""
COLUMNS = (
    "id", "created_at", "updated_at", "question", "answer", "citations",
    "mode", "model", "rating", "comment", "session", "username",
)


def data_dir() -> Path:
    """The folder for the assistant's own data (feedback, users): outside the code."""
    explicit = os.environ.get("ASSISTANT_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(base).expanduser() / APP_DIR_NAME


def default_db_path() -> Path:
    return data_dir() / "feedback.db"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FeedbackStore:
    """SQLite feedback table; cheap to construct, the file is created on first write."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_db_path()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(
                f"无法打开反馈数据库 {self.path}：{exc}。请检查目录权限，或用环境变量 ASSISTANT_DATA_DIR 指定其他数据目录。"
            ) from None
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if not self._ready:
            con.execute("PRAGMA journal_mode = WAL")  # persistent: set once per file
            con.execute(_SCHEMA)
            self._ready = True
        return con

    def _write(self, sql: str, params: tuple) -> int:
        """One connection, one immediate transaction; retried if SQLite still reports a lock."""
        for attempt in range(5):
            con = self._connect()
            try:
                con.execute("BEGIN IMMEDIATE")
                cur = con.execute(sql, params)
                con.execute("COMMIT")
                return int(cur.lastrowid or cur.rowcount)
            except sqlite3.OperationalError as exc:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                if "locked" not in str(exc) and "busy" not in str(exc) or attempt == 4:
                    raise InputError(f"反馈没有保存（数据库 {self.path}：{exc}），请稍后再试。") from None
                time.sleep(0.05 * (attempt + 1))
            finally:
                con.close()
        raise AssertionError("unreachable")

    def record(
        self,
        question: str,
        answer: str,
        citations: list[dict],
        mode: str,
        rating: str | None,
        comment: str = "",
        *,
        model: str | None = None,
        session: str | None = None,
        username: str | None = None,
    ) -> int:
        """Store one piece of feedback; returns its row id."""
        rating = _check_rating(rating)
        comment = _check_comment(comment)
        now = _now()
        return self._write(
            "INSERT INTO feedback (created_at, updated_at, question, answer, citations, mode, model, rating, comment,"
            " session, username) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (now, now, question, answer, json.dumps(citations, ensure_ascii=False), mode, model, rating, comment,
             session, username),
        )

    def update(self, row_id: int, *, rating: str | None = None, comment: str | None = None) -> None:
        """Change the rating and/or the comment of an earlier row (a user changing their mind)."""
        sets, params = ["updated_at = ?"], [_now()]
        if rating is not None:
            sets.append("rating = ?")
            params.append(_check_rating(rating))
        if comment is not None:
            sets.append("comment = ?")
            params.append(_check_comment(comment))
        self._write(f"UPDATE feedback SET {', '.join(sets)} WHERE id = ?", (*params, row_id))

    def rows(self) -> list[dict]:
        """All rows, oldest first (an empty list when nothing was recorded yet)."""
        if not self.path.exists():
            return []
        con = self._connect()
        try:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")]
        finally:
            con.close()

    def export_csv(self, out: str | Path) -> int:
        """Write every row to ``out`` as UTF-8 CSV (with BOM, so Excel shows Chinese); returns the count.

        The file is written beside its target and renamed into place, so a
        reader never sees half a file and a failure leaves no partial file.
        """
        out = Path(out)
        parent = out.parent if str(out.parent) else Path(".")
        if not parent.is_dir():
            raise InputError(f"无法写入 {out}：目录 {parent} 不存在。")
        rows = self.rows()
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        try:
            fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{out.name}.", suffix=".tmp")
        except OSError as exc:
            raise InputError(f"无法写入 {out}：{exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
                fh.write(buf.getvalue())
            os.replace(tmp, out)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise InputError(f"无法写入 {out}：{exc.strerror or exc}") from None
        return len(rows)


def _check_rating(rating: str | None) -> str | None:
    if rating in (None, ""):
        return None
    aliases = {"up": "👍", "down": "👎", "like": "👍", "dislike": "👎", "Like": "👍", "Dislike": "👎"}
    rating = aliases.get(rating, rating)
    if rating not in RATINGS:
        raise InputError(f"评价（{rating!r}）只能是 👍 或 👎。")
    return rating


def _check_comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise InputError(f"意见太长（{len(comment)} 字），请精简到 {MAX_COMMENT_CHARS} 字以内。")
    return comment
