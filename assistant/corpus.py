"""Parse source documents into case records.

The bundled source is a plain-text extraction of a PDF compilation of 21
lecture scripts.  Each script starts with a title (one or two lines), then an
author line (``中山街道蓝天二村居民区党总支书记沈东``), then the body, and ends
with ``(指导老师:…)``.  This module finds the scripts, reads their metadata
from the body (never from the OCR-damaged table of contents), repairs the PDF
artefacts and records the section tree.

The repaired ``Case.text`` is what the UI shows and what every passage and
citation points into.  Repairs only remove things, never rewrite: whitespace
(stray spaces, page breaks inside a sentence) and the leftovers of the PDF's
conversion to text (:func:`strip_artefacts`: page markers such as ``【P15】``,
lines holding only a page number, Markdown bold ``**`` and list dashes).  So
any quote taken from the original document still matches the case text once
whitespace and those leftovers are ignored, and since offsets are computed
on the repaired text, every citation is verbatim against what the UI shows.

Example::

    >>> from assistant.corpus import load_corpus
    >>> cases = load_corpus("corpus")
    >>> cases[0].author, cases[0].community
    ('沈东', '蓝天二村')
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.fsutil import atomic_write

PARSER_VERSION = "4"  # 3: page markers, page-number lines, ** and list dashes removed; 4: "第三颗果:" headings, sentence list items not
# Every Case.community_type is one of these (see community_type() below); filters,
# cards and handouts validate against this one list.
COMMUNITY_TYPES = ("居民区", "村", "街区")

CJK = r"\u3400-\u9fff\uf900-\ufaff"
# Characters that end a sentence or a clause that may legitimately end a paragraph.
PARAGRAPH_END = set("。！？!?；;：:…\"”’')）】》")

_ROLE = r"(?:村)?党总支(?:部)?书记|党支部书记|党委书记|党总支副书记|居委会主任|村委会主任|书记"
AUTHOR_LINE = re.compile(
    rf"^(?:松江区)?(?P<town>[{CJK}]{{1,6}}?(?:街道|镇))?"
    rf"(?P<community>[{CJK}]{{2,10}}?(?:居民区|村|街区))"
    rf"(?P<role>{_ROLE})?(?P<name>[{CJK}]{{2,3}})$"
)
INSTRUCTOR = re.compile(r"[(（]\s*指导老师\s*[:：]\s*(?P<who>[^)）]*)[)）]\s*$")

# Heading markers, by level.
_H1 = re.compile(r"^(?:[一二三四五六七八九十]+、|【[^】]{1,12}】|结语|开场[:：])")
_H2 = re.compile(r"^[(（][一二三四五六七八九十]+[)）]")
_H3 = re.compile(r"^(?:\d{1,2}[、.．](?!\d)|第[一二三四五六七八九十]+(?:步|层|个关键词)|[①②③④⑤⑥⑦⑧⑨])")
# an ordinal of the script's own metaphor, with a colon ("第三颗果:"1+1"伙伴卡——…", "第二招:…"): a part of
# the section above it, as (一)… is, with its own numbered items ("1、定期参加…") below it
ORDINAL = r"第[一二三四五六七八九十]+[颗招][\u4e00-\u9fff]{0,3}"  # (the lead line drops it: extractive)
_H2_ORDINAL = re.compile(rf"^{ORDINAL}[:：]")
# "一是…" and "第二,…" open list items: a heading when short and alone on a line,
# otherwise the lead clause of the item names a (level 4) section
_H3_SHORT = re.compile(r"^-?(?:[一二三四五六七八九十]是|第[一二三四五六七八九十]+[,，、:：])")
_ITEM = re.compile(r"^-?第[一二三四五六七八九十]+[,，、:：]")  # nests under "一是…"
HEADING_MAX = 50


class CorpusError(Exception):
    """A source document could not be parsed; the message is for users."""


@dataclass(frozen=True)
class Section:
    """A heading and the span of case text it governs."""

    title: str
    level: int
    start: int  # offset of the heading in Case.text
    end: int  # end of the section's content (next heading of same or higher level)
    path: tuple[str, ...]  # titles from the top level down to this one
    inline: bool = False  # heading is the lead clause of a body paragraph


@dataclass(frozen=True)
class Paragraph:
    start: int
    end: int
    heading_level: int  # 0 for body text
    path: tuple[str, ...]  # section path this paragraph belongs to (incl. itself if a heading)


@dataclass
class Case:
    id: str
    title: str
    author: str
    role: str | None
    town: str | None
    community: str
    community_type: str
    instructor: str | None
    source: str
    text: str
    raw_text: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    @property
    def author_line(self) -> str:
        """``沈东（中山街道蓝天二村居民区党总支书记）``."""
        where = f"{self.town or ''}{self.community}{_type_suffix(self)}"
        return f"{self.author}（{where}{self.role or ''}）"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("raw_text")
        return d


def _type_suffix(case: Case) -> str:
    return "居民区" if case.community_type == "居民区" else ""


# ---------------------------------------------------------------------------
# text repair


def _is_cjkish(ch: str) -> bool:
    """CJK ideographs and full-width punctuation: no space belongs next to them."""
    if not ch:
        return False
    o = ord(ch)
    return (0x3000 <= o <= 0x9FFF) or (0xF900 <= o <= 0xFAFF) or (0xFF00 <= o <= 0xFFEF) or ch in "—…“”‘’•・·"


def _keeps_space(left: str, right: str) -> bool:
    # A space is real only between two Latin words ("Hello World"); digits,
    # ASCII punctuation and CJK around a space mean a PDF artefact.
    return left.isascii() and right.isascii() and left.isalpha() and right.isalpha()


# Leftovers of the PDF's conversion to text.  A page marker inside a line
# ("着力开发用钓湾老街,【P15】区级各部门…"), a line holding only a page number
# ("15", "- 15 -", "第 15 页", "15/120"), Markdown bold ("**统筹资源**") and a
# list dash opening a paragraph ("- 2、设…").
PAGE_MARKER = re.compile(r"[【\[〔［]\s*(?:[Pp]|第|页)\s*\d{1,4}\s*页?\s*[】\]〕］]|[(（]\s*第\s*\d{1,4}\s*页\s*[)）]")
PAGE_NUMBER_LINE = re.compile(r"^\s*(?:[-—–]\s*)?(?:第\s*)?\d{1,4}\s*(?:页|/\s*\d{1,4})?\s*(?:[-—–]\s*)?$")
_BOLD = re.compile(r"\*\*")
_LIST_DASH = re.compile(r"^[-•·*]\s*(?=\S)")


def strip_artefacts(line: str) -> str:
    """A line without page markers, Markdown bold and its list dash ("" for a page-number line).

    Only characters that are not the author's are removed.
    """
    if PAGE_NUMBER_LINE.match(line):
        return ""
    line = _BOLD.sub("", PAGE_MARKER.sub("", line))
    return _LIST_DASH.sub("", line.strip(" \t\u3000"))


def clean_line(line: str) -> str:
    """Remove PDF whitespace artefacts; never change any other character."""
    line = line.replace("\u3000", " ").replace("\t", " ").strip()
    if " " not in line:
        return line
    out: list[str] = []
    for i, ch in enumerate(line):
        if ch == " ":
            left = out[-1] if out else ""
            right = line[i + 1] if i + 1 < len(line) else ""
            if left and right and right != " " and _keeps_space(left, right):
                out.append(ch)
            continue
        out.append(ch)
    return "".join(out)


def heading_level(par: str) -> int:
    """Level (1-3) of a standalone heading paragraph, 0 for body text."""
    if _H3_SHORT.match(par) and len(par) <= 40 and par[-1] not in "。；;" and "。" not in par:
        return 5 if _ITEM.match(par) else 4
    level = _marker_level(par)
    if not level or len(par) > HEADING_MAX:
        return 0
    if "。" in par[:-1]:
        return 0
    if level == 3 and _sentence_item(par):
        return 0
    return level


def _sentence_item(title: str) -> bool:
    """A numbered list item that is a sentence, not a title: it ends as a clause does or runs on over three
    commas ("2、颐景园的倪主任来自城管系统,年轻又肯学,在小区…协调各方特别给力;")."""
    return title.rstrip("。")[-1:] in ";；,，" or len(re.findall(r"[,，]", title)) >= 3


def _marker_level(par: str) -> int:
    if _H1.match(par):
        return 1
    if _H2.match(par) or _H2_ORDINAL.match(par):
        return 2
    if _H3.match(par):
        return 3
    return 0


def inline_heading(par: str) -> tuple[int, str] | None:
    """Level and lead clause of a body paragraph that opens with a heading marker.

    ``1、老年群体(独居…)。具体做法…`` has its lead clause as a section title.
    """
    level = _marker_level(par) or (0 if not _H3_SHORT.match(par) else 5 if _ITEM.match(par) else 4)
    if not level:
        return None
    m = re.search(r"[。：:！？!?]", par)
    if not m or m.start() > HEADING_MAX or level == 3 and _sentence_item(par[: m.start()]):
        return None
    return level, par[: m.start()]


def _ends_paragraph(par: str) -> bool:
    return par[-1] in PARAGRAPH_END


def repair_paragraphs(lines: list[str]) -> list[str]:
    """Clean lines and re-join sentences that a page break split in two."""
    pars: list[str] = []
    for line in lines:
        par = clean_line(strip_artefacts(line))
        if not par:
            continue
        if (
            pars
            and not heading_level(pars[-1])
            and not _ends_paragraph(pars[-1])
            and not heading_level(par)
        ):
            pars[-1] += par
        else:
            pars.append(par)
    return pars


# ---------------------------------------------------------------------------
# case assembly


def build_case(
    *,
    case_id: str,
    title: str,
    author: str,
    role: str | None,
    town: str | None,
    community: str,
    community_type: str,
    instructor: str | None,
    source: str,
    body_lines: list[str],
) -> Case:
    """Repair the body, compute offsets and the section tree."""
    pars = repair_paragraphs(body_lines)
    text_parts: list[str] = []
    paragraphs: list[Paragraph] = []
    open_sections: list[tuple[int, str, int, bool]] = []  # (level, title, start, inline)
    sections: list[Section] = []
    pos = 0

    def close(level: int, at: int) -> None:
        while open_sections and open_sections[-1][0] >= level:
            lv, title_, start, inline = open_sections.pop()
            path = tuple(t for _, t, _, _ in open_sections) + (title_,)
            sections.append(Section(title_, lv, start, at, path, inline))

    for par in pars:
        level = heading_level(par)
        inline = None if level else inline_heading(par)
        if level or inline:
            lv, title_ = (level, par) if level else inline  # type: ignore[misc]
            close(lv, max(pos - 1, 0))
            open_sections.append((lv, title_.rstrip("。:："), pos, not level))
        path = tuple(t for _, t, _, _ in open_sections)
        paragraphs.append(Paragraph(pos, pos + len(par), level, path))
        text_parts.append(par)
        pos += len(par) + 1
    text = "\n".join(text_parts)
    close(0, len(text))
    sections.sort(key=lambda s: (s.start, s.level))
    return Case(
        id=case_id,
        title=title,
        author=author,
        role=role,
        town=town,
        community=community,
        community_type=community_type,
        instructor=instructor,
        source=source,
        text=text,
        raw_text="\n".join(body_lines),
        paragraphs=paragraphs,
        sections=sections,
    )


def community_type(community: str) -> str:
    if community.endswith("街区"):
        return "街区"
    if community.endswith("居民区"):
        return "居民区"
    return "村"


def _strip_community(community: str) -> str:
    # "蓝天二村居民区" -> "蓝天二村"; villages keep their name ("长溇村").
    return community[: -len("居民区")] if community.endswith("居民区") else community


def parse_compilation(raw: str, source: str, id_prefix: str) -> list[Case]:
    """Split a compilation of scripts into cases.

    A script is recognised by its author line; its title is the one or two
    non-empty lines just above it (after the previous script's instructor line
    or the table of contents).
    """
    raw = unicodedata.normalize("NFC", raw)
    lines = raw.splitlines()
    author_at = [i for i, line in enumerate(lines) if AUTHOR_LINE.match(clean_line(line))]
    if not author_at:
        raise CorpusError(f"{source}: 没有找到作者行（如“中山街道蓝天二村居民区党总支书记沈东”），无法切分案例。")
    titles = [_title_lines(lines, at) for at in author_at]
    cases: list[Case] = []
    for n, at in enumerate(author_at):
        end = titles[n + 1][0] if n + 1 < len(author_at) else len(lines)
        body, instructor = split_instructor(lines[at + 1 : end])
        m = AUTHOR_LINE.match(clean_line(lines[at]))
        assert m  # matched when author_at was built
        community = m.group("community")
        role = m.group("role")
        if role and role.startswith("村") and community.endswith("村"):
            role = role[1:]  # "洙桥村村党总支书记": the doubled 村 is the village's own
        cases.append(
            build_case(
                case_id=f"{id_prefix}-{n + 1:02d}",
                title=_join_title([clean_title(lines[i]) for i in titles[n]]),
                author=m.group("name"),
                role=role,
                town=m.group("town"),
                community=_strip_community(community),
                community_type=community_type(community),
                instructor=instructor,
                source=source,
                body_lines=body,
            )
        )
    return cases


def split_instructor(body: list[str]) -> tuple[list[str], str | None]:
    """Cut the closing ``(指导老师:…)``, on its own line or ending the last paragraph."""
    for k in range(len(body) - 1, -1, -1):
        m = INSTRUCTOR.search(body[k])
        if m:
            return body[:k] + [body[k][: m.start()]], clean_line(m.group("who"))
    return body, None


FRONT_MATTER_KEYS = ("title", "author", "role", "town", "community", "community_type", "instructor")


def split_front_matter(raw: str) -> tuple[dict[str, str], str]:
    """``---`` / ``key: value`` lines / ``---`` at the top of a document, and the rest."""
    lines = raw.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, raw
    meta: dict[str, str] = {}
    for n, line in enumerate(lines[1:], 1):
        if line.strip() == "---":
            return meta, "\n".join(lines[n + 1 :])
        key, sep, value = line.partition(":")
        if not sep:
            key, sep, value = line.partition("：")
        if sep and key.strip() in FRONT_MATTER_KEYS and value.strip():
            meta[key.strip()] = value.strip()
    return {}, raw  # no closing ---: not front matter


def parse_document(raw: str, source: str, id_prefix: str) -> list[Case]:
    """A document with front matter is one script with the metadata given there;
    any other document is split into scripts by their author lines."""
    raw = unicodedata.normalize("NFC", raw)
    meta, body = split_front_matter(raw)
    if not meta:
        return parse_compilation(raw, source, id_prefix)
    missing = [k for k in ("title", "author") if not meta.get(k)]
    if missing:
        raise CorpusError(f"{source}: 文首信息缺少 {', '.join(missing)}。")
    body_lines, instructor = split_instructor(body.splitlines())
    if not "".join(body_lines).strip():
        raise CorpusError(f"{source}: 正文是空的。")
    community = meta.get("community", "")
    return [
        build_case(
            case_id=f"{id_prefix}-01",
            title=meta["title"],
            author=meta["author"],
            role=meta.get("role"),
            town=meta.get("town"),
            community=_strip_community(community),
            community_type=meta.get("community_type") or (community_type(community) if community else "未注明"),
            instructor=meta.get("instructor") or instructor,
            source=source,
            body_lines=body_lines,
        )
    ]


def _title_lines(lines: list[str], at: int) -> list[int]:
    """Indexes of the (at most two) title lines above the author line at ``at``."""
    found: list[int] = []
    j = at - 1
    while j >= 0 and len(found) < 2:
        line = clean_line(lines[j])
        if line:
            # stop at the previous script's end or a table-of-contents entry
            if INSTRUCTOR.search(line) or re.search(r"\d$", line) or _ends_paragraph(line.rstrip(":：")) and found:
                break
            if found and len(line) > 40:
                break
            found.insert(0, j)
        j -= 1
    if not found:
        raise CorpusError(f"第 {at + 1} 行的作者行上方没有标题。")
    return found


def clean_title(line: str) -> str:
    """Titles keep the spaces that separate phrases ("坚守底线 尊重民意"), but
    not those next to punctuation ("乡村, 共创" -> "乡村,共创")."""
    line = re.sub(r"[\s\u3000]+", " ", line).strip()
    return re.sub(r" ?([,，:：;；!！?？、()（）—]) ?", r"\1", line)


def _join_title(parts: list[str]) -> str:
    title = ""
    for p in parts:
        if title and not (p.startswith("—") or title[-1] in ":："):
            title += "" if _is_cjkish(title[-1]) and _is_cjkish(p[0]) else " "
        title += p
    # the subtitle dash: "治理 ——蓝天二村" -> "治理——蓝天二村"
    return re.sub(r"\s*——\s*", "——", title)


REMOVED_FILE = "removed.json"  # ids of cases taken out of the corpus (`assistant remove`)
CORPUS_DIR_FIX = "或用 --corpus-dir（环境变量 ASSISTANT_CORPUS_DIR）指定其他语料目录"


def _removed(data: bytes | None, where: Path) -> set[str]:
    if data is None:
        return set()
    try:
        ids = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise CorpusError(f"{where} 已损坏（{exc}），请修复或删除它。") from None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise CorpusError(f"{where} 应为案例编号的 JSON 列表。")
    return set(ids)


def removed_ids(corpus_dir: Path, edit: "CorpusEdit | None" = None) -> set[str]:
    path = Path(corpus_dir) / REMOVED_FILE
    return _removed(corpus_contents(corpus_dir, edit).get(REMOVED_FILE), path)


def hash_contents(contents: dict[str, bytes]) -> str:
    """The corpus hash of files given as name → bytes (the same as :func:`corpus_hash` of those files)."""
    h = hashlib.sha256()
    for name in sorted(contents):
        h.update(name.encode())
        h.update(hashlib.sha256(contents[name]).digest())
    return h.hexdigest()


def corpus_hash(paths: list[Path]) -> str:
    return hash_contents({p.name: p.read_bytes() for p in paths})


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Source documents, plus the removal list (it changes what the corpus holds)."""
    corpus_dir = Path(corpus_dir)
    files = [p for p in corpus_dir.glob("*.txt") if p.is_file()]
    if (corpus_dir / REMOVED_FILE).is_file():
        files.append(corpus_dir / REMOVED_FILE)
    return sorted(files)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class CorpusEdit:
    """Changes to ``corpus/`` that become true together with the index built from them.

    ``assistant add`` and ``assistant remove`` build the new index from the
    corpus *as it will be* (:func:`load_corpus` with ``edit``), and the store
    applies the edit only once the new index version is complete, just
    before it switches ``CURRENT``; if that switch fails, :meth:`undo` puts
    the corpus back.  So a job stopped or killed while embedding leaves
    nothing in ``corpus/``.
    """

    corpus_dir: Path
    writes: dict[str, str] = field(default_factory=dict)  # file name -> new UTF-8 text
    deletes: list[str] = field(default_factory=list)  # file names to delete
    _before: dict[str, bytes | None] = field(default_factory=dict, repr=False)  # what apply() replaced

    def __bool__(self) -> bool:
        return bool(self.writes or self.deletes)

    def apply(self) -> None:
        """Write and delete the files; all or nothing (an OSError undoes what was done, then propagates)."""
        self._before = {}
        try:
            for name, text in self.writes.items():
                path = self.corpus_dir / name
                self._before[name] = path.read_bytes() if path.is_file() else None
                atomic_write(path, text)
            for name in self.deletes:
                path = self.corpus_dir / name
                self._before[name] = path.read_bytes()
                path.unlink()
        except BaseException:
            self.undo()
            raise

    def undo(self) -> None:
        """Put back every file :meth:`apply` changed (best effort: the first failure is raised at the end)."""
        failed: OSError | None = None
        for name, old in reversed(list(self._before.items())):
            path = self.corpus_dir / name
            try:
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, old)
            except OSError as exc:
                failed = failed or exc
        self._before = {}
        if failed is not None:
            raise failed


