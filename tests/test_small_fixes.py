"""The small ones of issue 17: the timeout notice, a cut LLM stream in the CLI, the progress bar's rate.

(``serve`` printing 已启动 before a port-in-use failure is in test_ui_guard.py.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from assistant.config import get_settings
from assistant.indexing import build_index
from assistant.llm import LLMError, complete

from conftest import CORPUS_DIR, INDEX_DIR, ROOT
from fake_openai import Cut, FakeOpenAI, Reply, Slow

QUESTION = "老小区里不少人自己装了地锁占着公共车位，怎样才能把这些地锁清掉？"


@pytest.fixture
def server():
    with FakeOpenAI() as s:
        yield s


def test_the_timeout_notice_gives_whole_seconds(server):
    server.script(Slow(30))
    settings = get_settings(llm_base_url=server.base_url, llm_model="fake", llm_timeout=2.37)
    with pytest.raises(LLMError) as info:
        complete([("user", "hi")], settings)
    message = str(info.value)
    assert info.value.kind == "timeout" and "在 2 秒内没有答完" in message
    assert not re.search(r"\d\.\d", message)


def ask_cli(server, *args):
    env = dict(os.environ, HF_HUB_OFFLINE="1", ASSISTANT_LLM_BASE_URL=server.base_url, ASSISTANT_LLM_MODEL="fake",
               ASSISTANT_LLM_TIMEOUT="20")
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", QUESTION, "--corpus-dir", str(CORPUS_DIR),
         "--index-dir", str(INDEX_DIR), *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )


@pytest.mark.slow
def test_a_cut_stream_is_not_presented_as_the_checked_llm_answer(server):
    streamed = "蓝天二村联合城管拆除了地锁一百四十六把，居民都说好。小区还重新划了车位。"
    server.script(Cut(streamed * 2))
    r = ask_cli(server)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "核对引用后的回答" not in out
    assert "大模型的回答没有完成，以上内容作废；以下为讲稿原文摘录" in out
    assert out.index("蓝天二村联合城管") < out.index("以下为讲稿原文摘录")  # the cut text, then the fallback
    assert "※ 大模型暂不可用" in out and "中途中断" in out
    # an answer the check changed still gets its header (the LLM's answer, checked)
    server.script(Reply("蓝天二村拆除了地锁[1]。这句话没有出处[9]。"))
    r = ask_cli(server)
    assert r.returncode == 0 and "核对引用后的回答" in r.stdout and "讲稿原文摘录" not in r.stdout


def test_the_build_announces_the_work_before_the_first_batch(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text((CORPUS_DIR / "songjiang_yixian_daoshi_2025-10_jianggao.txt").read_text("utf-8"),
                                  encoding="utf-8")
    calls: list[tuple[int, int, int]] = []
    build_index(get_settings(corpus_dir=corpus, index_dir=tmp_path / "index"), fake_embedder,
                progress=lambda done, total: calls.append((done, total, fake_embedder.calls)))
    assert calls[0] == (0, calls[0][1], 0)  # (0, total) before the embedder was called at all
    assert calls[-1][0] == calls[-1][1] == calls[0][1]


@pytest.mark.slow
def test_the_progress_bar_rate_is_passages_per_second_of_embedding(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = (CORPUS_DIR / "songjiang_yixian_daoshi_2025-10_jianggao.txt").read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("党建引领圆梦换梯"))
    end = next(i for i in range(start, len(text)) if "指导老师" in text[i])
    (corpus / "one.txt").write_text("\n".join(text[start : end + 1]), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "index", "build", "--corpus-dir", str(corpus),
         "--index-dir", str(tmp_path / "index")],
        capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), cwd=ROOT, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    from assistant.chunking import chunk_cases
    from assistant.corpus import load_corpus

    assert f"需要向量化 {len(chunk_cases(load_corpus(corpus)))} 个新段落" in r.stderr
    rates = [float(x) for x in re.findall(r"([\d.]+)段/s", r.stderr)]
    # the real model on a CPU embeds tens of passages a second; the old bar showed 407779段/s
    assert rates and max(rates) < 1000, r.stderr
