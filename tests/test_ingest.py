"""Adding users' documents (.docx/.pdf/.md/.txt), removing cases, and what bad input changes (nothing)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from assistant.config import get_settings
from assistant.corpus import load_corpus
from assistant.indexing import build_index
from assistant.stores import open_store
from assistant.stores.files import current_dir
from assistant.ingest import IngestError, add_documents, decode_text, prepare, remove_case
from assistant.retrieval import HybridSearcher, get_searcher

from conftest import CORPUS_FILE, ROOT

BODY = [
    "一、村里垃圾分类的难点",
    "过去村民习惯把垃圾倒在河边,保洁员每天清运也跟不上,河道里漂着塑料袋,村民意见很大。",
    "二、我们的做法",
    "我们推出了垃圾分类积分兑换超市,村民每天按时分类投放就能获得积分,积分可以换取肥皂、毛巾和大米。",
    "村党总支组织党员分片包干,每名党员联系十户村民,每周上门讲解一次分类知识,连续三个月后分类准确率达到百分之九十。",
    "三、体会",
    "群众的事情要让群众自己参与进来,积分制让村民从旁观者变成了参与者。",
]


def make_docx(path: Path, with_author_line: bool = True) -> Path:
    from docx import Document

    doc = Document()
    doc.add_paragraph("积分兑换撬动垃圾分类——新建村人居环境整治实践")
    if with_author_line:
        doc.add_paragraph("泖港镇新建村党总支书记王小明")
    for line in BODY:
        doc.add_paragraph(line)
    doc.add_paragraph("(指导老师:区委党校讲师李四)")
    doc.save(str(path))
    return path


def make_pdf(path: Path, lines: list[str]) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    c.setFont("STSong-Light", 11)
    y = 800
    for line in lines:
        for i in range(0, len(line), 40):  # wrap like a real PDF: sentences broken across lines
            c.drawString(40, y, line[i : i + 40])
            y -= 16
        y -= 8
    c.showPage()
    c.save()
    return path


@pytest.fixture
def small(tmp_path):
    """A corpus of one short bundled script, indexed with the fake embedder."""
    text = CORPUS_FILE.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("党建引领圆梦换梯"))
    end = next(i for i in range(start, len(text)) if "指导老师" in text[i])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "base.txt").write_text("\n".join(text[start : end + 1]), encoding="utf-8")
    return get_settings(corpus_dir=corpus, index_dir=tmp_path / "index")


def snapshot(settings) -> dict:
    return {
        p.relative_to(settings.corpus_dir.parent): p.read_bytes()
        for d in (settings.corpus_dir, settings.index_dir)
        if d.exists()
        for p in d.rglob("*")
        if p.is_file()
    }


def test_add_docx_with_author_line(small, fake_embedder, tmp_path):
    build_index(small, fake_embedder)
    report = add_documents([make_docx(tmp_path / "newvillage.docx")], small, embedder=fake_embedder)
    assert not report.errors and len(report.added) == 1
    (case,) = report.added[0].cases
    assert (case.title, case.author, case.role, case.town, case.community, case.community_type) == (
        "积分兑换撬动垃圾分类——新建村人居环境整治实践", "王小明", "党总支书记", "泖港镇", "新建村", "村",
    )
    assert case.instructor == "区委党校讲师李四"
    assert [s.title for s in case.sections if s.level == 1] == ["一、村里垃圾分类的难点", "二、我们的做法", "三、体会"]
    # only the new passages were embedded
    assert report.build.embedded == len([p for p in open_store(small).load(fake_embedder.id).passages if p.case_id == case.id])
    idx = open_store(small).load(fake_embedder.id)
    assert idx.stale_reasons == [] and case.id in idx.cases
    hits = HybridSearcher(idx, fake_embedder).search("垃圾分类积分兑换", k=3)
    assert hits[0].case.id == case.id
    # the saved copy is UTF-8 text with its metadata and parses to the same case
    again = [c for c in load_corpus(small.corpus_dir) if c.id == case.id]
    assert again and again[0].text == case.text and again[0].author == "王小明"


def test_add_pdf_needs_and_takes_metadata_from_the_command_line(small, fake_embedder, tmp_path):
    build_index(small, fake_embedder)
    pdf = make_pdf(tmp_path / "script.pdf", ["积分兑换撬动垃圾分类"] + BODY)
    before = snapshot(small)
    report = add_documents([pdf], small, embedder=fake_embedder)
    assert report.errors and "--author" in report.errors[0] and not report.added
    assert snapshot(small) == before
    report = add_documents(
        [pdf], small, overrides={"author": "王小明", "community": "新建村", "town": "泖港镇"}, embedder=fake_embedder
    )
    assert not report.errors
    (case,) = report.added[0].cases
    assert (case.title, case.author, case.community_type) == ("积分兑换撬动垃圾分类", "王小明", "村")
    # the line wrapping of the PDF is repaired: a sentence is whole again
    assert "村民每天按时分类投放就能获得积分,积分可以换取肥皂、毛巾和大米。" in case.text


def test_add_markdown_with_front_matter_and_gbk_text(small, fake_embedder, tmp_path):
    build_index(small, fake_embedder)
    md = tmp_path / "note.md"
    md.write_text(
        "---\ntitle: 楼道堆物整治的三步法\nauthor: 李梅\nrole: 党支部书记\ncommunity: 秀南居民区\n---\n"
        "# 一、问题\n\n楼道里堆满了纸箱和旧家具,消防通道被堵,居民多次投诉却屡清屡堆,整治工作一直反复。\n\n"
        "## 二、做法\n\n**第一步**先由楼组长上门沟通,第二步组织志愿者集中清理,第三步在楼道放置绿植形成长效管理机制。\n",
        encoding="utf-8",
    )
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(
        ("共享单车乱停放的治理\n岳阳街道白云居民区党支部书记赵六\n"
         "小区门口共享单车堆积如山,老人出行不便。我们联合运营企业划定停放区,志愿者每天早晚整理,乱停现象明显减少。\n").encode("gbk")
    )
    report = add_documents([md, gbk], small, embedder=fake_embedder)
    assert not report.errors, report.errors
    cases = {c.author: c for p in report.added for c in p.cases}
    assert cases["李梅"].community == "秀南" and cases["李梅"].community_type == "居民区"
    assert cases["李梅"].text.startswith("一、问题")
    assert "**" not in cases["李梅"].text
    assert cases["赵六"].title == "共享单车乱停放的治理" and "停放区" in cases["赵六"].text


def test_decode_text_detects_gb18030_and_rejects_binary():
    assert decode_text("停车难".encode("gb18030"), "x.txt") == "停车难"
    assert decode_text("\ufeff停车难".encode("utf-8"), "x.txt") == "停车难"
    with pytest.raises(IngestError, match="编码"):
        decode_text("停车难".encode("utf-16"), "x.txt")


def _zip_named_docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a word document")
    return path


def _scanned_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    c.rect(50, 50, 300, 300, fill=1)  # an image-like page with no text layer
    c.showPage()
    c.save()
    return path


def _big(path: Path) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    return path


def _duplicate(path: Path) -> Path:
    # a bundled script pasted into a Word document: already indexed
    from docx import Document

    text = CORPUS_FILE.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("党建引领圆梦换梯"))
    doc = Document()
    for line in text[start : start + 40]:
        if line.strip():
            doc.add_paragraph(line)
    doc.save(str(path))
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: (d / "empty.txt").write_text("") and None or d / "empty.txt", "空"),
        (lambda d: _scanned_pdf(d / "scan.pdf"), "文字层"),
        (lambda d: _zip_named_docx(d / "fake.docx"), "不是有效的 Word"),
        (lambda d: (d / "junk.docx").write_bytes(b"plain bytes") and d / "junk.docx", "不是有效的 Word"),
        (lambda d: _big(d / "huge.txt"), "太大"),
        (lambda d: (d / "slides.pptx").write_bytes(b"x") and d / "slides.pptx", "不支持"),
        (lambda d: _duplicate(d / "copy.docx"), "重复"),
        (lambda d: d / "missing.docx", "不存在"),
    ],
    ids=["empty", "scanned-pdf", "zip-not-docx", "bytes-not-docx", "50MB", "unsupported", "duplicate", "missing"],
)
def test_bad_documents_get_one_message_and_change_nothing(small, fake_embedder, tmp_path, make, message):
    build_index(small, fake_embedder)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    path = make(incoming)
    before = snapshot(small)
    report = add_documents([path], small, embedder=fake_embedder)
    assert len(report.errors) == 1 and message in report.errors[0], report.errors
    assert not report.added and report.build is None
    assert snapshot(small) == before


def test_remove_a_case_from_every_index(small, fake_embedder, tmp_path):
    build_index(small, fake_embedder)
    report = add_documents([make_docx(tmp_path / "v.docx")], small, embedder=fake_embedder)
    new_id = report.added[0].cases[0].id
    base_id = next(c.id for c in load_corpus(small.corpus_dir) if c.id != new_id)
    with pytest.raises(IngestError, match="可用的编号"):
        remove_case("nope-01", small, embedder=fake_embedder)
    case, build = remove_case(new_id, small, embedder=fake_embedder)
    assert case.id == new_id and build.embedded == 0
    idx = open_store(small).load(fake_embedder.id)
    assert new_id not in idx.cases and all(p.case_id != new_id for p in idx.passages)
    assert not list(small.corpus_dir.glob("v-*.txt"))  # the added file itself is gone
    with pytest.raises(IngestError, match="最后一个"):
        remove_case(base_id, small, embedder=fake_embedder)
    pdf = make_pdf(tmp_path / "other.pdf", ["积分兑换撬动垃圾分类"] + BODY)
    add_documents([pdf], small, overrides={"author": "王小明"}, embedder=fake_embedder)
    # a case of a compilation is taken out through the removal list; the source stays untouched
    remove_case(base_id, small, embedder=fake_embedder)
    assert json.loads((small.corpus_dir / "removed.json").read_text()) == [base_id]
    assert (small.corpus_dir / "base.txt").exists()


def test_cli_add_and_remove(small, tmp_path):
    """The command line with the real default model on a small corpus."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    dirs = ["--corpus-dir", str(small.corpus_dir), "--index-dir", str(small.index_dir)]

    def run(*args):
        return subprocess.run([sys.executable, "-m", "assistant.cli", *args, *dirs],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)

    assert run("index", "build").returncode == 0
    docx = make_docx(tmp_path / "cli.docx")
    r = run("add", str(docx))
    assert r.returncode == 0, r.stderr
    assert "已添加 cli.docx" in r.stdout and "王小明" in r.stdout and "复用" in r.stdout
    r = run("search", "垃圾分类积分兑换超市", "--json", "--k", "1")
    hit = json.loads(r.stdout)[0]
    assert hit["author"] == "王小明"
    r = run("add", str(tmp_path / "nothing.pdf"))
    assert r.returncode == 2 and "不存在" in r.stderr and "Traceback" not in r.stderr
    r = run("remove", hit["case_id"])
    assert r.returncode == 0 and "已移除" in r.stdout
    r = run("search", "垃圾分类积分兑换超市", "--json", "--k", "3")
    assert all(h["author"] != "王小明" for h in json.loads(r.stdout))


