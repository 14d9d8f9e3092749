"""Add users' documents to the corpus and update the index; remove cases.

``assistant add PATH…`` takes .txt, .md, .docx and text-based .pdf files (or
folders of them).  Each document is read into UTF-8 text (GBK/GB18030 text
is detected and decoded), split into scripts the way the bundled compilation
is (by author lines), or kept as one script with metadata from a front-matter
block or from the command line, and saved into ``corpus/`` as a ``.txt``.
Then the index is rebuilt incrementally: only new or changed passages are
embedded, and the new version is published atomically (``assistant.indexing``).
With an LLM configured, the new scripts' measure passages first get
question–passage links written by it (:func:`assistant.linker.write_links`);
without one, or when it fails, the scripts are added without links.

A bad document (empty, scanned PDF without a text layer, a .docx that is not
one, too large, undecodable, a duplicate of an indexed case) gets one clear
message and changes nothing.

Limits apply to what a document *becomes*, not only to its size on disk
(``ASSISTANT_MAX_DOCUMENT_CHARS``, ``ASSISTANT_MAX_DOCUMENT_PASSAGES``, and ``ASSISTANT_MAX_UPLOAD_CHARS``/``ASSISTANT_MAX_UPLOAD_PASSAGES``
for one call): a .docx is read as a stream of its XML and a .pdf page by
page, and reading stops as soon as the text passes the limit, so a small
file that inflates to tens of megabytes of text is refused in a moment
without ever being held in memory.  Nothing is written to ``corpus/``
before the new index version is complete (:class:`assistant.corpus.CorpusEdit`):
stopping the job (Ctrl+C, the UI's 取消) or killing it leaves corpus and
index as they were.

Example::

    >>> from assistant.config import get_settings
    >>> from assistant.ingest import add_documents
    >>> report = add_documents(["新讲稿.docx"], get_settings(), overrides={"author": "张三"})  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from xml.parsers import expat

from assistant import corpus as corpus_mod
from assistant.chunking import chunk_cases
from assistant.config import Settings, get_settings
from assistant.corpus import CORPUS_DIR_FIX, Case, CorpusEdit, CorpusError, FRONT_MATTER_KEYS
from assistant.errors import AssistantError, Cancelled, InputError, storage_error
from assistant.fsutil import check_writable

if TYPE_CHECKING:
    from assistant.indexing import BuildReport
    from assistant.linker import WrittenLinks

SUPPORTED = (".txt", ".md", ".docx", ".pdf")
MAX_BYTES = 20 * 1024 * 1024  # the whole 21-script compilation is 0.35 MB of text
DUPLICATE_SHARE = 0.8  # a case whose sentences are this much inside an existing case is a duplicate
# A .docx whose document.xml declares more than this many bytes per allowed character is refused
# before it is read (Word's markup around heavily formatted text stays well under it); zipfile
# never inflates more than the declared size, so this also bounds what a lying archive costs.
XML_BYTES_PER_CHAR = 64
READ_CHUNK = 64 * 1024  # bytes of XML inflated and parsed at a time


@dataclass(frozen=True)
class Limits:
    """What one document, and one call (``assistant add``, one UI upload), may become."""

    document_chars: int
    document_passages: int
    upload_chars: int
    upload_passages: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(
            settings.max_document_chars, settings.max_document_passages,
            settings.max_upload_chars, settings.max_upload_passages,
        )


class IngestError(InputError):
    """A document cannot be added; the message names the file and the fix."""


class MetadataError(IngestError):
    """The fields a single script may be given (title, author …) are missing or cannot apply.

    The message speaks to the command line (``--author …``); ``file``,
    ``missing`` (the field names a script without an author line lacks) and
    ``scripts`` (a compilation's number of scripts, which fields cannot
    describe at once) let another surface say the same in its own terms.
    """

    def __init__(self, message: str, *, file: str, missing: tuple[str, ...] = (), scripts: int = 0) -> None:
        super().__init__(message)
        self.file, self.missing, self.scripts = file, missing, scripts


@dataclass
class Prepared:
    """A document read, split and ready to be saved into the corpus."""

    source: Path
    stored_name: str
    stored_text: str
    cases: list[Case]
    n_passages: int = 0


@dataclass
class AddReport:
    added: list[Prepared] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # documents already in the corpus
    errors: list[str] = field(default_factory=list)
    metadata: list[MetadataError] = field(default_factory=list)  # those of ``errors`` that fields would fix
    build: BuildReport | None = None  # index.BuildReport when the index was updated
    links: WrittenLinks | None = None  # links an LLM wrote for the added scripts (None: no LLM)


# ---------------------------------------------------------------------------
# reading


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK/GB2312)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise IngestError(f"{name}：无法识别文字编码（支持 UTF-8 与 GBK/GB18030），请另存为 UTF-8 文本后再添加。")


def _looks_like_text(text: str) -> bool:
    if not text:
        return True
    bad = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Co", "Cs") and ch not in "\n\r\t\f")
    return bad / len(text) < 0.01


class TooLong(IngestError):
    """A document expands to more text than the limit allows."""


def _too_long(path: Path, limit: int, how: str = "展开后的文字超过") -> TooLong:
    size = path.stat().st_size
    shown = f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"
    return TooLong(
        f"{path.name}：文件只有 {shown}，{how} {limit:,} 字的上限（ASSISTANT_MAX_DOCUMENT_CHARS），"
        "已停止读取，未添加。请把它拆成几个文件分别添加，或请管理员调高这个上限。"
    )


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


class _DocxText:
    """expat handlers turning WordprocessingML into text, counting as they go.

    Paragraphs are separated by a blank line as python-docx's ``paragraph.text``
    would give them (w:t text, w:tab as a tab, w:br/w:cr as a line break);
    a table row is its cells' text joined by spaces, in document order.
    Past ``limit`` characters the next piece of text raises ``_Stop``.
    """

    class _Stop(Exception):
        pass

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.out: list[str] = []  # finished body-level paragraphs and table rows
        self.paragraphs: list[list[str]] = []  # open paragraphs (a text box nests one in another)
        self.rows: list[list[str]] = []  # open table rows: their cells' text
        self.cells: list[list[str]] = []  # open cells: their paragraphs
        self.in_text = False

    def _add(self, piece: str) -> None:
        self.count += len(piece)
        if self.count > self.limit:
            raise self._Stop
        self.paragraphs[-1].append(piece)

    def _emit(self, line: str) -> None:
        if self.cells:
            self.cells[-1].append(line)
        else:
            self.count += 2  # the blank line between paragraphs counts too
            if self.count > self.limit:
                raise self._Stop
            self.out.append(line)

    def start(self, name: str, attrs: dict) -> None:
        ns, _, local = name.rpartition(" ")
        if ns != _W:
            return
        if local == "p":
            self.paragraphs.append([])
        elif local == "t":
            self.in_text = True
        elif local in ("tab", "ptab") and self.paragraphs:
            self._add("\t")
        elif local in ("br", "cr") and self.paragraphs:
            self._add("\n")
        elif local == "tr":
            self.rows.append([])
        elif local == "tc":
            self.cells.append([])

    def end(self, name: str) -> None:
        ns, _, local = name.rpartition(" ")
        if ns != _W:
            return
        if local == "p" and self.paragraphs:
            self._emit("".join(self.paragraphs.pop()))
        elif local == "t":
            self.in_text = False
        elif local == "tc" and self.cells:
            cell = "\n".join(self.cells.pop())
            if self.rows:
                self.rows[-1].append(cell)
        elif local == "tr" and self.rows:
            self._emit(" ".join(self.rows.pop()))

    def text(self, data: str) -> None:
        if self.in_text and self.paragraphs:
            self._add(data)

    @staticmethod
    def no_doctype(*_args) -> None:
        raise ValueError("a .docx has no DOCTYPE")  # refuses entity tricks before any expansion


def read_docx(path: Path, max_chars: int) -> str:
    """The text of a .docx, read as a stream: never more than ``max_chars`` characters, never the
    whole inflated XML in memory (TooLong as soon as the text passes the limit)."""
    invalid = f"{path.name}：不是有效的 Word（.docx）文档。"
    if not zipfile.is_zipfile(path):
        raise IngestError(invalid)
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo("word/document.xml")
            except KeyError:
                raise IngestError(f"{path.name}：不是有效的 Word（.docx）文档（缺少 word/document.xml）。") from None
            if info.file_size > XML_BYTES_PER_CHAR * max_chars:
                raise _too_long(path, max_chars, f"正文却要展开为 {info.file_size / 1024 / 1024:.0f} MB，远超")
            handler = _DocxText(max_chars)
            parser = expat.ParserCreate(namespace_separator=" ")
            parser.StartElementHandler = handler.start
            parser.EndElementHandler = handler.end
            parser.CharacterDataHandler = handler.text
            parser.StartDoctypeDeclHandler = handler.no_doctype
            with archive.open(info) as stream:
                try:
                    while chunk := stream.read(READ_CHUNK):
                        parser.Parse(chunk, False)
                    parser.Parse(b"", True)
                except _DocxText._Stop:
                    raise _too_long(path, max_chars) from None
    except IngestError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, expat.ExpatError, ValueError, RuntimeError, NotImplementedError) as exc:
        # a damaged or encrypted archive, XML that is not XML
        raise IngestError(f"{path.name}：不是有效的 Word（.docx）文档（{type(exc).__name__}）。") from None
    return "\n\n".join(handler.out)


def read_pdf(path: Path, max_chars: int) -> str:
    """The text of a text-based PDF, page by page; TooLong as soon as it passes ``max_chars``.

    (pypdf bounds what one page's streams may inflate to: 75 MB each.)
    """
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pragma: no cover - pypdf is a dependency
        raise IngestError("读取 .pdf 需要 pypdf：pip install pypdf") from None
    pages: list[str] = []
    count = 0
    try:
        reader = PdfReader(str(path))
        for n, page in enumerate(reader.pages, 1):
            text = page.extract_text() or ""
            count += len(text) + 2
            if count > max_chars:
                raise _too_long(path, max_chars, f"读到第 {n} 页时文字已超过")
            pages.append(text)
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise IngestError(f"{path.name}：PDF 文件已损坏或无法读取（{type(exc).__name__}）。") from None
    text = "\n\n".join(pages)
    if len(re.sub(r"\s", "", text)) < 20:
        raise IngestError(f"{path.name}：PDF 没有文字层（可能是扫描件），请先做文字识别（OCR）或提供 Word/文本版本。")
    return text


def _markdown_to_text(text: str) -> str:
    out = []
    for line in text.splitlines():
        line = re.sub(r"^\s{0,3}#{1,6}\s*", "", line)  # "## 一、背景" -> "一、背景"
        line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
        out.append(line)
    return "\n".join(out)


def extract_text(path: Path, max_chars: int = 2_000_000) -> str:
    """The document's text, or IngestError with a message for the user (TooLong past ``max_chars``)."""
    if not path.is_file():
        raise IngestError(f"{path}：文件不存在。")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise IngestError(f"{path.name}：不支持的文件类型（支持 {'、'.join(SUPPORTED)}）。")
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{path.name}：文件是空的。")
    if size > MAX_BYTES:
        raise IngestError(f"{path.name}：文件太大（{size / 1024 / 1024:.0f} MB，上限 {MAX_BYTES // 1024 // 1024} MB）。")
    try:
        if suffix == ".docx":
            text = read_docx(path, max_chars)
        elif suffix == ".pdf":
            text = read_pdf(path, max_chars)
        else:
            text = decode_text(path.read_bytes(), path.name)  # at most MAX_BYTES
            if len(text) > max_chars:
                raise _too_long(path, max_chars)
            if suffix == ".md":
                meta, body = corpus_mod.split_front_matter(text)
                text = (_front_matter(meta) if meta else "") + _markdown_to_text(body)
    except PermissionError as exc:
        raise storage_error(exc, path, writing=False) from None
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not re.sub(r"\s", "", text):
        raise IngestError(f"{path.name}：没有可读取的文字。")
    return text


# ---------------------------------------------------------------------------
# splitting


def _front_matter(meta: dict[str, str]) -> str:
    lines = ["---"] + [f"{k}: {meta[k]}" for k in FRONT_MATTER_KEYS if meta.get(k)] + ["---", ""]
    return "\n".join(lines)


def _single_script_meta(text: str, overrides: dict[str, str]) -> tuple[dict[str, str], str]:
    """Metadata of a document that has no author line the parser recognises."""
    meta, body = corpus_mod.split_front_matter(text)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if not meta.get("title") and lines and len(lines[0]) <= 60:
        meta["title"] = lines[0]
        body = body.split(lines[0], 1)[1]
    if not meta.get("author"):
        m = re.search(r"^(?:作者|讲述人|主讲人|撰稿人)\s*[:：]\s*(\S{2,4})\s*$", body, re.M)
        if m:
            meta["author"] = m.group(1)
            body = body[: m.start()] + body[m.end() :]
    meta.update({k: v for k, v in overrides.items() if v})
    return meta, body


ADDED_NAME = re.compile(r"^(?:[0-9a-z-]+-|doc-)[0-9a-f]{8}\.txt$")  # files written by prepare()


def prepare(path: Path, overrides: dict[str, str] | None = None, limits: Limits | None = None) -> Prepared:
    """Read and split one document without touching the corpus (``limits``: what it may become)."""
    overrides = {k: v for k, v in (overrides or {}).items() if v}
    limits = limits or Limits.from_settings(get_settings())
    text = extract_text(path, limits.document_chars)
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    slug = re.sub(r"[^0-9a-zA-Z]+", "-", path.stem).strip("-").lower()[:24]
    stored_name = f"{slug + '-' if slug else 'doc-'}{digest[:8]}.txt"
    prefix = corpus_mod.id_prefix(Path(stored_name))
    meta, _ = corpus_mod.split_front_matter(text)
    found: list[Case] = []
    if not meta:
        try:
            found = corpus_mod.parse_compilation(text, stored_name, prefix)
        except CorpusError:
            found = []  # no author line: a single script, metadata from elsewhere
    if len(found) > 1:
        if overrides:
            raise MetadataError(
                f"{path.name} 包含 {len(found)} 篇讲稿，不能用 --title/--author 等统一指定信息。",
                file=path.name, scripts=len(found),
            )
        stored = text
    elif len(found) == 1:
        c = found[0]
        meta = {
            "title": c.title, "author": c.author, "role": c.role or "", "town": c.town or "",
            "community": c.community, "community_type": c.community_type, "instructor": c.instructor or "",
        }
        meta.update(overrides)
        stored = _front_matter(meta) + c.text
    else:
        meta, body = _single_script_meta(text, overrides)
        missing = [k for k in ("title", "author") if not meta.get(k)]
        if missing:
            flags = " ".join(f"--{k} …" for k in missing)
            names = "、".join({"title": "标题", "author": "作者"}[k] for k in missing)
            raise MetadataError(
                f"{path.name}：没有找到{names}。请在命令中加上 {flags}，"
                "或在文首写上 ---/title: …/author: …/--- 信息块。",
                file=path.name, missing=tuple(missing),
            )
        stored = _front_matter(meta) + body.lstrip("\n")
    try:
        cases = corpus_mod.parse_document(stored, stored_name, prefix)
    except CorpusError as exc:
        raise IngestError(f"{path.name}：{exc}") from None
    for case in cases:
        if len(re.sub(r"\s", "", case.text)) < 50:
            raise IngestError(f"{path.name}：案例《{case.title}》的正文太短（不足 50 字），请检查文档。")
    n_passages = len(chunk_cases(cases))
    if n_passages > limits.document_passages:
        raise IngestError(
            f"{path.name}：会切分成 {n_passages:,} 个段落，超过每个文档 {limits.document_passages:,} 段的上限"
            "（ASSISTANT_MAX_DOCUMENT_PASSAGES），未添加。请把它拆成几个文件分别添加，或请管理员调高这个上限。"
        )
    return Prepared(path, stored_name, stored, cases, n_passages)


# ---------------------------------------------------------------------------
# duplicates


def _sentences(text: str) -> list[str]:
    squeezed = re.sub(r"\s", "", text)
    return [s for s in re.split(r"[。！？!?；;]", squeezed) if len(s) >= 12]


def find_duplicate(case: Case, existing: list[Case]) -> Case | None:
    """An existing case that already holds most of ``case``'s sentences."""
    sentences = _sentences(case.text)
    if not sentences:
        return None
    for other in existing:
        body = re.sub(r"\s", "", other.text)
        inside = sum(s in body for s in sentences)
        if inside / len(sentences) >= DUPLICATE_SHARE:
            return other
    return None


# ---------------------------------------------------------------------------
# add / remove


def collect_paths(paths: list[str | Path]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    errors: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED)
            if not found:
                errors.append(f"{p}：文件夹中没有可添加的文档（{'、'.join(SUPPORTED)}）。")
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            errors.append(f"{p}：文件不存在。")
    return files, errors


def add_documents(
    paths: list[str | Path],
    settings: Settings,
    overrides: dict[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    embedder=None,
    *,
    stop: threading.Event | None = None,
) -> AddReport:
    """Add documents to the corpus and update the index.

    Good documents are added even when others in the same call are refused;
    every refused one has its message in ``report.errors``.  The corpus and
    the index folders are tried for writing first; the documents reach
    ``corpus/`` only together with the index version built from them.
    ``stop`` (set by the UI's 取消) abandons the job, changing nothing.
    """
    from assistant.indexing import INDEX_DIR_FIX, build_index
    from assistant.stores.base import staleness
    from assistant.stores.files import FilesStore

    report = AddReport()
    files, report.errors = collect_paths(paths)
    if overrides and any(overrides.values()) and len(files) > 1:
        raise IngestError("--title/--author 等信息只能用于单个文档；请逐个添加。")
    corpus_dir = Path(settings.corpus_dir)
    check_writable(corpus_dir, CORPUS_DIR_FIX)
    check_writable(settings.index_dir, INDEX_DIR_FIX)
    try:
        existing = corpus_mod.load_corpus(corpus_dir) if corpus_mod.corpus_files(corpus_dir) else []
    except CorpusError as exc:
        raise IngestError(f"语料目录无法读取：{exc}") from None
    except OSError as exc:
        raise storage_error(exc, corpus_dir, writing=False, fix=CORPUS_DIR_FIX) from None
    limits = Limits.from_settings(settings)
    edit = CorpusEdit(corpus_dir)
    chars = passages = 0
    for path in files:
        if stop is not None and stop.is_set():
            raise Cancelled("已取消：语料和索引都没有改动。")
        try:
            prepared = prepare(path, overrides, limits)
        except IngestError as exc:
            report.errors.append(str(exc))
            if isinstance(exc, MetadataError):
                report.metadata.append(exc)
            continue
        if (corpus_dir / prepared.stored_name).is_file() or prepared.stored_name in edit.writes:
            report.already.append(f"{path.name}（已在语料库中：{prepared.stored_name}）")
            continue
        duplicate = next(
            ((c, d) for c in prepared.cases if (d := find_duplicate(c, existing))), None
        )
        if duplicate:
            case, other = duplicate
            report.errors.append(f"{path.name}：《{case.title}》与已收录的案例 {other.id}《{other.title}》重复，未添加。")
            continue
        if chars + len(prepared.stored_text) > limits.upload_chars or passages + prepared.n_passages > limits.upload_passages:
            report.errors.append(
                f"{path.name}：本次添加的文档合计超过上限（{limits.upload_chars:,} 字、{limits.upload_passages:,} 段；"
                "ASSISTANT_MAX_UPLOAD_CHARS / ASSISTANT_MAX_UPLOAD_PASSAGES），未添加。请分几次添加。"
            )
            continue
        chars += len(prepared.stored_text)
        passages += prepared.n_passages
        edit.writes[prepared.stored_name] = prepared.stored_text
        existing.extend(prepared.cases)
        report.added.append(prepared)
    needs_build = bool(report.added)
    if not needs_build and report.already:
        # an index that was not brought up to a corpus changed by hand (or by an older version)
        try:
            needs_build = bool(staleness(settings, FilesStore(settings).read_manifest(), _embedder_id(settings, embedder)))
        except AssistantError:
            needs_build = True  # no readable index: build one
    if report.added:
        from assistant.llm import llm_configured

        if llm_configured(settings):
            from assistant.linker import write_links

            report.links = write_links([c for prepared in report.added for c in prepared.cases], settings)
    if needs_build:
        report.build = build_index(settings, embedder, progress=progress, edit=edit or None, stop=stop)
    return report


def _embedder_id(settings: Settings, embedder) -> str:
    from assistant.embedding import get_embedder

    return (embedder or get_embedder(settings.embedder, settings.query_instruction)).id


def remove_case(case_id: str, settings: Settings, progress=None, embedder=None):
    """Take a case out of the corpus and out of every index (the corpus changes with the new index version)."""
    from assistant.indexing import INDEX_DIR_FIX, build_index

    corpus_dir = Path(settings.corpus_dir)
    try:
        cases = corpus_mod.load_corpus(corpus_dir)
    except CorpusError as exc:
        raise IngestError(f"语料目录无法读取：{exc}") from None
    except OSError as exc:
        raise storage_error(exc, corpus_dir, writing=False, fix=CORPUS_DIR_FIX) from None
    case = next((c for c in cases if c.id == case_id), None)
    if case is None:
        valid = "、".join(c.id for c in cases)
        raise IngestError(f"没有编号为 {case_id} 的案例。可用的编号：{valid}")
    if len(cases) == 1:
        raise IngestError(f"{case_id} 是语料中最后一个案例，不能移除（索引不能为空）。")
    check_writable(corpus_dir, CORPUS_DIR_FIX)
    check_writable(settings.index_dir, INDEX_DIR_FIX)
    siblings = [c for c in cases if c.source == case.source]
    if len(siblings) == 1 and ADDED_NAME.match(case.source):
        edit = CorpusEdit(corpus_dir, deletes=[case.source])  # a document added by a user, holding only this case
    else:
        removed = sorted(corpus_mod.removed_ids(corpus_dir) | {case_id})
        edit = CorpusEdit(corpus_dir, writes={corpus_mod.REMOVED_FILE: json.dumps(removed, ensure_ascii=False, indent=1) + "\n"})
    return case, build_index(settings, embedder, progress=progress, edit=edit)


def time_left(done: int, total: int, elapsed: float) -> str:
    """'约 7 分钟' from the pace so far ('' before the first batch is done).

    >>> time_left(100, 400, 60.0)
    '约 3 分钟'
    """
    if done <= 0 or elapsed <= 0 or done >= total:
        return ""
    seconds = elapsed / done * (total - done)
    if seconds < 60:
        return f"约 {max(5, round(seconds / 5) * 5)} 秒"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"约 {minutes} 分钟"
    return f"约 {minutes // 60} 小时 {minutes % 60} 分钟"
