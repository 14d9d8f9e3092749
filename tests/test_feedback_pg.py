"""Feedback in PostgreSQL (ASSISTANT_FEEDBACK_URL), against a real throwaway server.

One server per module (``pg_server.running_postgres``); every test starts
without the feedback table, so the store creates it from scratch each time.  Skipped, with
the reason, when Debian's postgresql is not installed.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pg_server import free_port, running_postgres

from assistant.errors import InputError
from assistant.feedback import COLUMNS, FEEDBACK_URL_ENV, FeedbackStore, mask_url

psycopg = pytest.importorskip("psycopg")

CITES = [{"n": 1, "case_id": "sj2025-01", "quote": "共拆除地锁146把", "start": 10, "end": 19}]
ASSISTANT = Path(sys.executable).with_name("assistant")


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory):
    with running_postgres(tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.fixture
def pg_url(pg_server, monkeypatch):
    """The module's database without the feedback table; the environment starts without the URL."""
    monkeypatch.delenv(FEEDBACK_URL_ENV, raising=False)
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS feedback")  # each test starts from scratch (faster than a new database)
        con.execute("DROP TABLE IF EXISTS gaps")
    return pg_server


def _with_password(url: str, password: str = "secret123") -> str:
    return url.replace("postgres@", f"postgres:{password}@", 1)  # trust auth ignores it


def test_record_update_and_read_back(pg_url):
    store = FeedbackStore(url=pg_url)
    assert store.backend == "postgresql" and store.rows() == []  # reading creates nothing
    fid = store.record("停车难怎么办？", "……[1]", CITES, "extractive", "👍", session="s1", username="wangli")
    fid2 = store.record("加装电梯？", "……", [], "llm", None, "只有意见", model="qwen")
    assert isinstance(fid, int) and fid2 == fid + 1
    store.update(fid, comment="很实用", rating="👎")
    store.update(fid2, rating="up")
    store.update(999_999, rating="👍")  # like SQLite: an unknown id changes nothing
    first, second = FeedbackStore(url=pg_url).rows()  # a new store object sees the same table
    assert first["id"] == fid and first["question"] == "停车难怎么办？"
    assert first["rating"] == "👎" and first["comment"] == "很实用" and first["username"] == "wangli"
    assert json.loads(first["citations"]) == CITES and first["mode"] == "extractive" and first["model"] is None
    assert isinstance(first["created_at"], str) and first["created_at"].endswith("+00:00")
    assert first["updated_at"] >= first["created_at"]
    assert second["rating"] == "👍" and second["comment"] == "只有意见" and second["model"] == "qwen"
    assert tuple(first) == COLUMNS  # same columns, same order as SQLite
    with pytest.raises(InputError, match="👍 或 👎"):
        store.record("q", "a", [], "extractive", "meh")
    with pytest.raises(InputError, match="意见太长"):
        store.update(fid, comment="字" * 3000)
    assert len(store.rows()) == 2


def test_csv_export_is_identical_to_sqlite(pg_url, tmp_path, monkeypatch):
    monkeypatch.setattr("assistant.feedback._now", lambda: "2025-10-01T08:00:00+00:00")
    sqlite_store, pg_store = FeedbackStore(tmp_path / "feedback.db"), FeedbackStore(url=pg_url)
    for store in (sqlite_store, pg_store):
        fid = store.record("加装电梯，低层反对？", "先征询意见[1]", CITES, "llm", "👍", "引用准确，带逗号,和\"引号\"",
                           model="qwen", session="s1")
        store.record("宅基地怎么管？", "……\n第二行", [], "extractive", None, "只有意见", username="wangli")
        store.update(fid, rating="👎")
    assert sqlite_store.export_csv(tmp_path / "sqlite.csv") == pg_store.export_csv(tmp_path / "pg.csv") == 2
    raw = (tmp_path / "pg.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,created_at,updated_at,question,answer,citations,")
    assert raw == (tmp_path / "sqlite.csv").read_bytes()
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines(keepends=True)))
    assert [r["rating"] for r in rows] == ["👎", ""] and rows[1]["answer"] == "……\n第二行"


