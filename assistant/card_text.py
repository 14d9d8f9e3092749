"""Text views of case cards for the CLI (``assistant cases``, ``case``, ``methods``).

Every extracted item is shown with its source: case id, section and the
character offsets of the quote in the case text.

Example::

    >>> from assistant.cards import load_cards
    >>> from assistant.card_text import card_line, render_card, render_method
    >>> cards = load_cards("corpus")
    >>> print(card_line(cards["sj2025-03"]))
    >>> print(render_card(cards["sj2025-12"]))
    >>> m = cards["sj2025-12"].methods[0]
    >>> print(render_method(m, cards[m.case_id]))
"""

from __future__ import annotations

from assistant.cards import CaseCard, Method
from assistant.citations import Citation


def card_line(card: CaseCard) -> str:
    """One line per case (two with its tags): id, author line, community type, title."""
    return f"{card.case_id}  {card.author_line}  [{card.community_type}]  《{card.title}》\n    标签：{'、'.join(card.tags) or '（无）'}"


def render_card(card: CaseCard) -> str:
    """The whole card as readable text, every extracted item with its source."""

    def src(c: Citation) -> str:
        return f"（{c.case_id} · {c.section or '开头'} · 第 {c.start}–{c.end} 字）"

    out = [
        f"《{card.title}》  [{card.case_id}]",
        f"讲述人：{card.author}" + (f"（{card.role}）" if card.role else ""),
        f"地点：{card.town or '（未注明街镇）'} {card.community}（{card.community_type}）",
        f"指导老师：{card.instructor or '（未注明）'}",
        f"标签：{'、'.join(f'{t}×{card.tag_counts[t]}' for t in card.tags) or '（无）'}",
        "",
        "【遇到的问题】",
    ]
    out += [f"  “{' '.join(c.quote.split())}”{src(c)}" for c in card.problem] or ["  （未识别）"]
    out += ["", "【主要做法】"]
    out += [f"  - {c.section or '（开头）'}" for c in card.measures] or ["  （未识别）"]
    out += ["", "【提出的方法】"]
    for m in card.methods:
        out.append(f"  {m.name}（出现 {m.mentions} 次）")
        out.append(f"    “{' '.join(m.definition.quote.split())}”{src(m.definition)}")
    if not card.methods:
        out.append("  （讲稿中没有命名的方法）")
    out += ["", "【带数字的成效】"]
    out += [f"  - “{o.quote}”{src(o.citation)}" for o in card.outcomes] or ["  （讲稿未给出带数字的成效）"]
    out += ["", "【启示】"]
    if card.lessons:
        out.append(f"  {card.lessons.title}{src(card.lessons.citation)}")
        out += [f"  - {p}" for p in card.lessons.points]
        text = " ".join(card.lessons.citation.quote.split())
        out.append(f"  “{text[:300]}{'……' if len(text) > 300 else ''}”")
    else:
        out.append("  （讲稿未单列启示部分）")
    return "\n".join(out)


def method_record(m: Method, card: CaseCard) -> dict:
    """A method as ``assistant methods --json`` prints it: the method, its case's title and author."""
    return m.to_dict() | {"case_title": card.title, "author": card.author}


def render_method(m: Method, card: CaseCard) -> str:
    """A named method, the community that proposed it and the passage that defines it."""
    d = m.definition
    return (
        f"{m.name}  —— {card.community}（{card.author}，{m.case_id}）\n"
        f"    “{' '.join(d.quote.split())}”\n    （{d.section or '开头'} · 第 {d.start}–{d.end} 字）"
    )