def test_running_reader_picks_up_the_new_index_without_restart(small, tmp_path):
    build_index(small)
    searcher = get_searcher(small)
    assert all(c.author != "王小明" for c in searcher.index.cases.values())
    add_documents([make_docx(tmp_path / "live.docx")], small)
    fresh = get_searcher(small)
    assert fresh is not searcher
    assert fresh.search("垃圾分类积分兑换超市", k=1)[0].case.author == "王小明"


KILLER = r"""
import sys, time, pathlib
sys.path.insert(0, sys.argv[1])
from conftest import FakeEmbedder
from assistant.config import get_settings
from assistant.ingest import add_documents

class Slow(FakeEmbedder):
    def embed_documents(self, texts, *, progress=None):
        pathlib.Path(sys.argv[4]).write_text("embedding")
        time.sleep(60)  # killed here, halfway through the update
        return super().embed_documents(texts, progress=progress)

s = get_settings(corpus_dir=sys.argv[2], index_dir=sys.argv[3])
add_documents([sys.argv[5]], s, embedder=Slow())
"""


def test_update_killed_halfway_leaves_corpus_and_index_as_they_were_and_rerun_finishes(small, fake_embedder, tmp_path):
    build_index(small, fake_embedder)
    live = (small.index_dir / "CURRENT").read_text()
    corpus_before = {p.name: p.read_bytes() for p in small.corpus_dir.iterdir()}
    docx = make_docx(tmp_path / "killed.docx")
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(ROOT / "tests"), str(small.corpus_dir), str(small.index_dir),
         str(marker), str(docx)],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert marker.exists(), "the update never reached the embedding step"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # the previous index is intact and loadable
    assert (small.index_dir / "CURRENT").read_text() == live
    idx = open_store(small).load(fake_embedder.id)
    assert all(c.author != "王小明" for c in idx.cases.values())
    # nothing reached corpus/: the document is written only with the index version built from it
    assert {p.name: p.read_bytes() for p in small.corpus_dir.iterdir()} == corpus_before
    assert idx.stale_reasons == []
    # re-running the same command does the job
    report = add_documents([docx], small, embedder=fake_embedder)
    assert report.added and not report.already and report.build is not None
    idx = open_store(small).load(fake_embedder.id)
    assert idx.stale_reasons == [] and any(c.author == "王小明" for c in idx.cases.values())
    assert current_dir(small.index_dir).name != live.strip()


def test_prepare_splits_a_compilation_into_cases(tmp_path):
    text = CORPUS_FILE.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("党建引领圆梦换梯"))
    end = next(i for i, line in enumerate(text) if line.startswith("党建引领下的乡村治理创新"))
    path = tmp_path / "part.txt"
    path.write_text("\n".join(text[start:end]), encoding="utf-8")
    prepared = prepare(path)
    assert [c.author for c in prepared.cases] == ["陈君英", "赵晨", "沈春欢", "姜丽娜", "周静", "陈越", "陈晓燕", "金春", "沈春峰"]
    with pytest.raises(IngestError, match="包含 9 篇"):
        prepare(path, {"author": "某某"})
