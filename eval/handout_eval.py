"""Handouts for 5 cases and 5 topics, checked as a trainer would hand them out.

For each handout (asked for ``--n`` questions, 6 by default: drafted three times
over and chosen best-first among those passing the checks, one of each kind
first; a handout has fewer when the material runs out rather than a question
that does not fit) it prints:

- repeated quotes: spans quoted more than once (same words, or the same cited sentence);
- faults: what :func:`assistant.handout.question_faults` finds (a quote opening
  on a connective or in a sentence that does, cut mid-clause or before its
  consequence, a misspelling, a slogan; a role-play party not speaking in its
  own passage; a comparison of two measures that share no particular word; a quote
  left without the short clause saying where its statement is told of, "在12345平台,";
  a scene closing on the speaker's judgement of what matters, "…尤为重要");
- one story twice: two questions citing the same sentence;
- long quotes: quoted spans longer than ``QUOTE_CHARS`` (60) characters;
- fragments: quoted spans that do not read on their own
  (:func:`assistant.quoting.reads_alone`: half clauses, dangling openers, list
  numbering, Markdown residue, unpaired quotation marks) or point to something
  unnamed ("该群体", "这一…");
- slogans: quoted spans built on a slogan or a directive;
- off-topic quotes (topic handouts): quoted sentences outside what the
  community's script says about the topic (:func:`assistant.handout_material.scope`);
- role-play parties not backed by a sentence in which the party is the subject
  or the speaker, and parties cast although the story says they are gone;
- comparisons whose partner does not carry the problem (its tag, a related
  tag, or the kind of community);
- the largest pairwise overlap of two questions' own words (character-bigram
  Jaccard with the quotes left out) and whether it stays below ``MAX_OVERLAP``;
- internal ids ("sj2025-20") or character offsets in the Markdown, the .docx
  text and the UI preview; the .docx page size and language;
- across handouts: the cited sentences two handouts share.

These checks use the same functions the generator uses where a rule is one
(what reads on its own, what a party's stance is): they catch regressions, not
errors of the rule itself; the blind reading is the check of the rules.

``--sheet`` also writes the blind-reading sheet: the 10 handouts' Markdown
and, for calibration, ``--calibrate`` handouts of the first round (read back
from eval/blind/round1/, all graded "not usable" there), shuffled together and
numbered (eval/blind_handouts_sheet.md), and the key mapping numbers to case or
topic and round (eval/blind_handouts_key.json).

    .venv/bin/python eval/handout_eval.py [--n 6] [--sheet] [--seed 214] [--calibrate 3] [--prefix K] [--name blind_handouts]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import sys
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.errors import InputError  # noqa: E402
from blind_sheet import sheet_text, write_sheet  # noqa: E402
from assistant import handout_material as hm  # noqa: E402
from assistant.cards import load_cards  # noqa: E402
from assistant.handout import (  # noqa: E402
    Handout,
    MAX_OVERLAP,
    generic_bigrams,
    question_faults,
    QUOTE_CHARS,
    ask_faults,
    build_handout,
    max_overlap,
    to_docx_bytes,
    to_markdown,
)
from assistant.quoting import is_slogan, reads_alone  # noqa: E402
from assistant.taxonomy import load_taxonomy  # noqa: E402
from assistant.ui import render  # noqa: E402

CASES = ("sj2025-16", "sj2025-20", "sj2025-03", "sj2025-07", "sj2025-12")
TOPICS = ("新就业群体", "停车", "加装电梯", "业委会", "动迁安置")
INTERNAL = re.compile(r"sj\d{4}-\d+|第\s*\d+\s*[–-]\s*\d+\s*字")


def check(h, cards, topic: str | None = None) -> dict:
    from docx import Document

    taxonomy = load_taxonomy()
    tag = taxonomy.tag(topic) if topic else None
    quotes = [q for qu in h.questions for q in qu.quotes]
    spans = [(h.sources[n - 1][0].start, h.sources[n - 1][0].case_id) for qu in h.questions for n in _quoted_numbers(qu)]
    repeated = len(quotes) - len({re.sub(r"\s+", "", q) for q in quotes}) + len(spans) - len(set(spans))
    long_quotes = [q for q in quotes if len(q) > QUOTE_CHARS]
    fragments = [q for q in quotes if not reads_alone(q) or not hm.clear(q)]
    slogans = [q for q in quotes if is_slogan(q)]
    off_topic = []
    if tag is not None and tag.kind:  # a kind of community: every quote comes from a community of that kind
        of_kind = {c.case_id for c in hm.topic_cases(cards, tag)}
        off_topic = [c.quote[:30] for c, _ in h.sources if c.case_id not in of_kind]
    elif tag is not None:
        for c, card in h.sources:
            t = tag if tag.name in card.tag_counts or not tag.related else next(
                (taxonomy.tag(r) for r in tag.related if r in card.tag_counts), tag
            )
            keep = hm.scope(card, t)
            sent = next((s for s in card.story.sentences if s.start == c.start), None) if card.story else None
            used_as_stance = any(n for qu in h.questions for _, n in qu.parties if h.sources[n - 1][0] is c)
            if sent is not None and not keep(sent) and not (t.kind and used_as_stance):
                off_topic.append(c.quote[:30])
    unbacked, gone = [], []
    for qu in h.questions:
        for party, n in qu.parties:
            c, card = h.sources[n - 1]
            found = hm.stances(card, lambda s, c=c: s.start == c.start)
            if not any(st.label == party for st in found):
                unbacked.append(party)
            if any(st.label == party and st.absent for st in found):
                gone.append(party)
    mismatched = []
    for qu in h.questions:
        if qu.kind != "对比分析":
            continue
        ids = list(dict.fromkeys(h.sources[n - 1][0].case_id for n in qu.sources))
        if len(ids) != 2:
            mismatched.append(qu.text[:20])
            continue
        a, b = cards[ids[0]], cards[ids[1]]
        if tag is not None:
            names = {tag.name, *tag.related}
            if not any(x in a.tag_counts for x in names) or not any(x in b.tag_counts for x in names) and not hm.topic_cases({b.case_id: b}, tag):
                mismatched.append(qu.text[:20])
        elif not set(a.tag_counts) & set(b.tag_counts):
            mismatched.append(qu.text[:20])
    faults = [f for qu in h.questions for f in question_faults(qu, h.sources, generic_bigrams(cards))]
    same_asks = ask_faults(h.questions)
    # a case handout touches what the case is about: a question quotes a sentence naming its main tag (when its title
    # names it) — 黄桥村's 宅基地 平移归并, not only its 积分制 and its parking
    core = None
    if topic is None and h.sources:
        card = h.sources[0][1]
        main = taxonomy.tag(card.tags[0]) if card.tags else None
        if main is not None and hm.mentions(main, card.title):
            core = sum(any(hm.mentions(main, h.sources[n - 1][0].quote) for n in qu.sources) for qu in h.questions)
    cited_by = [n for qu in h.questions for n in qu.sources]
    md = to_markdown(h)
    data = to_docx_bytes(h)
    doc = Document(io.BytesIO(data))
    docx_text = "\n".join(p.text for p in doc.paragraphs)
    sec = doc.sections[0]
    styles = doc.styles.element.xml
    return {
        "questions": len(h.questions),
        "kinds": [q.kind for q in h.questions],
        "quotes": len(quotes),
        "repeated_quotes": repeated,
        "faults": faults,
        "same_asks": same_asks,
        "core": core,
        "trainer_note_in_text": int("本讲义未出" in md or "给培训者" in md or "本讲义未出" in docx_text),
        "story_twice": len(cited_by) - len(set(cited_by)),
        "long_quotes": len(long_quotes),
        "fragments": fragments,
        "slogans": slogans,
        "off_topic": off_topic,
        "max_overlap": round(max_overlap(h.questions), 3),
        "unbacked_parties": unbacked,
        "gone_parties": gone,
        "mismatched_compare": mismatched,
        "internal_ids": len(INTERNAL.findall(md + docx_text + re.sub(r"<[^>]+>", " ", render.handout_view(h)))),
        "a4": (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7),
        "zh_cn": 'w:eastAsia="zh-CN"' in styles and 'w:val="zh-CN"' in styles,
        "md": md,
        "cited": {(c.case_id, c.start) for c, _ in h.sources},
    }


def round1() -> list[tuple[str, int, int, int, set[str]]]:
    """The first round's handouts, read back from their blind sheet (eval/blind/round1/): per handout its label,
    questions, quotes, quotes not reading alone or unclear, slogans, and its quoted spans."""
    base = ROOT / "eval" / "blind" / "round1"
    key = json.loads((base / "blind_handouts_key.json").read_text(encoding="utf-8"))
    sheet = (base / "blind_handouts_sheet.md").read_text(encoding="utf-8")
    out = []
    for item, label in key.items():
        body = re.search(rf"^## {item}\n(.*?)(?=^## H\d+\n|\Z)", sheet, flags=re.S | re.M).group(1)
        questions = body.split("#### 资料来源")[0]
        quotes = re.findall(r"“([^”]*)”\[\d+\]", questions)
        bad = [q for q in quotes if not reads_alone(q) or not hm.clear(q)]
        out.append((label, len(re.findall(r"^\d+\. \*\*【", questions, flags=re.M)), len(quotes), len(bad),
                    sum(is_slogan(q) for q in quotes), {re.sub(r"\s+", "", q) for q in quotes}))
    return out


def round1_bodies() -> list[tuple[str, str, str]]:
    """The first round's handouts as the reader saw them: ``(round-1 item, label, Markdown body)``."""
    base = ROOT / "eval" / "blind" / "round1"
    key = json.loads((base / "blind_handouts_key.json").read_text(encoding="utf-8"))
    sheet = (base / "blind_handouts_sheet.md").read_text(encoding="utf-8")
    out = []
    for item, label in key.items():
        body = re.search(rf"^## {item}\n(.*?)(?=^---\n|^## H\d+\n|\Z)", sheet, flags=re.S | re.M).group(1)
        body = re.sub(r"\n\*\*能否直接使用：\*\*.*", "", body, flags=re.S)
        out.append((item, label, body.strip()))
    return out


