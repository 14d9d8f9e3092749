"""HTML for the web UI: answers with citation chips, sources, passages, case cards, handouts.

Pure functions from the Python API's objects to HTML strings, so they are
easy to test and the handlers in :mod:`assistant.ui.handlers` stay thin.  Every piece
of text from a case, a user or a model goes through :func:`esc`.

Links follow one scheme, caught by the page script in :mod:`assistant.ui.app`:
``#cite/<case>/<start>/<end>`` opens a passage beside the chat,
``#case/<case>/<start>/<end>`` opens the case in 案例库 (``-1`` offsets: no
highlight), ``#jump/<element id>`` scrolls within the page.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from assistant.citations import place
from assistant.extractive import BLOCK_LINE, RESULT_LABEL, RESULT_LINE


ANSWER_MARKER = re.compile(r"\[(\d+)\]")
GROUP_LEAD = re.compile(r"^([^：\[\]]{2,30}?(?:的做法|的情况))：")
UNSUPPORTED = "〔未找到依据〕"
PARTIAL_LINE = re.compile(r"^关于.+，讲稿(中没有涉及|只是顺带提到，没有具体讲)。")
# The pipeline's note on a follow-up names the search terms it carried over
# ("结合上一轮对话，按“停车 那资金从哪里来”检索。"): how it searched, not what
# a reader needs.  The page only says that the question was read in context.
FOLLOW_UP_NOTE = re.compile(r"^结合上一轮对话，按“.*”检索。$")
FOLLOW_UP_PLAIN = "已结合上一轮对话的话题来回答。"
# What messages written for the command line (or its administrator) carry and a page does not
# say: record and case ids, flags, setting names; and what the page says instead.
_CLI_TERMS = [
    (re.compile(r"（编号 [^）]*）"), ""),
    (re.compile(r"没有编号为\s*“?[^\s”]*”?\s*的案例。?"), "没有这个案例，请刷新页面后重新选择。"),
    (re.compile(r"可用的编号：[^。\n]*。?"), ""),
    (re.compile(r"（--[a-z][^）]*）"), ""),
    (re.compile(r"[；;]?\s*ASSISTANT_[A-Z_]+(?:\s*/\s*ASSISTANT_[A-Z_]+)*"), ""),
    (re.compile(r"（\s*）"), ""),
]


def esc(text: object) -> str:
    return html.escape(str(text or ""), quote=True)


def link(kind: str, case_id: str, start: int = -1, end: int = -1) -> str:
    return f"#{kind}/{quote(case_id, safe='')}/{start}/{end}"


def short(text: str, n: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------
# frame


def header(mode: str, model: str | None, n_cases: int, username: str | None) -> str:
    if mode == "llm":
        badge = f'<span class="mode-badge llm" title="回答由大模型依据检索到的讲稿段落撰写，并逐句核对出处">大模型 · {esc(model)}</span>'
    else:
        badge = '<span class="mode-badge" title="未配置大模型：回答由讲稿原文摘录组成，每句都可追溯">本地摘录</span>'
    user = ""
    if username:
        user = f'<span class="user">{esc(username)}</span><a class="logout" href="logout">退出登录</a>'
    return (
        '<div class="app-header"><div class="brand"><div class="logo">治</div><div>'
        "<h1>基层治理案例问答助手</h1>"
        f"<p>汇集松江 {n_cases} 篇村居书记讲稿 · 每句回答都注明出处，可点开原文核对</p></div></div>"
        f'<div class="mode">当前模式：{badge}{user}</div></div>'
    )


def chat_placeholder() -> str:
    """The empty chat (the number of scripts is in the header, which follows uploads)."""
    return (
        "<div class='welcome'><h2>您好！想了解哪方面的基层治理做法？</h2>"
        "<p>我会从村居书记讲稿中找出相关做法，每句话后面的编号都可以点开，查看讲稿原文。</p>"
        "<p class='hint'>可以直接提问，也可以点下面的例子；答完后可以接着追问，如“那资金从哪里来？”</p></div>"
    )


def intro(text: str) -> str:
    return f"<div class='intro'>{esc(text)}</div>"


def plain(message: str, case_ids=()) -> str:
    """A message from the Python API in the words of the page: no ids, flags or setting names.

    Messages written for the command line may name a case by its id (which
    ``assistant remove`` takes), add a record's id in brackets, or name the
    flag or the ``ASSISTANT_*`` setting to change; a page names cases by
    title and leaves settings to the administrator, so those are dropped.
    """
    for pattern, instead in _CLI_TERMS:
        message = pattern.sub(instead, message)
    for case_id in sorted(case_ids, key=len, reverse=True):
        message = message.replace(f"案例 {case_id}", "案例").replace(case_id, "")
    return message


def error(message: str) -> str:
    return f"<div class='msg-error' role='alert'><span class='icon'>!</span>{esc(message)}</div>"


def ok(message: str) -> str:
    return f"<div class='msg-ok'>✓ {esc(message)}</div>"


# ---------------------------------------------------------------------------
# 问答


def user_message(question: str) -> str:
    return f"<div class='q'>{esc(question)}</div>"


def pending() -> str:
    return "<div class='ans pending'><span class='dots'>正在检索讲稿</span></div>"


def streaming(text: str) -> str:
    body = "".join(f"<p>{esc(line)}</p>" for line in text.split("\n") if line.strip())
    return f"<div class='ans streaming'>{body}<span class='cursor'>▍</span></div>"


def notices_html(notices) -> str:
    """The answer's notices (※ …), in the reader's words."""
    said = [FOLLOW_UP_PLAIN if FOLLOW_UP_NOTE.match(n) else n for n in notices]
    return "".join(f"<div class='notice'>※ {esc(n)}</div>" for n in said)


def _chip(c) -> str:
    tip = f"《{c.case_title}》{c.author} · {c.section or '开头'}"
    return (
        f'<a class="cite" href="{link("cite", c.case_id, c.start, c.end)}" title="{esc(tip)}" '
        f'aria-label="出处 {c.n}：《{esc(short(c.case_title, 30))}》">{c.n}</a>'
    )


def _with_chips(text: str, by_n: dict) -> str:
    out, pos = [], 0
    for m in ANSWER_MARKER.finditer(text):
        out.append(esc(text[pos : m.start()]))
        c = by_n.get(int(m.group(1)))
        out.append(_chip(c) if c else esc(m.group(0)))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out).replace(esc(UNSUPPORTED), f"<span class='unsupported' title='所引段落中找不到这句话的依据'>{esc(UNSUPPORTED)}</span>")


def not_covered_message(answer) -> str:
    """A 没有 answer: a calm notice first, then the 可参考 cases as plain links (no citation chips); a
    greeting's reply (``Answer.social``) the same notice with its example questions."""
    head = answer.answer.split("\n\n", 1)[0]
    body = "".join(f"<p>{esc(line)}</p>" for line in head.split("\n") if line.strip() and not line.startswith("· "))
    examples = ""
    social = getattr(answer, "social", False)  # a greeting answered in kind: its examples, no verdict
    if answer.off_domain or social:
        items = "".join(f"<li>{esc(line[2:])}</li>" for line in head.split("\n") if line.startswith("· "))
        examples = f"<ul class='examples'>{items}</ul>" if items else ""
    refs = ""
    if answer.references:
        items = "".join(
            f"<li><a class='ref' href='{link('case', r.case_id, r.start, r.end)}' title='在案例库中打开这篇讲稿'>"
            f"《{esc(short(r.case_title, 40))}》</a><span class='ref-author'>{esc(r.author)}</span>"
            f"<div class='ref-why'>{esc(r.why)}</div></li>"
            for r in answer.references
        )
        refs = (
            "<div class='references'><div class='ref-label'>可参考 <span>（不是对这个问题的回答，只是内容相近的案例）</span></div>"
            f"<ul>{items}</ul></div>"
        )
    notices = notices_html(answer.notices)
    meta = "" if social else "<div class='ans-meta'>" + ("不在案例库范围内" if answer.off_domain else "讲稿没有讲到这个问题") + "</div>"
    return f"<div class='ans not-covered cov-none'><div class='coverage-note'>{body}{examples}</div>{refs}{notices}{meta}</div>"


