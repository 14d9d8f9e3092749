"""Limits on what a document becomes, and stopping a long upload (issue 17, item 1).

The .docx bomb is built here: a small archive whose ``document.xml``
inflates to tens of megabytes of text.  It must be refused while it is read
(streamed, never inflated in memory first), and nothing may reach ``corpus/``
or ``index/``.  A large legitimate upload shows the time left and can be
stopped from the UI (its stop flag) and with Ctrl+C, leaving nothing behind.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.config import get_settings
from assistant.errors import Cancelled
from assistant.indexing import build_index
from assistant.ingest import add_documents, extract_text

from conftest import CORPUS_FILE, ROOT
from test_ingest import make_docx, snapshot


def ctrl_c_reaches_the_child() -> None:
    """A test run started in the background (``make test &``) ignores SIGINT, and a child inherits
    that: give the child the default handling, as when a user presses Ctrl+C in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WORDS = "居民 小区 停车 电梯 党员 志愿者 业委会 物业 垃圾分类 协商 议事会 楼组长 网格 积分 老人 青年 服务 治理 村民 河道".split()


def make_bomb(path: Path, xml_mb: int) -> Path:
    """A .docx of well under 1 MB whose document.xml inflates to ``xml_mb`` MB of ordinary text.

    Written as a stream, so the test itself never holds the inflated XML either.
    """
    para = ("<w:p><w:r><w:t>" + "我们小区停车位不够，外来车辆多，居民意见很大，怎么办？" * 40 + "</w:t></w:r></w:p>").encode()
    block = para * 200
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>'.encode())
            written = 0
            while written < xml_mb * 1024 * 1024:
                f.write(block)
                written += len(block)
            f.write(b"</w:body></w:document>")
    return path


def long_script(n_paragraphs: int, seed: int = 7) -> str:
    """A legitimate script of its own (front matter, sections, varied sentences): ~one passage a paragraph."""
    rng = random.Random(seed)
    lines = ["---", f"title: 社区治理长篇实录{seed}", "author: 李大为", "community: 新华村", "---"]
    for i in range(n_paragraphs):
        if i % 10 == 0:
            lines.append(f"{'一二三四五六七八九十'[i // 10 % 10]}、第{i // 10 + 1}部分的做法")
        sentence = "，".join("".join(rng.choice(WORDS) for _ in range(4)) for _ in range(8))
        lines.append(f"第{i + 1}段记录：{sentence}，我们在第{rng.randint(1, 999)}次会议上定了下来。")
    return "\n".join(lines) + "\n"


@pytest.fixture
def small(tmp_path):
    text = CORPUS_FILE.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("党建引领圆梦换梯"))
    end = next(i for i in range(start, len(text)) if "指导老师" in text[i])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "base.txt").write_text("\n".join(text[start : end + 1]), encoding="utf-8")
    return get_settings(corpus_dir=corpus, index_dir=tmp_path / "index")


# ---------------------------------------------------------------------------
# what a document becomes


def test_bomb_docx_is_refused_while_it_streams(small, fake_embedder, tmp_path):
    build_index(small, fake_embedder)
    embedded = fake_embedder.embedded
    bomb = make_bomb(tmp_path / "bomb.docx", xml_mb=60)  # ~20 million characters of text
    assert bomb.stat().st_size < 1024 * 1024
    with zipfile.ZipFile(bomb) as z:
        assert z.getinfo("word/document.xml").file_size > 60 * 1024 * 1024
    before = snapshot(small)
    tracemalloc.start()
    try:
        report = add_documents([bomb], small, embedder=fake_embedder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(report.errors) == 1 and "2,000,000 字的上限" in report.errors[0] and "已停止读取" in report.errors[0]
    assert "ASSISTANT_MAX_DOCUMENT_CHARS" in report.errors[0]
    assert not report.added and report.build is None and fake_embedder.embedded == embedded
    assert snapshot(small) == before
    # streamed: the 60 MB of XML (180 MB as Python text) were never held; the 2 million characters read were
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def test_docx_declaring_more_xml_than_the_limit_allows_is_not_read(tmp_path, monkeypatch):
    bomb = make_bomb(tmp_path / "huge.docx", xml_mb=140)
    read: list[int] = []
    original = zipfile.ZipExtFile.read

    def counting(self, n=-1):
        data = original(self, n)
        read.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)
    from assistant.ingest import TooLong

    with pytest.raises(TooLong, match="正文却要展开为 140 MB"):
        extract_text(bomb, 2_000_000)
    assert sum(read) == 0  # refused from the archive's directory, before inflating a byte


