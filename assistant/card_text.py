"""Text views of case cards for the CLI (``assistant cases``, ``case``, ``methods``).

Every extracted item is shown with the section it is quoted from (the JSON
views, ``--json``, carry the character offsets of each quote).

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


def _where(c: Citation) -> str:
    """Where a quote is in its script, as a reader finds it: the section, or the opening."""
    return f"（{c.section or '开头'}）"


def render_card(card: CaseCard) -> str:
    """The whole card as readable text, every extracted item with the section it is quoted from.

    ``assistant case ID --json`` gives the same items with their character offsets.
    """
    out = [
        f"《{card.title}》  [{card.case_id}]",
        f"讲述人：{card.author}" + (f"（{card.role}）" if card.role else ""),
        f"地点：{card.town or '（未注明街镇）'} {card.community}（{card.community_type}）",
        f"指导老师：{card.instructor or '（未注明）'}",
        f"标签：{'、'.join(f'{t}×{card.tag_counts[t]}' for t in card.tags) or '（无）'}",
        "",
        "【遇到的问题】",
    ]
    out += [f"  “{' '.join(c.quote.split())}”{_where(c)}" for c in card.problem] or ["  （讲稿没有单独陈述问题）"]
    out += ["", "【主要做法】"]
    for m in card.measures:
        out.append(f"  - {m.label}")
        if not m.label or m.label not in m.citation.quote:
            out.append(f"    “{' '.join(m.citation.quote.split())}”{_where(m.citation)}")
        else:
            out[-1] += _where(m.citation)
    if not card.measures:
        out.append("  （未识别）")
    out += ["", "【提出的方法】"]
    for method in card.methods:
        out.append(f"  {method.name}（出现 {method.mentions} 次）")
        out.append(f"    “{' '.join(method.definition.quote.split())}”{_where(method.definition)}")
    if not card.methods:
        out.append("  （讲稿中没有命名的方法）")
    out += ["", "【成效】"]
    out += [f"  - “{o.quote}”{_where(o.citation)}" for o in card.outcomes] or ["  （讲稿未给出带数字的成效）"]
    out += ["", "【启示】"]
    if card.lessons:
        out.append(f"  {card.lessons.title or '（结尾部分）'}")
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
    return f"{m.name}  —— {card.community}（{card.author}，{m.case_id}）\n    “{' '.join(d.quote.split())}”\n    {_where(d)}"