def check_sheet(sheet_path: Path, key_path: Path, version: str) -> None:
    """The round-7 checks on the handouts of an earlier blind sheet (as the readers saw them): questions, two
    questions with one ask (a template variant or an ``@问`` mark, matched on the text, or the same first clause),
    "先试点、再推广" on a measure that is not a standing arrangement, a quote without its sentence's opening label,
    and the trainer's note printed in the handout."""
    from assistant.handout import Question, _AS_MEASURE, _lead_in, drops_label, load_templates, same_ask, standing

    key = json.loads(key_path.read_text(encoding="utf-8"))
    sheet = sheet_path.read_text(encoding="utf-8")
    variants = [t for ts in load_templates().values() for t in ts]

    def template_of(text: str):
        for t in variants:
            parts = [re.escape(x) for x in re.split(r"\{[a-z_]+\}", t.text)]
            if re.fullmatch(".*?".join(parts), text, flags=re.S):
                return t
        return None

    from assistant.citations import Citation
    from assistant.handout import class_faults, gives_away

    cards = load_cards(ROOT / "corpus")

    def item_of(sentence: str):
        for card in cards.values():
            for x in card.story.sentences if card.story else []:
                if x.text.strip() == sentence.strip():
                    return (Citation(card.case_id, "", x.text, x.start, x.end), card)
        return None

    round8 = re.compile(r"维度|成效没有数字|括号注释|只有第一步|后面的转折|抽象|几类问题|钱要用来|解决思路")
    print(
        "| item | handout | questions | same ask | 先试点 on a non-standing measure | quote without its label | trainer note in text"
        " | round-8 faults | later question tells an untold scene's outcome | head promises what no question asks |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for item, k in key.items():
        if k.get("version") != version:
            continue
        body = re.search(rf"^## {item}\n(.*?)(?=^---\n|\Z)", sheet, flags=re.S | re.M).group(1)
        head, _, src = body.partition("#### 资料来源")
        sentences = dict((int(n), q) for n, q in re.findall(r"^\*\*\[(\d+)\]\*\*.*?\n\n> (.*?)$", src, flags=re.M))
        qs = []
        numbers = sorted(sentences)
        found = [item_of(sentences[n]) for n in numbers]
        items = [x for x in found if x is not None] if all(found) else []
        for kind, text in re.findall(r"^\d+\. \*\*【([^】]+)】\*\* (.*?)（依据：", head, flags=re.M):
            t = template_of(text)
            quotes = re.findall(r"“([^”]*)”\[\d+\]", text)
            cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", text)})
            qs.append(Question(kind, text, cited, quotes, template=t.text if t else "", asks=t.asks if t else frozenset()))
        new_faults = sum(
            1 for q in qs for f in class_faults(q, [items[n - 1] for n in q.sources if items and n <= len(items)]) if round8.search(f)
        )
        giveaways = sum(gives_away(a, b, items) for a in qs for b in qs if a is not b) if items else 0
        promises = int("作对照" in head and not any("【对比分析】" in line for line in head.splitlines()))
        same = sum(same_ask(a, b) for a, b in combinations(qs, 2))
        pilots = sum(
            1 for q in qs if "先试点" in q.text and not all(standing(x) for x in q.quotes if _AS_MEASURE.search(_lead_in(q, x)))
        )
        labels = 0
        for q in qs:
            for x, n in re.findall(r"“([^”]*)”\[(\d+)\]", q.text):
                if int(n) in sentences and drops_label(x, sentences[int(n)]):
                    labels += 1
        note = int("给培训者" in head or "本讲义未出" in head)
        print(f"| {item} | {k['label']} | {len(qs)} | {same} | {pilots} | {labels} | {note} | {new_faults} | {giveaways} | {promises} |")


def _quoted_numbers(q) -> list[int]:
    """Source numbers that follow a quote in the question text (“…”[n])."""
    return [int(n) for n in re.findall(r"”\[(\d+)\]", q.text)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--sheet", action="store_true", help="write eval/blind_handouts_sheet.md and the key")
    ap.add_argument("--seed", type=int, default=214)
    ap.add_argument("--prefix", default="K", help="item numbers on the sheet: K1…K10 (round 1 used H1…H10)")
    ap.add_argument("--name", default="blind_handouts", help="sheet and key: eval/<name>_sheet.md, eval/<name>_key.json")
    ap.add_argument("--round", default="round2", help="what the key calls this run's handouts")
    ap.add_argument("--calibrate", type=int, default=3, help="round-1 handouts mixed into the sheet for calibration")
    ap.add_argument("--round1", action="store_true", help="also check the first round's handouts (from their sheet)")
    ap.add_argument("--check-sheet", type=Path, help="only run the round-7 checks on an earlier blind sheet's handouts")
    ap.add_argument("--check-key", type=Path, help="its key (default: key.json beside it)")
    ap.add_argument("--check-version", default="round6", help="which of its versions to check")
    args = ap.parse_args()
    if args.check_sheet:
        check_sheet(args.check_sheet, args.check_key or args.check_sheet.with_name("key.json"), args.check_version)
        return 0
    if args.round1:
        old = round1()
        print("Round 1 (eval/blind/round1/blind_handouts_sheet.md), the same checks on its quotes:\n")
        print("| handout | questions | quotes | not reading alone / unclear | slogans |")
        print("|---|---|---|---|---|")
        for label, nq, nquotes, bad, slog, _ in sorted(old):
            print(f"| {label} | {nq} | {nquotes} | {bad} | {slog} |")
        shared = [(a[0], b[0], len(a[5] & b[5])) for a, b in combinations(old, 2) if a[5] & b[5]]
        print("\nquotes two round-1 handouts share: " + "; ".join(f"{a} & {b}: {n}" for a, b, n in shared) + "\n")
    cards = load_cards(ROOT / "corpus")
    rows = []
    for label, kw in [(c, {"case_id": c}) for c in CASES] + [(t, {"topic": t}) for t in TOPICS]:
        try:
            h = build_handout(cards, n=args.n, **kw)
        except InputError as exc:  # no question passes the checks: the trainer gets this message, no handout
            print(f"{label}: {exc}")
            h = Handout("", [], [], [])
        r = check(h, cards, kw.get("topic"))
        r["label"] = label if "case_id" not in kw else f"{label} {cards[label].community}"
        r["title"] = h.title
        rows.append(r)
    print(
        f"| handout | questions | kinds (情境/对比/角色/反思) | quotes | repeated | faults | story twice | > {QUOTE_CHARS} chars | fragments | slogans | "
        "off-topic | max overlap | same ask | on the case's core | trainer note in text | unbacked parties | gone parties | "
        "compare off-problem | ids/offsets | A4 | zh-CN |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        kinds = "/".join(str(r["kinds"].count(k)) for k in ("情境研讨", "对比分析", "角色扮演", "反思迁移"))
        print(
            f"| {r['label']} | {r['questions']} | {kinds} | {r['quotes']} | {r['repeated_quotes']} | {len(r['faults'])} | "
            f"{r['story_twice']} | {r['long_quotes']} | "
            f"{len(r['fragments'])} | {len(r['slogans'])} | {len(r['off_topic'])} | {r['max_overlap']:.3f} | "
            f"{len(r['same_asks'])} | {'–' if r['core'] is None else r['core']} | {r['trainer_note_in_text']} | "
            f"{len(r['unbacked_parties'])} | {len(r['gone_parties'])} | {len(r['mismatched_compare'])} | {r['internal_ids']} | "
            f"{r['a4']} | {r['zh_cn']} |"
        )
    worst = max(r["max_overlap"] for r in rows)
    total_rep = sum(r["repeated_quotes"] for r in rows)
    shared = [
        (a["label"], b["label"], len(a["cited"] & b["cited"]))
        for a, b in combinations(rows, 2)
        if a["cited"] & b["cited"]
    ]
    print(
        f"\nrepeated quotes in all {len(rows)} handouts: {total_rep}; faults: {sum(len(r['faults']) for r in rows)}; "
        f"one story twice: {sum(r['story_twice'] for r in rows)}; fragments: {sum(len(r['fragments']) for r in rows)}; "
        f"slogans: {sum(len(r['slogans']) for r in rows)}; off-topic: {sum(len(r['off_topic']) for r in rows)}; "
        f"largest pairwise overlap of two questions: {worst:.3f} (threshold {MAX_OVERLAP}); "
        f"questions per handout: {[r['questions'] for r in rows]}; handouts under 4 questions: "
        f"{sum(r['questions'] < 4 for r in rows)}; pairs asking the same thing: {sum(len(r['same_asks']) for r in rows)}"
    )
    print("cited sentences two handouts share: " + ("; ".join(f"{a} & {b}: {n}" for a, b, n in shared) or "none"))
    for r in rows:
        for what in ("faults", "same_asks", "fragments", "slogans", "off_topic", "unbacked_parties", "gone_parties", "mismatched_compare"):
            for x in r[what]:
                print(f"  {r['label']} {what}: {x}")
    if args.sheet:
        rng = random.Random(args.seed)
        entries = [(r["label"], args.round, r["md"], None) for r in rows]
        entries += [(label, "round1", body, item) for item, label, body in rng.sample(round1_bodies(), args.calibrate)]
        rng.shuffle(entries)
        p = args.prefix
        key = {
            f"{p}{i}": {"label": label, "version": version} | ({"round1_item": item, "round1_usable": False} if item else {})
            for i, (label, version, _, item) in enumerate(entries, 1)
        }
        write_sheet(
            sheet_text([md for _, _, md, _ in entries], p), key,
            ROOT / "eval" / f"{args.name}_sheet.md", ROOT / "eval" / f"{args.name}_key.json",
        )
        print(f"wrote eval/{args.name}_sheet.md and eval/{args.name}_key.json")
    bad = total_rep or worst >= MAX_OVERLAP or any(
        r["unbacked_parties"] or r["gone_parties"] or r["internal_ids"] or r["long_quotes"] or r["fragments"] or r["faults"]
        or r["story_twice"] or r["same_asks"] or r["trainer_note_in_text"] or r["core"] == 0
        for r in rows
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