def answer_message(answer, model: str | None) -> str:
    """An answer with clickable citation chips, its notices and how it was made (有 / 部分 / 没有 look different).

    An extractive answer is a lead line and one block per community
    (:func:`assistant.extractive.compose_blocks`): each block shows the
    community, where and who, the quoted measure and its result, every quote
    followed by its chip.  Any other answer is shown line by line.
    """
    coverage = getattr(answer, "coverage", "full")
    if coverage == "none" and not answer.citations:
        return not_covered_message(answer)
    by_n = {c.n: c for c in answer.citations}
    lines = [x for x in answer.answer.split("\n") if x.strip()]
    parts = []
    block: list[str] = []

    def close() -> None:
        if block:
            parts.append(f"<div class='block'>{''.join(block)}</div>")
            block.clear()

    # the answer's lead line is its first line, after a 部分 answer's note on what is not covered
    lead_at = next((i for i, line in enumerate(lines) if not (coverage == "partial" and PARTIAL_LINE.match(line))), 0)
    for i, line in enumerate(lines):
        head = BLOCK_LINE.match(line)
        lead = GROUP_LEAD.match(line)
        if coverage == "partial" and PARTIAL_LINE.match(line):
            close()
            parts.append(f"<p class='partial-note'>{esc(line)}</p>")
        elif head:
            close()
            n, community, where = head.groups()
            block.append(
                f"<div class='block-head'><span class='block-n'>{esc(n)}</span><b>{esc(community)}</b>"
                f"<span class='block-where'>{esc(where)}</span></div>"
                f"<p class='measure'>{_with_chips(line[head.end():], by_n)}</p>"
            )
        elif block and RESULT_LINE.match(line):
            body = RESULT_LINE.sub("", line, count=1)
            block.append(f"<p class='result'><span class='result-label'>{esc(RESULT_LABEL.rstrip('：'))}</span>{_with_chips(body, by_n)}</p>")
        elif lead:
            close()
            parts.append(f"<p><b>{esc(lead.group(1))}：</b>{_with_chips(line[lead.end():], by_n)}</p>")
        elif i == lead_at:
            parts.append(f"<p class='lead'>{_with_chips(line, by_n)}</p>")
        else:
            close()
            parts.append(f"<p>{_with_chips(line, by_n)}</p>")
    close()
    notices = notices_html(answer.notices)
    how = f"大模型 {esc(model)} 撰写，已逐句核对出处" if answer.mode == "llm" else "本地摘录：以上均为讲稿原文"
    if coverage == "partial":
        how = "讲稿只讲到问题的一部分 · " + how
    if not answer.answered:
        how = "案例库未直接覆盖这个问题"
    meta = f"<div class='ans-meta'>{how}"
    if answer.citations:
        meta += f" · {len(answer.citations)} 处出处 · 点击编号查看原文"
    meta += "</div>"
    cls = f"ans cov-{esc(coverage)}" if answer.answered else f"ans refusal cov-{esc(coverage)}"
    return f"<div class='{cls}'>{''.join(parts)}{notices}{meta}</div>"


