"""Trainer discussion prompts, grounded in cited passages, exported as Markdown or .docx.

Four kinds of question, from the templates in ``prompts/discussion_*.md``:
情境研讨 (put the learner in the case's situation), 对比分析 (two cases that
handled the same problem differently), 角色扮演 (the parties of a dispute and
their interests), 反思迁移 (what made it work, would it transfer).  The
material comes from the case cards (problem, measures, methods, outcomes,
lessons); every quote in a question is numbered and listed in the sources
with its case, section and exact text.

Example::

    >>> from assistant.corpus import load_corpus
    >>> from assistant.cards import build_cards
    >>> from assistant.handout import build_handout, write_handout
    >>> h = build_handout(build_cards(load_corpus("corpus")), case_id="sj2025-03", n=6)
    >>> write_handout(h, "handout.docx")        # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.cards import CaseCard, get_card, tag_idf
from assistant.citations import Citation, place
from assistant.errors import AssistantError, InputError, storage_error
from assistant.fsutil import atomic_write
from assistant.taxonomy import load_taxonomy, resolve_tag

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
KINDS = ("情境研讨", "对比分析", "角色扮演", "反思迁移")
_TEMPLATE_FILES = {
    "情境研讨": "discussion_situation.md",
    "对比分析": "discussion_compare.md",
    "角色扮演": "discussion_roleplay.md",
    "反思迁移": "discussion_transfer.md",
}
EXCERPT_CHARS = 90
# the kind of community a learner is asked to transfer a case to: one per COMMUNITY_TYPES
_CONTRAST_TYPE = {"居民区": "村", "村": "居民区", "街区": "居民区"}
_SENT = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")


@dataclass
class Question:
    kind: str
    text: str
    sources: list[int]  # numbers into Handout.sources

    def to_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "sources": self.sources}


@dataclass
class Handout:
    title: str
    summary: list[str]  # lines, with source numbers like [1]
    questions: list[Question]
    sources: list[tuple[Citation, CaseCard]]
    notice: str | None = None  # e.g. why the template questions were used instead of the LLM's
    case_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "summary": self.summary,
            "questions": [q.to_dict() for q in self.questions],
            "sources": [
                dict(c.to_dict(), number=i, case_title=card.title, author=card.author)
                for i, (c, card) in enumerate(self.sources, 1)
            ],
            "notice": self.notice,
        }


# ---------------------------------------------------------------------------
# templates


def load_templates(prompts_dir: Path = PROMPTS_DIR) -> dict[str, list[str]]:
    """Kind -> template variants (a file's variants are separated by a line ``---``)."""
    out = {}
    for kind, name in _TEMPLATE_FILES.items():
        path = prompts_dir / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise InputError(f"缺少讨论题模板 {path}，请检查 prompts/ 目录。") from None
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        out[kind] = [v.strip() for v in re.split(r"^---\s*$", text, flags=re.M) if v.strip()]
    return out


class _Sources:
    """Numbers citations in order of first use (the same span keeps its number)."""

    def __init__(self, cards: dict[str, CaseCard]) -> None:
        self.cards = cards
        self.items: list[tuple[Citation, CaseCard]] = []

    def number(self, c: Citation) -> int:
        for i, (d, _) in enumerate(self.items, 1):
            if (d.case_id, d.start, d.end) == (c.case_id, c.start, c.end):
                return i
        self.items.append((c, self.cards[c.case_id]))
        return len(self.items)

    def quote(self, c: Citation | None, used: list[int]) -> str:
        """``“excerpt”[n]``: the citation's text (shortened for the question) and its number."""
        if c is None:
            return "（讲稿未写明）"
        n = self.number(c)
        used.append(n)
        text = " ".join(c.quote.split())
        if len(text) > EXCERPT_CHARS:
            text = text[:EXCERPT_CHARS].rstrip("，,、：:") + "……"
        return f"“{text}”[{n}]"


def _sentence(c: Citation | None, prefer: re.Pattern | None = None) -> Citation | None:
    """The best single sentence of a citation (keeps exact offsets)."""
    if c is None:
        return None
    best, best_score = None, -1.0
    for m in _SENT.finditer(c.quote):
        s = m.group(0).strip(" -")
        if len(s) < 12:
            continue
        score = (len(prefer.findall(s)) * 10 if prefer else 0) - abs(len(s) - 60) / 60
        if score > best_score:
            off = c.start + m.start() + m.group(0).index(s)
            best, best_score = Citation(c.case_id, c.section, s, off, off + len(s)), score
    return best or c


_PROBLEM = re.compile(r"难|问题|矛盾|困境|投诉|缺|不足|隐患|乱|堵|无法|纠纷|冲突")


# ---------------------------------------------------------------------------
# material from the cards


def _method(card: CaseCard) -> str:
    if not card.methods:
        return "案例中的做法"
    best = max(card.methods, key=lambda m: m.mentions)
    return best.name


_ACTION = re.compile(r"通过|建立|成立|推出|开展|实行|组建|设立|引入|搭建|制定|采取|联合|召开|发动|动员|协调|推行|打造|增设|改造")
_COURTESY = re.compile(r"习近平|总书记|指出|大家好|下面|介绍|汇报")


def _measure(card: CaseCard, i: int = 0, topic: str | None = None) -> Citation | None:
    """The ``i``-th most concrete action sentence among the case's measures and
    method definitions, preferring those about ``topic``."""
    tag = None
    if topic:
        tag = next((t for t in load_taxonomy().tags if t.name == topic), None)
    pool = card.measures + [m.definition for m in card.methods]
    ranked: list[tuple[float, Citation]] = []
    seen = set()
    for c in pool:
        for m in _SENT.finditer(c.quote):
            sent = m.group(0).strip(" -")
            if len(sent) < 15 or sent in seen:
                continue
            seen.add(sent)
            score = 2 * len(_ACTION.findall(sent)) - 5 * len(_COURTESY.findall(sent))
            score += 3 * min(tag.count(sent), 2) if tag else 0
            off = c.start + m.start() + m.group(0).index(sent)
            ranked.append((score, Citation(c.case_id, c.section, sent, off, off + len(sent))))
    ranked.sort(key=lambda x: (-x[0], x[1].start))
    return ranked[i % len(ranked)][1] if ranked else None


def _problem(card: CaseCard) -> Citation | None:
    return _sentence(card.problem[0] if card.problem else card.summary, _PROBLEM)


def _lesson(card: CaseCard) -> Citation | None:
    return _sentence(card.lessons.citation) if card.lessons else None


def _outcome(card: CaseCard) -> Citation | None:
    return card.outcomes[-1].citation if card.outcomes else _lesson(card)


def _roles(card: CaseCard, limit: int = 4) -> list[tuple[str, Citation | None]]:
    """The parties most present in the case, each with a sentence that shows their stake."""
    taxonomy = load_taxonomy()
    pool = card.problem + card.measures + [m.definition for m in card.methods] + [o.citation for o in card.outcomes]
    out: list[tuple[str, Citation | None]] = []
    taken: set[int] = set()
    for name in card.roles:
        if name == "社区党组织":
            continue  # the learner plays the secretary
        role = next(r for r in taxonomy.roles if r.name == name)
        # a sentence naming this party, not already quoted for another one
        cands = [s for c in pool if role.count(c.quote) and (s := _sentence(c, role.pattern)) and role.count(s.quote)]
        fresh = [c for c in cands if c.start not in taken]
        pick = next(iter(fresh or cands), None)
        if pick:
            taken.add(pick.start)
        out.append((name, pick))
        if len(out) >= limit:
            break
    return out


def compare_partner(cards: dict[str, CaseCard], card: CaseCard, topic: str | None = None) -> tuple[CaseCard, str]:
    """Another case facing the same problem: the topic's next case, or the one
    sharing the most (rare) tags.  Returns the partner and the shared topic."""
    idf = tag_idf(cards)
    if topic:
        others = [c for c in cards.values() if c.case_id != card.case_id and topic in c.tag_counts]
        if others:
            return max(others, key=lambda c: c.tag_counts[topic]), topic

    def overlap(other: CaseCard) -> float:
        return sum(idf.get(t, 0) for t in card.tags if t in other.tag_counts)

    other = max((c for c in cards.values() if c.case_id != card.case_id), key=overlap)
    shared = [t for t in card.tags if t in other.tag_counts]
    return other, (topic or (max(shared, key=lambda t: idf.get(t, 0)) if shared else "基层治理"))


# ---------------------------------------------------------------------------
# building the handout


def build_handout(
    cards: dict[str, CaseCard],
    *,
    case_id: str | None = None,
    topic: str | None = None,
    n: int = 6,
    templates: dict[str, list[str]] | None = None,
    settings=None,
) -> Handout:
    """Discussion questions for one case (``case_id``) or a topic tag (``topic``).

    With an LLM configured in ``settings`` the questions are written by it from
    the same numbered material and checked; on any failure the template
    questions are used and ``Handout.notice`` says why (in Chinese)."""
    if bool(case_id) == bool(topic):
        raise InputError("请指定一个案例（--case 编号）或一个话题（--topic 标签），二者选一。")
    if not 1 <= n <= 20:
        raise InputError(f"题目数量 n（{n}）应在 1 到 20 之间。")
    if case_id:
        card = get_card(cards, case_id)
        topic_name = None
    else:
        assert topic is not None, "exactly one of case_id and topic is given (checked above)"
        topic_name = resolve_tag(topic.strip())
        having = sorted((c for c in cards.values() if topic_name in c.tag_counts), key=lambda c: -c.tag_counts[topic_name])
        if not having:
            raise InputError(f"没有案例带有标签“{topic_name}”。")
        card = having[0]
    other, shared_topic = compare_partner(cards, card, topic_name)
    templates = templates or load_templates(Path(settings.prompts_dir) if settings else PROMPTS_DIR)
    src = _Sources(cards)
    summary = _summary(card, src)
    notice = None
    questions = None
    if settings is not None and _llm_configured(settings):
        try:
            questions, notice = llm_questions(card, other, shared_topic, n, src, settings)
        except AssistantError as exc:
            notice = f"大模型出题失败（{exc}），以下为按案例结构生成的模板题。"
    if questions is None:
        questions = template_questions(card, other, shared_topic, n, templates, src)
    elif len(questions) < n:
        extra = template_questions(card, other, shared_topic, n, templates, src)[len(questions) :]
        questions += extra
    title = f"培训讨论题：《{card.title}》" if case_id else f"培训讨论题：{topic_name}"
    h = Handout(title, summary, questions, src.items, notice, case_ids=[card.case_id, other.case_id])
    return _prune_sources(h)


def _summary(card: CaseCard, src: _Sources) -> list[str]:
    used: list[int] = []
    lines = [
        f"案例：《{card.title}》",
        f"讲述人：{card.author_line}" + (f"；指导老师：{card.instructor}" if card.instructor else ""),
        f"社区类型：{card.community_type}；话题：{'、'.join(card.tags) or '（无）'}",
        f"遇到的问题：{src.quote(_problem(card), used)}",
    ]
    if card.methods:
        lines.append(f"提出的方法：{'、'.join(m.name for m in card.methods[:6])}")
    if card.outcomes:
        lines.append(f"成效：{src.quote(card.outcomes[0].citation, used)}")
    if card.lessons:
        lines.append(f"启示（{card.lessons.title}）：{src.quote(_lesson(card), used)}")
    return lines


def template_questions(
    card: CaseCard,
    other: CaseCard,
    topic: str,
    n: int,
    templates: dict[str, list[str]],
    src: _Sources,
) -> list[Question]:
    """``n`` questions, the four kinds in turn, each variant used before any repeats."""
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        variants = templates[kind]
        template = variants[(i // len(KINDS)) % len(variants)]
        used: list[int] = []
        values = _values(kind, card, other, topic, i // len(KINDS), src, used)
        text = template.format_map(values)
        out.append(Question(kind, text, sorted(set(used))))
    return out


def _values(kind: str, card: CaseCard, other: CaseCard, topic: str, round_: int, src: _Sources, used: list[int]) -> dict:
    other_type = _CONTRAST_TYPE[card.community_type]
    v = {
        "place": place(card),
        "type": card.community_type,
        "other_type": other.community_type if other.community_type != card.community_type else other_type,
        "method": _method(card),
        "topic": topic,
    }
    # quotes are numbered only when the template uses them
    lazy = {
        "problem": lambda: src.quote(_problem(card), used),
        "measure": lambda: src.quote(_measure(card, round_, topic), used),
        "outcome": lambda: src.quote(_outcome(card), used),
        "lesson": lambda: src.quote(_lesson(card), used),
    }
    if kind == "对比分析":
        v.update(other_place=place(other), other_method=_method(other))
        lazy["other_measure"] = lambda: src.quote(_measure(other, round_, topic), used)
    if kind == "角色扮演":
        roles = _roles(card)
        v["role_list"] = "、".join(r for r, _ in roles) or "居民、物业、居委会"
        lazy["roles"] = lambda: "；".join(f"{r}（{src.quote(c, used)}）" if c else r for r, c in roles)
    return _LazyDict(v, lazy)


class _LazyDict(dict):
    def __init__(self, values: dict, lazy: dict) -> None:
        super().__init__(values)
        self.lazy = lazy

    def __missing__(self, key: str) -> str:
        if key in self.lazy:
            self[key] = self.lazy[key]()
            return self[key]
        return "（讲稿未写明）"


# ---------------------------------------------------------------------------
# LLM-written questions

_KIND_HELP = {
    "情境研讨": "把学员放进案例的处境：如果你是这里的书记，会怎么办",
    "对比分析": "比较两个案例处理同一问题的不同做法及其前提",
    "角色扮演": "列出争议中的各方角色及其利益，组织模拟协商",
    "反思迁移": "哪些条件促成了成效，换一个社区能否照搬、要怎么调整",
}
_CITE = re.compile(r"\[(\d+)\]")
_QUOTED_TEXT = re.compile(r"[“\"]([^”\"]{6,})[”\"]")


def _llm_configured(settings) -> bool:
    from assistant.llm import llm_configured

    return llm_configured(settings)


def llm_material(card: CaseCard, other: CaseCard, src: _Sources) -> str:
    """Numbered quotes the LLM may use (the same numbers the source list will show)."""
    cites: list[Citation | None] = [_problem(card), *(c for c in card.problem[1:2])]
    cites += [_measure(card, i) for i in range(3)] + [m.definition for m in card.methods[:2]]
    cites += [o.citation for o in card.outcomes[:2]] + [_lesson(card)]
    cites += [_problem(other), _measure(other, 0), *(m.definition for m in other.methods[:1])]
    lines: list[str] = []
    for c in cites:
        if c is None:
            continue
        n = src.number(c)
        if any(line.startswith(f"[{n}] ") for line in lines):
            continue
        card_ = src.cards[c.case_id]
        lines.append(f"[{n}] {place(card_)}（{card_.community_type}），{c.section or '开头'}：{' '.join(c.quote.split())}")
    return "\n".join(lines)


def llm_questions(card: CaseCard, other: CaseCard, topic: str, n: int, src: _Sources, settings) -> tuple[list[Question], str | None]:
    """Questions written by the LLM, each checked against the numbered material.

    A question must cite at least one given number; a quotation in it that is
    not found in the sources it cites is marked 【未核实】 (not hidden).
    Questions that cite nothing valid are dropped; the caller tops up with
    template questions.  Raises LLMError on any call failure.
    """
    from assistant.llm import LLMError, complete, render_prompt

    material = llm_material(card, other, src)
    valid = {i for i in range(1, len(src.items) + 1)}
    kinds = "\n".join(f"- {k}：{_KIND_HELP[k]}" for k in KINDS)
    prompt = re.sub(r"<!--.*?-->", "", render_prompt("discussion_llm", settings, n=n, kinds=kinds, material=material), flags=re.S)
    reply = complete([("user", prompt.strip())], settings)
    out: list[Question] = []
    dropped = 0
    kind: str | None
    for line in reply.splitlines():
        line = line.strip().lstrip("-*0123456789.、） ").strip()
        if "|" not in line:
            continue
        kind, text = (x.strip() for x in line.split("|", 1))
        kind = next((k for k in KINDS if k in kind), None)
        nums = sorted({int(x) for x in _CITE.findall(text)} & valid)
        if not kind or not text or not nums:
            dropped += 1
            continue
        cited = "".join("".join(src.items[i - 1][0].quote.split()) for i in nums)
        for q in _QUOTED_TEXT.findall(text):
            if "".join(q.split()).rstrip("…") not in cited:
                text = text.replace(q, q + "【未核实】", 1)
        out.append(Question(kind, text, nums))
        if len(out) >= n:
            break
    if not out:
        raise LLMError("大模型的回答里没有按格式给出带来源编号的题目。", "bad_reply")
    notice = None
    if len(out) < n or dropped:
        notice = f"大模型给出的题目中有 {dropped} 道缺少有效来源编号已舍弃，不足部分以模板题补齐。"
    return out, notice


def _prune_sources(h: Handout) -> Handout:
    """Keep only the sources the summary and questions cite, numbered in order of use."""
    order: list[int] = []
    for text in h.summary + [q.text for q in h.questions]:
        for m in _CITE.finditer(text):
            k = int(m.group(1))
            if k not in order and 1 <= k <= len(h.sources):
                order.append(k)
    for q in h.questions:
        for k in q.sources:
            if k not in order:
                order.append(k)
    new = {old: i for i, old in enumerate(order, 1)}

    def renum(text: str) -> str:
        return _CITE.sub(lambda m: f"[{new.get(int(m.group(1)), m.group(1))}]", text)

    h.summary = [renum(s) for s in h.summary]
    h.questions = [Question(q.kind, renum(q.text), sorted(new[k] for k in q.sources if k in new)) for q in h.questions]
    h.sources = [h.sources[old - 1] for old in order]
    return h


# ---------------------------------------------------------------------------
# rendering and writing


def to_markdown(h: Handout) -> str:
    lines = [f"# {h.title}", ""]
    if h.notice:
        lines += [f"> {h.notice}", ""]
    lines += ["## 案例概要", ""] + [f"- {s}" for s in h.summary] + ["", "## 讨论题", ""]
    for i, q in enumerate(h.questions, 1):
        basis = "".join(f"[{n}]" for n in q.sources)
        lines += [f"{i}. **【{q.kind}】** {q.text}" + (f"（依据：{basis}）" if basis else ""), ""]
    lines += ["## 资料来源", ""]
    for i, (c, card) in enumerate(h.sources, 1):
        where = f"《{card.title}》，{card.author_line}" + (f"，{c.section}" if c.section else "")
        lines += [f"[{i}] {where}（{c.case_id}，第 {c.start}–{c.end} 字）", f"    > {' '.join(c.quote.split())}", ""]
    return "\n".join(lines).rstrip() + "\n"


def to_docx_bytes(h: Handout) -> bytes:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.title = h.title
    doc.add_heading(h.title, level=0)
    if h.notice:
        doc.add_paragraph().add_run(h.notice).italic = True
    doc.add_heading("案例概要", level=1)
    for s in h.summary:
        doc.add_paragraph(s, style="List Bullet")
    doc.add_heading("讨论题", level=1)
    for q in h.questions:
        p = doc.add_paragraph(style="List Number")
        p.add_run(f"【{q.kind}】").bold = True
        basis = "".join(f"[{n}]" for n in q.sources)
        p.add_run(q.text + (f"（依据：{basis}）" if basis else ""))
    doc.add_heading("资料来源", level=1)
    for i, (c, card) in enumerate(h.sources, 1):
        where = f"[{i}] 《{card.title}》，{card.author_line}" + (f"，{c.section}" if c.section else "")
        doc.add_paragraph(where)
        quote = doc.add_paragraph(" ".join(c.quote.split()))
        quote.paragraph_format.left_indent = Pt(18)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_handout(h: Handout, path: str | Path) -> Path:
    """Write ``.md`` or ``.docx`` atomically (:func:`assistant.fsutil.atomic_write`):
    on any failure no partial file is left behind."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".md", ".markdown", ".docx"):
        raise InputError(f"不支持的输出格式“{path.suffix or '（无扩展名）'}”：--out 请以 .md 或 .docx 结尾。")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"无法写入 {path}：目录 {parent} 不存在。")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"无法写入 {path}：没有写权限。")
    data = to_docx_bytes(h) if suffix == ".docx" else to_markdown(h).encode("utf-8")
    try:
        return atomic_write(path, data)
    except OSError as exc:  # a full disk, a read-only mount: one line naming the path and the fix
        raise storage_error(exc, path, fix="或用 --out 写到其他位置") from None
