"""The command line, run as a user runs it (subprocesses, real model, shipped index)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import CORPUS_DIR, INDEX_DIR, ROOT


def run(*args, env=None, input=None):
    e = dict(os.environ, HF_HUB_OFFLINE="1")
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True, text=True, env=e, cwd=ROOT, input=input, timeout=300,
    )


def test_search_prints_rank_score_title_author_section_and_passage():
    r = run("search", "小区里的私装地锁怎么清理？", "--k", "3")
    assert r.returncode == 0, r.stderr
    assert "[1]" in r.stdout and "[3]" in r.stdout and "[4]" not in r.stdout
    assert "《" in r.stdout and "沈东" in r.stdout and "地锁" in r.stdout


def test_search_json():
    r = run("search", "宅基地平移归并", "--json", "--k", "2")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 2
    assert set(rows[0]) >= {"rank", "score", "case_id", "case_title", "author", "section", "text"}


def test_interactive_search_reads_questions_until_quit():
    r = run("search", "--k", "1", input="电梯更新\n\nq\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("[1]") == 1
    assert "问题是空的" in r.stderr


@pytest.mark.parametrize("question", ["", "   ", "\x01\x02", "问" * 30_000])
def test_bad_question_one_clear_line(question):
    r = run("search", question)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "问题" in r.stderr


def test_hundred_thousand_character_question_on_stdin():
    r = run("search", "-", input="问" * 100_000)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "问题" in r.stderr


def test_bad_k():
    r = run("search", "停车", "--k", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "参数错误" in r.stderr


def test_missing_index(tmp_path):
    r = run("search", "停车难", "--index-dir", str(tmp_path / "nothing"))
    assert r.returncode == 3
    assert "没有找到索引" in r.stderr and "assistant index build" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "nothing").exists()


def test_truncated_vector_file_is_reported_and_left_alone(tmp_path):
    index = tmp_path / "index"
    shutil.copytree(INDEX_DIR, index)
    version = index / (index / "CURRENT").read_text().strip()
    vec = version / "vectors.faiss"
    vec.write_bytes(vec.read_bytes()[:1000])
    before = {p: p.read_bytes() for p in index.rglob("*") if p.is_file()}
    r = run("search", "停车难", "--index-dir", str(index))
    assert r.returncode == 3 and "不完整" in r.stderr and "assistant index build" in r.stderr
    assert "Traceback" not in r.stderr
    assert before == {p: p.read_bytes() for p in index.rglob("*") if p.is_file()}


def test_index_status_on_shipped_index():
    r = run("index", "status")
    assert r.returncode == 0, r.stderr
    assert "案例 21 个" in r.stdout and "与语料和配置一致" in r.stdout


def test_index_status_reports_stale(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    with open(next(corpus.glob("*.txt")), "a", encoding="utf-8") as fh:
        fh.write("\n补充一句。\n")
    r = run("index", "status", "--corpus-dir", str(corpus))
    assert r.returncode == 1 and "已过期" in r.stdout and "assistant index build" in r.stdout


def test_index_build_with_progress_in_a_fresh_folder(tmp_path):
    """A real build with the default model on a one-case corpus."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = (CORPUS_DIR / "songjiang_yixian_daoshi_2025-10_jianggao.txt").read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("党建引领圆梦换梯"))
    end = next(i for i in range(start, len(text)) if "指导老师" in text[i])
    (corpus / "one.txt").write_text("\n".join(text[start : end + 1]), encoding="utf-8")
    r = run("index", "build", "--corpus-dir", str(corpus), "--index-dir", str(tmp_path / "index"))
    assert r.returncode == 0, r.stderr
    assert "1 个案例" in r.stdout and "向量化段落" in r.stderr
    r = run("search", "电梯更新", "--corpus-dir", str(corpus), "--index-dir", str(tmp_path / "index"), "--json")
    assert json.loads(r.stdout)[0]["author"] == "陈君英"


def test_eval_writes_results_and_prints_metrics(tmp_path):
    q = tmp_path / "q.jsonl"
    q.write_text(
        json.dumps({"id": "a", "question": "私装地锁怎么拆", "evidence": ["共拆除地锁146把"], "gold_author": "沈东"},
                   ensure_ascii=False) + "\n" + json.dumps({"id": "b", "question": "个人所得税怎么申报"}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    r = run("eval", str(q), "--k", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    for name in ("evidence@3", "evidence@600ch", "evidence@1200ch", "author@3", "author_mrr@10", "latency_p50_ms"):
        assert name in r.stdout
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r_["id"] for r_ in rows] == ["a", "b"]
    assert len(rows[0]["results"]) == 3 and rows[0]["latency_ms"] > 0
    assert set(rows[0]["results"][0]) >= {"rank", "case_id", "case_title", "author", "section", "text", "score"}


def test_eval_bad_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n", encoding="utf-8")
    r = run("eval", str(bad))
    assert r.returncode == 2 and "第 1 行" in r.stderr and "Traceback" not in r.stderr
    r = run("eval", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "不存在" in r.stderr