def corpus_contents(corpus_dir: str | Path, edit: CorpusEdit | None = None) -> dict[str, bytes]:
    """File name → bytes of the corpus files (documents and the removal list), as they are after ``edit``."""
    contents = {p.name: p.read_bytes() for p in corpus_files(Path(corpus_dir))}
    if edit is not None:
        for name in edit.deletes:
            contents.pop(name, None)
        contents.update({name: text.encode("utf-8") for name, text in edit.writes.items()})
    return contents


def load_corpus(corpus_dir: str | Path, edit: CorpusEdit | None = None) -> list[Case]:
    """Parse every source document under ``corpus_dir`` (as it is after ``edit``) into cases."""
    corpus_dir = Path(corpus_dir)
    contents = corpus_contents(corpus_dir, edit)
    names = sorted(n for n in contents if n.endswith(".txt"))
    if not names:
        raise CorpusError(f"语料目录 {corpus_dir} 中没有文档（*.txt）。")
    removed = _removed(contents.get(REMOVED_FILE), corpus_dir / REMOVED_FILE)
    cases: list[Case] = []
    for name in names:
        try:
            raw = contents[name].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{name} 不是 UTF-8 文本，无法读取：{exc}") from exc
        path = corpus_dir / name
        cases.extend(c for c in parse_document(raw, name, id_prefix(path)) if c.id not in removed)
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise CorpusError(f"语料目录中有重复的案例编号：{sorted({i for i in ids if ids.count(i) > 1})}")
    return cases


def id_prefix(path: Path) -> str:
    # The bundled compilation keeps short ids (sj2025-01 …); other files get a
    # prefix derived from their name so ids stay stable as files are added.
    if path.name.startswith("songjiang_yixian_daoshi_2025"):
        return "sj2025"
    stem = re.sub(r"[^0-9a-zA-Z]+", "-", path.stem).strip("-").lower()
    return stem or "doc-" + hashlib.sha1(path.name.encode()).hexdigest()[:8]