def test_the_character_limit_is_a_setting(tmp_path, monkeypatch):
    docx = make_docx(tmp_path / "ok.docx")
    assert "垃圾分类" in extract_text(docx)
    monkeypatch.setenv("ASSISTANT_MAX_DOCUMENT_CHARS", "100")
    settings = get_settings(corpus_dir=tmp_path / "c", index_dir=tmp_path / "i")
    assert settings.max_document_chars == 100
    (tmp_path / "c").mkdir()
    report = add_documents([docx], settings)
    assert len(report.errors) == 1 and "100 字的上限" in report.errors[0]
    assert not any((tmp_path / "c").iterdir()) and not (tmp_path / "i" / "CURRENT").exists()


def make_pages(path: Path, pages: int) -> Path:
    """A text PDF of ``pages`` pages, ~600 characters each."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    for n in range(pages):
        c.setFont("STSong-Light", 11)
        for row in range(15):
            c.drawString(40, 800 - 20 * row, f"第{n + 1}页第{row + 1}行：村里垃圾分类积分兑换超市开张了，村民按时分类投放就能得积分。")
        c.showPage()
    c.save()
    return path


def test_pdf_stops_at_the_page_that_passes_the_limit(tmp_path, monkeypatch):
    from pypdf import PageObject, PdfReader

    from assistant.ingest import TooLong

    pdf = make_pages(tmp_path / "long.pdf", 12)
    per_page = len(PdfReader(str(pdf)).pages[0].extract_text())
    assert 400 < per_page < 1000
    seen: list[int] = []
    original = PageObject.extract_text

    def counting(self, *a, **kw):
        seen.append(1)
        return original(self, *a, **kw)

    monkeypatch.setattr(PageObject, "extract_text", counting)
    limit = int(per_page * 2.5)
    with pytest.raises(TooLong, match=f"读到第 3 页时文字已超过 {limit:,} 字的上限"):
        extract_text(pdf, limit)
    assert len(seen) == 3  # of 12: reading stopped at the page that passed the limit
    seen.clear()
    assert "第12页" in extract_text(pdf, per_page * 13) and len(seen) == 12


def test_txt_over_the_character_limit(tmp_path):
    from assistant.ingest import TooLong

    path = tmp_path / "long.txt"
    path.write_text(long_script(50), encoding="utf-8")
    with pytest.raises(TooLong, match="500 字的上限"):
        extract_text(path, 500)


def test_passages_per_document_and_per_call(small, fake_embedder, tmp_path):
    build_index(small, fake_embedder)
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text(long_script(30, seed=1), encoding="utf-8")
    two.write_text(long_script(30, seed=2), encoding="utf-8")
    before = snapshot(small)
    report = add_documents([one], replace(small, max_document_passages=5), embedder=fake_embedder)
    assert len(report.errors) == 1 and "超过每个文档 5 段的上限" in report.errors[0]
    assert "ASSISTANT_MAX_DOCUMENT_PASSAGES" in report.errors[0] and snapshot(small) == before
    # per call: the first fits, the second would pass the total and is refused; the first is added
    from assistant.ingest import prepare

    n1, n2 = prepare(one).n_passages, prepare(two).n_passages
    assert n1 > 5 and n2 > 5
    report = add_documents([one, two], replace(small, max_upload_passages=n1 + n2 - 1), embedder=fake_embedder)
    assert [p.source.name for p in report.added] == ["one.txt"]
    assert len(report.errors) == 1 and report.errors[0].startswith("two.txt：本次添加的文档合计超过上限")
    report = add_documents([two], replace(small, max_upload_chars=1_000), embedder=fake_embedder)
    assert "1,000 字" in report.errors[0] and not report.added
    assert add_documents([two], small, embedder=fake_embedder).added  # another call, within the limits


def test_nothing_reaches_the_corpus_when_the_index_folder_cannot_be_written(small, fake_embedder, tmp_path, monkeypatch):
    from assistant.errors import StorageError

    build_index(small, fake_embedder)
    embedded = fake_embedder.embedded
    before = snapshot(small)
    real_mkstemp = __import__("tempfile").mkstemp

    def refuse_index(*a, dir=None, **kw):
        if dir is not None and Path(dir) == small.index_dir:
            raise PermissionError(13, "Permission denied", str(Path(dir) / ".write-check"))
        return real_mkstemp(*a, dir=dir, **kw)

    monkeypatch.setattr("tempfile.mkstemp", refuse_index)
    with pytest.raises(StorageError, match=f"没有权限写入 {small.index_dir}.*--index-dir"):
        add_documents([make_docx(tmp_path / "new.docx")], small, embedder=fake_embedder)
    assert snapshot(small) == before and fake_embedder.embedded == embedded


# ---------------------------------------------------------------------------
# a large legitimate upload: time left, cancel, Ctrl+C


class SteppedEmbedder:
    """The fake embedder, one batch of 8 at a time, calling ``on_batch`` after each (a user acting mid-way)."""

    id, dim = "fake:bigram-64", 64

    def __init__(self, on_batch=None):
        from conftest import FakeEmbedder

        self.inner = FakeEmbedder()
        self.on_batch = on_batch
        self.batches = 0

    def embed_documents(self, texts, *, progress=None):
        import numpy as np

        out = []
        for start in range(0, len(texts), 8):
            out.append(self.inner.embed_documents(texts[start : start + 8]))
            self.batches += 1
            if self.on_batch:
                self.on_batch(self.batches)
            if progress:
                progress(len(texts[start : start + 8]))
        return np.concatenate(out)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def test_ui_upload_shows_time_left_and_its_cancel_leaves_nothing(small, tmp_path):
    from assistant.feedback import FeedbackStore
    from assistant.ui import handlers as H

    build_index(small, SteppedEmbedder())
    big = tmp_path / "长篇讲稿.txt"
    big.write_text(long_script(120), encoding="utf-8")
    before = snapshot(small)
    backend: H.Backend = H.Backend(small, FeedbackStore(tmp_path / "f.db"), embedder=None)
    clicked: list[str] = []

    def click_cancel(batch: int) -> None:
        if batch == 3:  # the user clicks 取消上传 while the passages are being embedded
            clicked.append(H.cancel_upload(backend, "session-1"))

    backend.embedder = SteppedEmbedder(click_cancel)
    messages: list[str] = []
    r = H.upload(backend, [big], progress=lambda f, m: messages.append(m), session="session-1")
    assert "正在取消上传" in clicked[0]
    assert "已取消" in r.status_html and "没有改动" in r.status_html
    assert any("预计还需" in m and "取消上传" in m for m in messages), messages
    assert backend.embedder.batches == 3  # stopped at the next batch, not at the end
    assert snapshot(small) == before and not list(small.index_dir.glob(".tmp-*"))
    assert backend.uploads == {}  # the flag is gone with the upload
    assert "没有正在进行的上传" in H.cancel_upload(backend, "session-1")
    # the same upload, not cancelled, goes through
    backend.embedder = SteppedEmbedder()
    assert "已添加 长篇讲稿.txt" in H.upload(backend, [big], session="session-1").status_html


def test_build_stops_when_asked_and_changes_nothing(small, tmp_path):
    build_index(small, SteppedEmbedder())
    live = (small.index_dir / "CURRENT").read_text()
    big = tmp_path / "big.txt"
    big.write_text(long_script(60), encoding="utf-8")
    stop = threading.Event()
    embedder = SteppedEmbedder(lambda n: stop.set() if n == 2 else None)
    with pytest.raises(Cancelled):
        add_documents([big], small, embedder=embedder, stop=stop)
    assert (small.index_dir / "CURRENT").read_text() == live
    assert [p.name for p in small.corpus_dir.iterdir()] == ["base.txt"]


@pytest.mark.slow
def test_ctrl_c_during_a_large_add_leaves_nothing(small, tmp_path):
    """`assistant add` with the real model: the time left is shown; Ctrl+C stops it, nothing is left behind."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    dirs = ["--corpus-dir", str(small.corpus_dir), "--index-dir", str(small.index_dir)]
    assert subprocess.run([sys.executable, "-m", "assistant.cli", "index", "build", *dirs], env=env, cwd=ROOT,
                          capture_output=True, timeout=600).returncode == 0
    before = snapshot(small)
    big = tmp_path / "big.txt"
    big.write_text(long_script(400), encoding="utf-8")
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "add", str(big), *dirs],
                                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=err,
                                preexec_fn=ctrl_c_reaches_the_child)
        try:
            deadline = time.monotonic() + 300
            # wait until the bar has moved past the first batch (the time left is known then)
            while time.monotonic() < deadline and proc.poll() is None:
                if "段/s" in err_path.read_text("utf-8", "replace"):
                    break
                time.sleep(0.2)
            assert proc.poll() is None, err_path.read_text("utf-8", "replace")
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    stderr = err_path.read_text("utf-8", "replace")
    assert "需要向量化" in stderr and "按 Ctrl+C 可随时取消" in stderr and "<" in stderr  # tqdm's time left
    assert proc.returncode == 130 and "已取消（Ctrl+C）：语料和索引都没有改动" in stderr
    assert "Traceback" not in stderr
    assert snapshot(small) == before and not list(small.index_dir.glob(".tmp-*"))
