"""Feedback storage: SQLite in WAL mode outside the code, concurrent writers, CSV export."""

from __future__ import annotations

import csv
import json
import sqlite3
import threading

import pytest

from assistant.cli import main
from assistant.errors import InputError
from assistant.feedback import FeedbackStore, data_dir, default_db_path

CITES = [{"n": 1, "case_id": "sj2025-01", "quote": "共拆除地锁146把", "start": 10, "end": 19}]


def test_data_folder_is_outside_the_code(monkeypatch, tmp_path):
    from conftest import ROOT

    monkeypatch.delenv("ASSISTANT_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert default_db_path().parts[-3:] == ("share", "jiceng-assistant", "feedback.db")
    assert ROOT not in default_db_path().parents
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == tmp_path / "d" and FeedbackStore().path == tmp_path / "d" / "feedback.db"


def test_record_update_and_read_back(tmp_path):
    store = FeedbackStore(tmp_path / "fb" / "feedback.db")  # the folder is created on first write
    assert store.rows() == []
    fid = store.record("停车难怎么办？", "……[1]", CITES, "extractive", "👍", session="s1", username="wangli")
    store.update(fid, comment="很实用", rating="👎")
    (row,) = store.rows()
    assert row["question"] == "停车难怎么办？" and row["rating"] == "👎" and row["comment"] == "很实用"
    assert json.loads(row["citations"]) == CITES and row["mode"] == "extractive" and row["username"] == "wangli"
    assert row["created_at"].endswith("+00:00")
    with sqlite3.connect(store.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_bad_rating_and_long_comment_are_refused(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.db")
    with pytest.raises(InputError, match="👍 或 👎"):
        store.record("q", "a", [], "extractive", "meh")
    with pytest.raises(InputError, match="意见太长"):
        store.record("q", "a", [], "extractive", "👍", "字" * 3000)
    assert store.rows() == []


def test_concurrent_writers_lose_nothing(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.db")
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(10):
                # a new store object per write: like separate requests in separate threads
                FeedbackStore(store.path).record(f"问题{i}-{j}", "答", CITES, "extractive", "👍" if j % 2 else "👎")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    questions = [r["question"] for r in store.rows()]
    assert len(questions) == 160 and len(set(questions)) == 160


def test_export_csv_is_complete_and_atomic(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    store = FeedbackStore()
    store.record("加装电梯，低层反对？", "先征询意见[1]", CITES, "llm", "👍", "引用准确，带逗号,和\"引号\"", model="qwen")
    store.record("宅基地怎么管？", "……", [], "extractive", None, "只有意见")
    out = tmp_path / "feedback.csv"
    assert main(["feedback", "export", "--out", str(out)]) == 0
    assert "已导出 2 条反馈" in capsys.readouterr().out
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 Chinese correctly with a BOM
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["question"] for r in rows] == ["加装电梯，低层反对？", "宅基地怎么管？"]
    assert rows[0]["comment"] == "引用准确，带逗号,和\"引号\"" and rows[0]["model"] == "qwen" and rows[1]["rating"] == ""
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_export_to_a_missing_folder_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    assert main(["feedback", "export", "--out", str(tmp_path / "nope" / "f.csv")]) == 2
    err = capsys.readouterr().err
    assert "目录" in err and "不存在" in err and "Traceback" not in err


def test_content_gaps_are_recorded_grouped_counted_and_exported(tmp_path):
    from datetime import date

    from assistant.feedback import group_gaps, parse_day

    store = FeedbackStore(tmp_path / "feedback.db")
    assert store.gaps() == [] and store.gap_topics() == []
    store.record_gap("社区想办老年食堂，怎么弄？", "partial", ["食堂"], ["食堂"], ["食堂"])
    store.record_gap("小区想办个老年食堂，场地和钱从哪来？", "none", ["食堂"], ["老年食堂"], ["老年食堂"], username="wangli")
    store.record_gap("社区里的公共Wi-Fi总是断，找谁修？", "none", ["wi-fi"], ["wi-fi"], ["Wi-Fi"])
    rows = store.gaps()
    assert [r["coverage"] for r in rows] == ["partial", "none", "none"] and rows[1]["username"] == "wangli"
    assert rows[0]["username"] is None and rows[2]["concepts"] == ["wi-fi"]
    topics = store.gap_topics()
    # 老年食堂 holds 食堂: one topic, counted twice; shown in the askers' spelling (Wi-Fi)
    assert [(t.topic, t.count, t.none, t.partial) for t in topics] == [("食堂", 2, 1, 1), ("Wi-Fi", 1, 1, 0)]
    assert topics[0].questions == ["社区想办老年食堂，怎么弄？", "小区想办个老年食堂，场地和钱从哪来？"]
    assert store.gap_topics(date(2999, 1, 1)) == [] and len(store.gap_topics(date(2000, 1, 1))) == 2
    assert group_gaps([]) == []
    n = store.export_gaps_csv(tmp_path / "gaps.csv")
    lines = (tmp_path / "gaps.csv").read_text(encoding="utf-8-sig").splitlines()
    assert n == 2 and lines[0].startswith("话题,次数") and lines[1].startswith("食堂,2,1,1,")
    with pytest.raises(InputError):
        store.export_gaps_csv(tmp_path / "missing" / "gaps.csv")
    with pytest.raises(InputError, match="年-月-日"):
        parse_day("上周")
    with pytest.raises(ValueError):
        store.record_gap("q", "full", [], [], [])