def test_concurrent_writers_lose_nothing(pg_url):
    """8 threads × 10 records, a new store per write, all starting at once on a database without the table."""
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(i: int) -> None:
        try:
            start.wait(timeout=30)
            for j in range(10):
                FeedbackStore(url=pg_url).record(f"问题{i}-{j}", "答", CITES, "extractive", "👍" if j % 2 else "👎")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    rows = FeedbackStore(url=pg_url).rows()
    assert len(rows) == 80 and len({r["question"] for r in rows}) == 80
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows) and len({r["id"] for r in rows}) == 80


def test_backend_follows_the_environment(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(FEEDBACK_URL_ENV, pg_url)
    store = FeedbackStore()
    assert store.backend == "postgresql" and store.location == pg_url
    store.record("走环境变量", "答", [], "extractive", "👍")
    assert [r["question"] for r in FeedbackStore(url=pg_url).rows()] == ["走环境变量"]
    assert not (tmp_path / "data").exists()  # nothing went to SQLite
    explicit = FeedbackStore(tmp_path / "explicit.db")  # an explicit path (the CLI's --db) is always SQLite
    assert explicit.backend == "sqlite" and explicit.rows() == []

    monkeypatch.delenv(FEEDBACK_URL_ENV)
    store = FeedbackStore()
    assert store.backend == "sqlite" and store.path == tmp_path / "data" / "feedback.db"
    store.record("走 SQLite", "答", [], "extractive", "👎")
    assert (tmp_path / "data" / "feedback.db").exists() and len(FeedbackStore(url=pg_url).rows()) == 1
    monkeypatch.setenv(FEEDBACK_URL_ENV, "  ")  # blank counts as unset
    assert FeedbackStore().backend == "sqlite"


def test_password_is_masked_everywhere_it_is_shown(pg_url):
    url = _with_password(pg_url)
    store = FeedbackStore(url=url)
    store.record("q", "a", [], "extractive", "👍")  # trust auth: the password is accepted and ignored
    for shown in (str(store.path), store.location, repr(store)):
        assert "secret123" not in shown and "postgres:***@127.0.0.1" in shown
    assert mask_url("postgres://u:p%40ss@h:5432/db?sslmode=require&password=zz") == (
        "postgres://u:***@h:5432/db?sslmode=require&password=***"
    )
    assert mask_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_unreachable_database_fails_fast_in_chinese_without_the_password(tmp_path):
    url = f"postgresql://app:secret123@127.0.0.1:{free_port()}/feedback"  # nothing listens there
    store = FeedbackStore(url=url)
    for call in (
        lambda: store.record("q", "a", [], "extractive", "👍"),
        lambda: store.update(1, rating="👍"),
        store.rows,
        lambda: store.export_csv(tmp_path / "out.csv"),
    ):
        t0 = time.monotonic()
        with pytest.raises(InputError) as info:
            call()
        assert time.monotonic() - t0 < 2.0
        message = str(info.value)
        assert "反馈数据库暂时无法连接" in message and "app:***@127.0.0.1" in message
        assert "secret123" not in message and "\n" not in message
    assert not (tmp_path / "out.csv").exists()


def test_silent_server_is_bounded_by_connect_timeout(monkeypatch):
    """A port that accepts TCP but never answers (a hung server, a black-holed proxy) must not hang a click."""
    monkeypatch.setattr("assistant.feedback.CONNECT_TIMEOUT_S", 2)  # libpq's minimum
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql://app:secret123@127.0.0.1:{silent.getsockname()[1]}/feedback"
        t0 = time.monotonic()
        with pytest.raises(InputError, match="反馈没有保存（反馈数据库暂时无法连接") as info:
            FeedbackStore(url=url).record("q", "a", [], "extractive", "👍")
        assert 1.5 < time.monotonic() - t0 < 6.0
    assert "secret123" not in str(info.value)


@pytest.mark.parametrize("url", ["mysql://u:secret123@h/db", "sqlite:///tmp/feedback.db", "/tmp/feedback.db",
                                 "postgresql+psycopg://u:secret123@h/db"])
def test_bad_scheme_is_a_clear_input_error(url, monkeypatch):
    with pytest.raises(InputError, match="只支持 postgresql://") as info:
        FeedbackStore(url=url)
    assert "secret123" not in str(info.value)
    monkeypatch.setenv(FEEDBACK_URL_ENV, url)
    with pytest.raises(InputError, match=FEEDBACK_URL_ENV):
        FeedbackStore()


@pytest.mark.parametrize("url", ["postgresql://u:secret123@[broken/db", "postgresql://u:secret123@h/db?nosuch=1"])
def test_malformed_url_is_a_clear_input_error(url):
    with pytest.raises(InputError, match="格式不对") as info:
        FeedbackStore(url=url)
    assert "secret123" not in str(info.value) and "u:***@" in str(info.value)


def test_missing_psycopg_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    with pytest.raises(InputError, match=r"pip install 'psycopg\[binary\]'"):
        FeedbackStore(url="postgresql://u@127.0.0.1/db")


def test_a_role_without_create_rights_uses_an_existing_table(pg_url):
    """A DBA may create the table and give the app role only SELECT/INSERT/UPDATE (PostgreSQL 15+ default)."""
    FeedbackStore(url=pg_url).record("管理员建表", "答", [], "extractive", "👍")
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("CREATE ROLE app LOGIN")
        con.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        con.execute("GRANT SELECT, INSERT, UPDATE ON feedback TO app")
    app = FeedbackStore(url=pg_url.replace("postgres@", "app@", 1))
    fid = app.record("应用写入", "答", [], "extractive", "👎")
    app.update(fid, comment="可以改")
    assert [r["comment"] for r in app.rows()] == ["", "可以改"]


def test_cli_export_reads_postgres_from_the_environment(pg_url, tmp_path):
    url = _with_password(pg_url)
    store = FeedbackStore(url=url)
    store.record("加装电梯，低层反对？", "先征询意见[1]", CITES, "llm", "👍", "引用准确", model="qwen")
    store.record("宅基地怎么管？", "……", [], "extractive", None, "只有意见")
    out = tmp_path / "X.csv"
    env = {**os.environ, FEEDBACK_URL_ENV: url, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run([str(ASSISTANT), "feedback", "export", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "已导出 2 条反馈" in proc.stdout and "postgres:***@127.0.0.1" in proc.stdout
    assert "secret123" not in proc.stdout + proc.stderr
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["question"] for r in rows] == ["加装电梯，低层反对？", "宅基地怎么管？"] and rows[0]["model"] == "qwen"
    assert not (tmp_path / "data").exists()

    env[FEEDBACK_URL_ENV] = f"postgresql://app:secret123@127.0.0.1:{free_port()}/feedback"
    proc = subprocess.run([str(ASSISTANT), "feedback", "export", "--out", str(tmp_path / "Y.csv")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "反馈数据库暂时无法连接" in proc.stderr
    assert "Traceback" not in proc.stderr and "secret123" not in proc.stdout + proc.stderr
    assert not (tmp_path / "Y.csv").exists()


def _gaps(store) -> None:
    store.record_gap("小区想办个老年食堂，场地和钱从哪来？", "none", ["食堂"], ["食堂"], ["食堂"], username="wangli")
    store.record_gap("社区想办老年食堂，怎么弄？", "partial", ["食堂"], ["老年食堂"], ["老年食堂"])
    store.record_gap("社区里的公共Wi-Fi总是断，找谁修？", "none", ["wi-fi"], ["wi-fi"], ["Wi-Fi"])


def test_content_gaps_in_postgres_group_and_export_like_sqlite(pg_url, tmp_path):
    pg = FeedbackStore(url=pg_url)
    assert pg.gaps() == [] and pg.gap_topics() == []  # reading creates nothing
    _gaps(pg)
    lite = FeedbackStore(tmp_path / "feedback.db")
    _gaps(lite)
    got = FeedbackStore(url=pg_url).gaps()
    assert [g["question"] for g in got] == [g["question"] for g in lite.gaps()]
    assert got[0]["username"] == "wangli" and got[1]["username"] is None and got[2]["uncovered"] == ["Wi-Fi"]
    topics = pg.gap_topics()
    assert [(t.topic, t.count, t.none, t.partial) for t in topics] == [("食堂", 2, 1, 1), ("Wi-Fi", 1, 1, 0)]
    assert [t.to_dict() for t in topics] == [t.to_dict() for t in lite.gap_topics()]
    pg.export_gaps_csv(tmp_path / "pg.csv")
    lite.export_gaps_csv(tmp_path / "lite.csv")
    assert (tmp_path / "pg.csv").read_bytes() == (tmp_path / "lite.csv").read_bytes()
    with psycopg.connect(pg_url, autocommit=True) as con:  # the feedback table is untouched by gaps
        assert con.execute("SELECT to_regclass('feedback') IS NULL").fetchone()[0]