def references_panel(references) -> str:
    """The 可参考 cases of a 没有 answer beside the chat: where to read on, not sources of an answer."""
    if not references:
        return sources_empty()
    items = "".join(
        f'<a class="src ref" href="{link("cite", r.case_id, r.start, r.end)}"><div class="src-body">'
        f"<div class='src-title'>《{esc(short(r.case_title, 40))}》</div>"
        f"<div class='src-meta'>{esc(r.author)}</div>"
        f"<div class='src-meta'>章节：{esc(r.section or '开头')}</div>"
        f"<div class='src-quote'>{esc(r.why)}</div></div></a>"
        for r in references
    )
    return (
        f"<div class='panel sources'><div class='panel-title'>可参考（{len(references)}）</div>"
        f"<div class='src-list'>{items}</div></div>"
    )


def gaps(topics, since: str | None = None) -> str:
    """Content gaps for trainers: the uncovered topics practitioners asked about, grouped and counted."""
    intro = (
        "<div class='gaps-intro'>提问者问到、但讲稿没有讲到（或只讲到一部分）的话题，按提问次数排序："
        "这是下一批讲稿可以补上的内容。</div>"
    )
    if not topics:
        return f"<div class='gaps'>{intro}<div class='empty'>还没有记录到讲稿未覆盖的提问。</div></div>"
    rows = "".join(
        f"<tr><td class='gap-topic'>{esc(t.topic)}</td><td class='gap-count'>{t.count}</td>"
        f"<td>{t.none}</td><td>{t.partial}</td><td>{esc(t.last_asked)}</td>"
        f"<td class='gap-questions'>{'<br>'.join(esc(short(q, 60)) for q in t.questions)}</td></tr>"
        for t in topics
    )
    total = sum(t.count for t in topics)
    return (
        f"<div class='gaps'>{intro}<div class='list-count'>{len(topics)} 个话题，{total} 次提问</div>"
        "<table class='gaps-table'><thead><tr><th>话题</th><th>次数</th><th>没有</th><th>部分</th>"
        f"<th>最近</th><th>提问举例</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def sources_empty() -> str:
    return "<div class='panel sources'><div class='panel-title'>出处</div><div class='empty'>回答中引用的讲稿会列在这里。</div></div>"


def sources(citations, cases: dict) -> str:
    if not citations:
        return sources_empty()
    items = []
    for c in citations:
        case = cases.get(c.case_id)
        where = place(case) if case else ""
        role = (case.role or "") if case else ""
        author = case.author if case else c.author
        items.append(
            f'<a class="src" href="{link("cite", c.case_id, c.start, c.end)}">'
            f'<span class="cite">{c.n}</span><div class="src-body">'
            f"<div class='src-title'>《{esc(short(c.case_title, 40))}》</div>"
            f"<div class='src-meta'>{esc(author)} · {esc(where)}{esc(role)}</div>"
            f"<div class='src-meta'>章节：{esc(c.section or '开头')}</div>"
            f"<div class='src-quote'>“{esc(short(c.quote, 70))}”</div></div></a>"
        )
    return (
        f"<div class='panel sources'><div class='panel-title'>出处（{len(citations)}）</div>"
        f"<div class='src-list'>{''.join(items)}</div></div>"
    )


def viewer_empty() -> str:
    return "<div class='panel viewer'><div class='panel-title'>原文</div><div class='empty'>点击回答或出处中的编号，在这里查看讲稿原文，引用的句子会高亮显示。</div></div>"


def case_text(case, start: int = -1, end: int = -1, prefix: str = "t") -> str:
    """The case's paragraphs (headings as headings), ``case.text[start:end]`` in ``<mark>``.

    Every section start gets an anchor ``{prefix}-sec-{i}`` for the outline.
    """
    anchors: dict[int, list[str]] = {}
    for i, s in enumerate(case.sections):
        anchors.setdefault(s.start, []).append(f"{prefix}-sec-{i}")
    text = case.text
    first_mark = True
    out = []
    for p in case.paragraphs:
        cuts = {p.start, p.end}
        cuts.update(a for a in anchors if p.start <= a < p.end)
        if start >= 0 and end > start:
            cuts.update(x for x in (start, end) if p.start < x < p.end)
        bounds = sorted(cuts)
        pieces: list[str] = []
        for a, b in zip(bounds, bounds[1:]):
            pieces.extend(f"<span id='{x}'></span>" for x in anchors.get(a, []))
            seg = esc(text[a:b])
            if start >= 0 and start <= a and b <= end and b > a:
                ident = f" id='{prefix}-hl'" if first_mark else ""
                seg = f"<mark{ident}>{seg}</mark>"
                first_mark = False
            pieces.append(seg)
        tag = "h3" if p.heading_level else "p"  # under the case's title (an h2 in the viewer and the library)
        out.append(f"<{tag}>{''.join(pieces)}</{tag}>")
    # focusable: a keyboard user scrolls the script with the arrow keys
    return f"<div class='case-text' tabindex='0' role='region' aria-label='讲稿原文'>{''.join(out)}</div>"


def passage_view(case, start: int, end: int) -> str:
    """The script beside the chat, the span ``start``–``end`` highlighted (-1: none, the whole script)."""
    from assistant.citations import section_label

    section = section_label(case, start) if start >= 0 else ""
    where = f"章节：{esc(section or '开头')} · " if start >= 0 else ""
    return (
        "<div class='panel viewer'><div class='panel-title'>原文</div><div class='viewer-head'>"
        f"<h2 class='v-title'>《{esc(case.title)}》</h2>"
        f"<div class='v-meta'>{esc(case.author_line)} · {esc(case.community_type)}</div>"
        f"<div class='v-meta'>{where}"
        f"<a class='open-case' href='{link('case', case.id, start, end)}'>在案例库中打开全文与案例卡片</a></div></div>"
        f"{case_text(case, start, end, 'qa')}</div>"
    )


def passage_choices(passages) -> list[tuple[str, str]]:
    """The 段落 dropdown of the link form: "3. 章节 · 开头几句…" → ``"start-end"``."""
    out = []
    for n, p in enumerate(passages, 1):
        section = short(p.section[-1], 14) + " · " if p.section else ""
        out.append((f"{n}. {section}{short(p.text, 40)}", f"{p.start}-{p.end}"))
    return out


# ---------------------------------------------------------------------------
# cards


def _tags(tags, shared=()) -> str:
    return "".join(f"<span class='tag{' shared' if t in shared else ''}'>{esc(t)}</span>" for t in tags)


def _top_measures(card, limit: int = 5) -> list:
    """The card's weightiest measures, in the order the script tells them."""
    top = sorted(card.measures, key=lambda m: -m.weight)[:limit]
    return sorted(top, key=lambda m: m.citation.start)


def _outcome_html(o) -> str:
    text = esc(short(o.quote, 120))
    for num in sorted(set(o.numbers), key=len, reverse=True):
        text = text.replace(esc(num), f"<b>{esc(num)}</b>", 1)
    return text


def card_body(card, *, outcomes: int = 3, methods: bool = True) -> str:
    """遇到的问题, 主要做法 (named methods first), 成效 and 启示 of a card, each item linked to its span."""
    parts = []
    if card.problem:
        problem = "".join(
            f"<li>{esc(short(c.quote, 120))} <a class='more' href='{link('case', card.case_id, c.start, c.end)}'>原文</a></li>"
            for c in card.problem
        )
        parts.append(f"<div class='card-sec'><div class='label'>遇到的问题</div><ul>{problem}</ul></div>")
    measures = _top_measures(card)
    if (card.methods and methods) or measures:
        items = [
            f"<li><a href='{link('case', card.case_id, m.definition.start, m.definition.end)}' "
            f"title='{esc(short(m.definition.quote, 120))}'><b>{esc(m.name)}</b></a></li>"
            for m in (card.methods[:5] if methods else [])
        ]
        items += [
            f"<li><a href='{link('case', card.case_id, m.citation.start, m.citation.end)}' "
            f"title='{esc(short(m.citation.quote, 160))}'>{esc(m.label)}</a></li>"
            for m in measures
        ]
        parts.append(f"<div class='card-sec'><div class='label'>主要做法</div><ul>{''.join(items)}</ul></div>")
    if card.outcomes:
        items = [
            f"<li>{_outcome_html(o)} <a class='more' href='{link('case', card.case_id, o.citation.start, o.citation.end)}'>原文</a></li>"
            for o in card.outcomes[:outcomes]
        ]
        parts.append(f"<div class='card-sec'><div class='label'>成效</div><ul>{''.join(items)}</ul></div>")
    if card.lessons and card.lessons.points:
        parts.append(
            f"<div class='card-sec'><div class='label'>启示</div><ul>{''.join(f'<li>{esc(p)}</li>' for p in card.lessons.points[:4])}</ul></div>"
        )
    return "".join(parts)


def _why_html(r) -> str:
    """为什么相似, its quoted situation and the measure worth borrowing linked to their spans."""
    reason = getattr(r, "reason", None)
    text = esc(r.why or "问题描述语义相近")
    if reason is None:
        return text
    cid = r.card.case_id
    m = re.search(r"“[^”]*”", r.why)
    if m and reason.situation is not None:
        quoted = esc(m.group(0))
        href = link("case", cid, reason.situation.start, reason.situation.end)
        text = text.replace(quoted, f"<a href='{href}'>{quoted}</a>", 1)
    if reason.measure_name and reason.measure is not None:
        name = esc(reason.measure_name)
        href = link("case", cid, reason.measure.start, reason.measure.end)
        at = text.rfind(name)
        if at >= 0:
            text = text[:at] + f"<a href='{href}'>{name}</a>" + text[at + len(name) :]
    return text


def similar_cards(results) -> str:
    if not results:
        return "<div class='empty'>没有找到相似的案例。</div>"
    out = []
    for r in results:
        c = r.card
        passages = "".join(
            f"<li><span class='sec'>{esc(p.citation.section or '开头')}</span>"
            f"“{esc(short(p.citation.quote, 150))}” "
            f"<a class='more' href='{link('case', c.case_id, p.citation.start, p.citation.end)}'>查看原文</a></li>"
            for p in r.passages
        )
        out.append(
            f"<div class='case-card' data-case='{esc(c.case_id)}'>"
            f"<div class='card-head'><span class='rank'>{r.rank}</span><div>"
            f"<div class='card-title'><a href='{link('case', c.case_id)}'>《{esc(c.title)}》</a></div>"
            f"<div class='card-meta'>{esc(c.author_line)} · {esc(c.community_type)}</div></div></div>"
            f"<div class='tags'>{_tags(c.tags, r.shared_tags)}</div>"
            f"<div class='why'>为什么相似：{_why_html(r)}</div>"
            f"{card_body(c, outcomes=2)}"
            f"<div class='card-sec'><div class='label'>相似段落</div><ul class='passages'>{passages}</ul></div>"
            "</div>"
        )
    return f"<div class='cards'>{''.join(out)}</div>"


# ---------------------------------------------------------------------------
# 案例库


def case_choices(cards: dict) -> list[tuple[str, str]]:
    return [
        (f"{c.community}｜{c.author}｜《{short(c.title, 22)}》", c.case_id)
        for c in sorted(cards.values(), key=lambda c: c.case_id)
    ]


def _tag_counts(cards: dict) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for c in cards.values():
        for t in c.tag_counts:
            counts[t] = counts.get(t, 0) + 1
    return sorted(counts.items(), key=lambda x: (-x[1], x[0]))


def topic_choices(cards: dict) -> list[tuple[str, str]]:
    return [(f"{t}（{n} 个案例）", t) for t, n in _tag_counts(cards)]


def tag_choices(cards: dict) -> list[tuple[str, str]]:
    return [("全部", "全部")] + topic_choices(cards)


def town_choices(cards: dict) -> list[str]:
    return ["全部"] + sorted({c.town or "（未注明）" for c in cards.values()})


def case_list(cards: list) -> str:
    if not cards:
        return "<div class='empty'>没有符合条件的案例，请放宽筛选条件。</div>"
    tiles = "".join(
        f"<a class='case-tile' href='{link('case', c.case_id)}' data-case='{esc(c.case_id)}'>"
        f"<div class='tile-title'>《{esc(short(c.title, 36))}》</div>"
        f"<div class='tile-meta'>{esc(c.author)} · {esc(place(c))} · {esc(c.community_type)}</div>"
        f"<div class='tags'>{_tags(c.tags[:4])}</div></a>"
        for c in cards
    )
    return f"<div class='list-count'>共 {len(cards)} 个案例，点击查看全文、目录与案例卡片</div><div class='case-grid'>{tiles}</div>"


def outline(case, prefix: str) -> str:
    items = [
        f"<li class='lv{min(s.level, 4)}'><a href='#jump/{prefix}-sec-{i}'>{esc(short(s.title, 30))}</a></li>"
        for i, s in enumerate(case.sections)
        if not s.inline or s.level <= 3
    ]
    return f"<ul class='outline'>{''.join(items)}</ul>" if items else "<div class='empty'>（讲稿没有小标题）</div>"


def case_detail(case, card, start: int = -1, end: int = -1) -> str:
    instructor = f" · 指导老师：{esc(case.instructor)}" if case.instructor else ""
    methods = ""
    if card and card.methods:
        methods = "".join(
            f"<li><a href='{link('case', case.id, m.definition.start, m.definition.end)}'><b>{esc(m.name)}</b></a>"
            f"<div class='def'>{esc(short(m.definition.quote, 110))}</div></li>"
            for m in card.methods
        )
        methods = f"<div class='card-sec'><div class='label'>提出的方法（{len(card.methods)}）</div><ul class='methods'>{methods}</ul></div>"
    body = card_body(card, methods=False) if card else ""
    tags = _tags(card.tags) if card else ""
    return (
        f"<div class='detail' data-case='{esc(case.id)}'>"
        f"<div class='detail-head'><h2>《{esc(case.title)}》</h2>"
        f"<div class='card-meta'>{esc(case.author_line)} · {esc(case.community_type)}{instructor}</div>"
        f"<div class='tags'>{tags}</div></div>"
        "<div class='detail-grid'><div class='detail-side'>"
        f"<div class='card-sec'><div class='label'>目录</div>{outline(case, 'lib')}</div>"
        f"{body}{methods}</div>"
        f"<div class='viewer detail-text'>{case_text(case, start, end, 'lib')}</div></div></div>"
    )


# ---------------------------------------------------------------------------
# 培训讨论题


def handout_empty() -> str:
    return "<div class='empty big'>在左侧选择案例或话题，点“生成讨论题”。生成后可以下载 Word 或 Markdown 讲义。</div>"


def _handout_chips(text: str, sources: list) -> str:
    out, pos = [], 0
    for m in ANSWER_MARKER.finditer(text):
        out.append(esc(text[pos : m.start()]))
        n = int(m.group(1))
        if 1 <= n <= len(sources):
            c, _ = sources[n - 1]
            out.append(f'<a class="cite" href="{link("case", c.case_id, c.start, c.end)}" aria-label="资料来源 {n}">{n}</a>')
        else:
            out.append(esc(m.group(0)))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def handout_view(h) -> str:
    notice = f"<div class='notice'>※ {esc(h.notice)}</div>" if h.notice else ""
    # for the trainer's eyes: not part of the handout the class gets (Markdown / Word)
    note = getattr(h, "trainer_note", None)
    if note:
        notice += f"<div class='notice trainer-note'>给培训者（不随讲义导出）：{esc(note)}</div>"
    summary = "".join(f"<li>{_handout_chips(s, h.sources)}</li>" for s in h.summary)
    questions = "".join(
        f"<li><span class='kind'>{esc(q.kind)}</span>{_handout_chips(q.text, h.sources)}</li>" for q in h.questions
    )
    sources = "".join(
        f"<li><a href='{link('case', c.case_id, c.start, c.end)}'>《{esc(short(card.title, 30))}》</a>"
        f" {esc(card.author_line)} · {esc(c.section or '开头')}<blockquote class='src-quote'>{esc(c.quote)}</blockquote></li>"
        for c, card in h.sources
    )
    return (
        f"<div class='handout'><h2>{esc(h.title)}</h2>{notice}"
        f"<h3>案例概要</h3><ul>{summary}</ul>"
        f"<h3>讨论题（{len(h.questions)}）</h3><ol class='questions'>{questions}</ol>"
        f"<h3>资料来源</h3><ol class='handout-sources'>{sources}</ol></div>"
    )


def handout_filename(label: str) -> str:
    safe = re.sub(r"[\\/:*?\"<>|\s]+", "", label)[:30] or "讲义"
    return f"讨论题-{safe}"


def metadata_note(error) -> str:
    """A script the fields of 单篇讲稿的补充信息 would fix, or that they cannot apply to, in the form's words."""
    if error.scripts:
        return (
            f"{error.file}：包含 {error.scripts} 篇讲稿，会按作者行自动拆分，补充信息用不上。"
            "请先清空“单篇讲稿的补充信息”，再点“添加到案例库”。"
        )
    names = "和".join({"title": "标题", "author": "作者"}.get(k, k) for k in error.missing)
    return (
        f"{error.file}：没有找到作者行，无法确定{names}。请在下方“单篇讲稿的补充信息”中填写{names}"
        "（社区、街道 / 镇、职务也可一并填写），再点“添加到案例库”。"
    )


def upload_report(report, case_ids=()) -> str:
    """What an upload added, skipped and refused; no ids, offsets or command-line flags."""
    parts = []
    for p in report.added:
        names = "；".join(f"《{short(c.title, 30)}》（{c.author}）" for c in p.cases)
        parts.append(f"<li class='ok'>已添加 {esc(p.source.name)}：{len(p.cases)} 个案例 — {esc(names)}</li>")
    for note in report.already:
        parts.append(f"<li>跳过 {esc(re.sub(r'（已在语料库中：[^）]*）', '（已在案例库中）', note))}</li>")
    by_field = {str(m): m for m in getattr(report, "metadata", [])}
    for e in report.errors:
        text = metadata_note(by_field[e]) if e in by_field else plain(e, case_ids)
        parts.append(f"<li class='bad'>未添加：{esc(text)}</li>")
    links = getattr(report, "links", None)
    if links is not None and links.links:
        parts.append(f"<li>大模型为新讲稿写了 {len(links.links)} 个关联问题。</li>")
    if links is not None and links.notice:
        parts.append(f"<li>{esc(links.notice)}</li>")
    if report.build:
        b = report.build
        parts.append(f"<li>案例库已更新：现有 {b.n_cases} 个案例。问答、找相似案例和培训讨论题都已可以用上新讲稿。</li>")
    if not parts:
        parts.append("<li>没有可添加的文件。</li>")
    return f"<ul class='upload-report'>{''.join(parts)}</ul>"


# ---------------------------------------------------------------------------

CSS = """
.gradio-container { max-width: 1320px !important; width: 100% !important; margin: 0 auto; }
#tabs, #tabs > .tabitem, #tab-library { width: 100%; }
.app-header { display:flex; justify-content:space-between; align-items:center; gap:16px; flex-wrap:wrap;
  padding: 14px 18px; border-radius: 12px; background: linear-gradient(90deg,#9f1239 0%,#b91c1c 60%,#c2410c 100%); color:#fff; }
.app-header h1 { margin:0; font-size:1.45rem; font-weight:700; color:#fff; letter-spacing:.02em; }
.app-header p { margin:2px 0 0; opacity:.92; font-size:.92rem; color:#fff; }
.brand { display:flex; gap:12px; align-items:center; }
.logo { width:42px; height:42px; border-radius:10px; background:#fff; color:#b91c1c; font-weight:800; font-size:1.4rem;
  display:flex; align-items:center; justify-content:center; }
.mode { font-size:.9rem; display:flex; gap:8px; align-items:center; color:#fff; }
.mode-badge { background:#fff; color:#9f1239; border-radius:999px; padding:3px 12px; font-weight:600; }
.mode-badge.llm { background:#fef3c7; color:#92400e; }
.mode .user { margin-left:10px; opacity:.95; } .mode .logout { color:#fff; text-decoration:underline; }
.intro { color:#57534e; font-size:.95rem; padding:4px 2px; }
.welcome { text-align:center; color:#44403c; padding: 8px 24px; }
.welcome h2 { font-size:1.2rem; margin-bottom:6px; } .welcome .hint { color:#57534e; font-size:.9rem; }
#chat .q { white-space: pre-wrap; }
#chat .prose.chatbot.md { opacity: 1 !important; }  /* Gradio fades chat text to 80 %: below 4.5:1 contrast */
.ans p { margin: 0 0 8px; line-height:1.75; }
.ans p.lead { color:#44403c; font-size:.92rem; }
.ans .block { border-left:3px solid #fecaca; padding:2px 0 2px 10px; margin:8px 0 10px; }
.ans .block-head { display:flex; align-items:baseline; gap:6px; margin-bottom:2px; }
.ans .block-n { display:inline-flex; align-items:center; justify-content:center; width:1.4em; height:1.4em; border-radius:999px;
  background:#b91c1c; color:#fff; font-size:.78rem; font-weight:700; }
.ans .block-where { color:#57534e; font-size:.85rem; }
.ans .block p.measure { margin:0 0 4px; }
.ans .block p.result { margin:0 0 4px; color:#44403c; }
.ans .result-label { display:inline-block; background:#dcfce7; color:#166534; border-radius:4px; padding:0 6px; margin-right:6px;
  font-size:.8rem; font-weight:600; }
.ans.refusal p.lead { color:#9a3412; font-weight:600; }
.ans.not-covered .coverage-note { background:#f0f9ff; border-left:3px solid #7dd3fc; padding:6px 10px; border-radius:6px; color:#0c4a6e; }
.ans.not-covered .coverage-note p { margin:0 0 4px; }
.ans.not-covered .examples { margin:4px 0 0; padding-left:18px; color:#075985; }
.references { margin-top:10px; padding:6px 10px; border:1px dashed #d6d3d1; border-radius:8px; background:#fafaf9; }
.references .ref-label { font-weight:700; color:#57534e; font-size:.9rem; }
.references .ref-label span { font-weight:400; color:#57534e; font-size:.8rem; }
.references ul { margin:4px 0 0; padding-left:18px; } .references li { margin:4px 0; line-height:1.6; }
.references a.ref { color:#44403c !important; font-weight:600; text-decoration:none !important; }
.references a.ref:hover { text-decoration:underline !important; }
.references .ref-author { font-size:.8rem; color:#57534e; margin-left:6px; } .references .ref-why { font-size:.84rem; color:#57534e; }
.ans p.partial-note { background:#fffbeb; border-left:3px solid #fbbf24; padding:4px 8px; border-radius:4px; color:#78350f; font-size:.92rem; }
.gaps-intro { color:#57534e; font-size:.9rem; margin-bottom:4px; }
.gaps-table { width:100%; border-collapse:collapse; font-size:.88rem; }
.gaps-table th { text-align:left; color:#57534e; font-weight:600; border-bottom:1px solid #e7e5e4; padding:4px 6px; }
.gaps-table td { border-bottom:1px solid #f5f5f4; padding:4px 6px; vertical-align:top; }
.gaps-table .gap-topic { font-weight:700; color:#9f1239; } .gaps-table .gap-count { font-weight:700; }
.gaps-table .gap-questions { color:#57534e; font-size:.82rem; }
.ans-meta { margin-top:6px; font-size:.8rem; color:#57534e; border-top:1px dashed #e7e5e4; padding-top:4px; }
.ans .notice, .notice { background:#fffbeb; border-left:3px solid #f59e0b; padding:4px 8px; margin:6px 0; font-size:.86rem; color:#78350f; }
.ans.pending .dots::after { content:'…'; animation: blink 1s infinite; }
.ans .cursor { animation: blink 1s infinite; color:#b91c1c; }
@keyframes blink { 50% { opacity: 0; } }
a.cite, span.cite { display:inline-flex; align-items:center; justify-content:center; min-width:1.35em; height:1.35em;
  padding:0 4px; margin:0 2px; border-radius:999px; background:#fee2e2; color:#991b1b !important; font-size:.75em;
  font-weight:700; text-decoration:none !important; vertical-align: super; line-height:1; cursor:pointer; border:1px solid #fecaca; }
a.cite:hover { background:#b91c1c; color:#fff !important; }
.unsupported { color:#9a3412; font-size:.85em; }
.panel, .cards, .case-grid, .detail, .handout, .src-body, .case-tile, .case-card { text-align:left !important; }
.sources .src-list { max-height: 250px; overflow-y:auto; }
.panel { border:1px solid #e7e5e4; border-radius:10px; background:#fff; padding:10px 12px; margin-bottom:10px; }
.panel-title { font-weight:700; color:#44403c; margin-bottom:6px; font-size:.95rem; }
.empty { color:#57534e; font-size:.9rem; padding:6px 0; } .empty.big { padding:40px; text-align:center; }
a.src { display:flex; gap:8px; padding:7px 6px; border-radius:8px; text-decoration:none !important; color:inherit !important; border-bottom:1px solid #f5f5f4; }
a.src:hover { background:#fef2f2; }
a.src span.cite { vertical-align: baseline; margin-top:3px; flex-shrink:0; }
.src-title { font-weight:600; font-size:.9rem; color:#292524; }
.src-meta { font-size:.8rem; color:#57534e; } .src-quote { font-size:.82rem; color:#57534e; margin-top:2px; }
.viewer-head { border-bottom:1px solid #f5f5f4; padding-bottom:6px; margin-bottom:6px; }
.v-title { font-weight:700; color:#292524; font-size:1rem; margin:0; } .v-meta { font-size:.8rem; color:#57534e; }
.v-meta a.open-case { color:#9f1239 !important; text-decoration:underline; font-weight:600; }
.case-text { max-height: 440px; overflow-y:auto; padding-right:6px; font-size:.92rem; line-height:1.8; color:#292524; }
.case-text h3 { margin: 12px 0 4px; font-size:.98rem; color:#9f1239; }
.case-text p { margin: 0 0 8px; text-indent: 2em; }
.case-text mark { background:#fde68a; padding:1px 0; border-radius:2px; box-shadow: 0 0 0 2px #fde68a; }
.msg-error { background:#fef2f2; color:#991b1b; border:1px solid #fecaca; padding:8px 12px; border-radius:8px; font-size:.92rem; display:flex; gap:8px; align-items:flex-start; }
.msg-error .icon { flex-shrink:0; width:1.3em; height:1.3em; border-radius:999px; background:#dc2626; color:#fff; font-weight:800; display:inline-flex; align-items:center; justify-content:center; font-size:.85em; margin-top:.15em; }
.msg-ok { color:#166534; font-size:.9rem; padding:4px 2px; }
.cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap:14px; }
.case-card { border:1px solid #e7e5e4; border-radius:12px; background:#fff; padding:14px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
.card-head { display:flex; gap:10px; align-items:flex-start; }
.rank { background:#b91c1c; color:#fff; border-radius:8px; min-width:28px; height:28px; display:flex; align-items:center; justify-content:center; font-weight:700; }
.card-title a { font-weight:700; color:#292524 !important; text-decoration:none !important; font-size:1rem; }
.card-title a:hover { color:#b91c1c !important; }
.card-meta { font-size:.82rem; color:#57534e; margin-top:2px; }
.tags { margin:8px 0 4px; display:flex; flex-wrap:wrap; gap:5px; }
.tag { background:#f5f5f4; color:#57534e; border-radius:999px; padding:1px 9px; font-size:.78rem; }
.tag.shared { background:#fee2e2; color:#991b1b; font-weight:600; }
.why { font-size:.85rem; color:#9a3412; margin: 4px 0 6px; line-height:1.6; }
.why a { color:#9a3412 !important; text-decoration: underline dotted !important; }
.card-sec { margin-top:8px; font-size:.88rem; color:#44403c; }
.card-sec .label { font-weight:700; color:#9f1239; font-size:.82rem; margin-bottom:2px; letter-spacing:.05em; }
.card-sec ul { margin:0; padding-left:18px; } .card-sec li { margin:2px 0; line-height:1.6; }
.card-sec a { color:#9f1239 !important; text-decoration:none !important; } .card-sec a:hover { text-decoration:underline !important; }
a.more { font-size:.78rem; color:#b91c1c !important; }
.passages .sec { display:inline-block; font-size:.75rem; color:#57534e; background:#fafaf9; border-radius:4px; padding:0 5px; margin-right:4px; }
.list-count { color:#57534e; font-size:.88rem; margin: 4px 0 8px; }
.case-grid { display:grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap:10px; }
a.case-tile { display:block; border:1px solid #e7e5e4; border-radius:10px; background:#fff; padding:10px 12px; text-decoration:none !important; color:inherit !important; transition: all .15s; }
a.case-tile:hover { border-color:#f87171; box-shadow: 0 2px 8px rgba(185,28,28,.12); }
.tile-title { font-weight:700; font-size:.92rem; color:#292524; } .tile-meta { font-size:.8rem; color:#57534e; margin-top:2px; }
.detail { margin-top:14px; border-top:3px solid #b91c1c; background:#fff; border-radius:10px; padding:14px 16px; }
.detail-head h2 { margin:0 0 4px; font-size:1.25rem; }
.detail-grid { display:grid; grid-template-columns: minmax(260px, 2fr) 3fr; gap:18px; margin-top:10px; }
@media (max-width: 900px) { .detail-grid { grid-template-columns: 1fr; } }
.detail-text .case-text { max-height: 640px; }
.outline { list-style:none; padding-left:0 !important; max-height:220px; overflow-y:auto; }
.outline li.lv2 { padding-left:12px; } .outline li.lv3 { padding-left:24px; font-size:.84rem; } .outline li.lv4 { padding-left:36px; font-size:.8rem; }
.outline a { color:#44403c !important; text-decoration:none !important; } .outline a:hover { color:#b91c1c !important; }
.methods .def { font-size:.8rem; color:#57534e; }
.handout { background:#fff; border:1px solid #e7e5e4; border-radius:12px; padding:16px 22px; }
.handout h2 { font-size:1.2rem; margin-top:0; } .handout h3 { font-size:1rem; color:#9f1239; margin:14px 0 6px; }
.handout li { line-height:1.75; margin:4px 0; }
.kind { display:inline-block; background:#fef3c7; color:#92400e; border-radius:6px; padding:0 7px; margin-right:6px; font-size:.8rem; font-weight:700; }
.handout-sources { font-size:.86rem; }
.handout-sources blockquote { margin:2px 0 6px; padding:2px 10px; border-left:3px solid #fecaca; color:#57534e; }
.upload-report li.ok { color:#166534; } .upload-report li.bad { color:#991b1b; }
#feedback-box { margin-top:4px; border:1px solid #e7e5e4; border-radius:10px; background:#fff; padding:8px 10px; }
#feedback-box .form, #feedback-box .block { border:none !important; box-shadow:none !important; background:transparent !important; }
#relate-box { border-top:1px dashed #e7e5e4; margin-top:6px; padding-top:6px; }
footer { display:none !important; }
#upload-status { min-height: 60px; }
#share-row { align-items:center; gap:8px; flex-wrap:wrap; }
#share-row > .block, #share-row .html-container { border:none !important; box-shadow:none !important; background:transparent !important; padding:0 !important; }
#share-status .msg-ok, #share-status .msg-error { padding:2px 4px; }

/* Keyboard focus: a 3 px ring on everything that takes the keyboard, inside the box for fields
   (their blocks clip what lies outside). */
a:focus-visible, button:focus-visible, summary:focus-visible, [role=tab]:focus-visible, [role=button]:focus-visible,
[tabindex]:not([tabindex="-1"]):focus-visible, input[type=range]:focus-visible, input[type=radio]:focus-visible,
input[type=checkbox]:focus-visible {
  outline: 3px solid #1d4ed8 !important; outline-offset: 2px !important; box-shadow: none; }
textarea:focus-visible, input:not([type=range]):not([type=radio]):not([type=checkbox]):focus-visible, select:focus-visible {
  outline: 3px solid #1d4ed8 !important; outline-offset: -3px !important; }
#tabs [role=tab]:focus-visible, .case-tile:focus-visible, a.src:focus-visible { outline-offset: -3px !important; }

/* A phone: the header on one line, all four tabs in view, the question box and its buttons on one row. */
@media (max-width: 640px) {
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  .app-header { padding: 8px 12px; gap: 4px 10px; }
  .app-header p { display:none; }
  .app-header h1 { font-size:1.08rem; }
  .logo { width:30px; height:30px; font-size:1.05rem; border-radius:8px; }
  .mode { font-size:.8rem; }
  #tabs [role=tab] { padding: 6px 9px !important; font-size: .95rem; }
  #ask-row { flex-wrap: nowrap !important; gap: 6px !important; }
  #ask-row > * { min-width: 0 !important; }
  #ask-row button { padding-left: 8px !important; padding-right: 8px !important; white-space: nowrap; flex-shrink: 0; }
  .cards { grid-template-columns: 1fr; }
}
"""
