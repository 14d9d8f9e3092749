"""Case-card fields against the gold file eval/cards_gold.jsonl (all 21 cases).

For each field (遇到的问题 ``problems``, 主要做法 ``measures``, 成效 ``outcomes``)
a card item is compared with the gold strings of that field, both mapped to
character intervals of the case text after :func:`assistant.evaluation.normalise`
(NFKC, whitespace removed):

- **overlap** (the headline figure): the item and a gold string share at least
  half of the shorter one's characters (for measures: the measure's text or
  any of its spans);
- **strict**: at least half of the item's own characters lie inside gold
  strings of the field (a long passage holding one gold sentence fails).

Precision = correct items / items shown.  Measure recall = share of gold
measures (text or spans) overlapped by some card item.  Problem recall is
printed for information (a card shows a few problems, the gold lists all).
Outcomes: the cases whose card shows at least one outcome, against the
cases whose script reports one (gold outcomes non-empty).

Two role models:

- ``shipped``: assistant/data/roles.json (trained on every sentence of the
  bundled corpus, so it has seen these scripts) as the cards use it: since
  round 6 the problem and the outcomes ("fewer but surer") read a sentence of
  its training set with the model trained without its case
  (``RoleModel.reading``, ``assistant/data/roles_held_out.json``), as a
  script added later is read; the measures keep the model's own reading;
  ``--in-sample`` adds the row of the full model reading its own training
  sentences in every field (as the cards did before round 6);
- ``loco``: for each case, a model trained without that case's sentences
  (``eval/sentence_roles.jsonl``), i.e. what a script added later gets.  The
  21 models are cached in ``--cache`` (default /tmp/cards_eval_loco); the
  first run fits them (about 8 minutes on 2 cores, needs scikit-learn).

    .venv/bin/python eval/cards_eval.py                      # shipped model
    .venv/bin/python eval/cards_eval.py --loco               # and leave-one-case-out
    .venv/bin/python eval/cards_eval.py --loco --details     # every wrong item
    .venv/bin/python eval/cards_eval.py --loco --ablate      # each round-5/6 rule switched off in turn
    .venv/bin/python eval/cards_eval.py --save eval/cards_eval_before.json   # record figures
    .venv/bin/python eval/cards_eval.py --loco --before eval/cards_eval_before.json  # before/after table
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus import Case, load_corpus  # noqa: E402
from assistant.evaluation import normalise  # noqa: E402

GOLD = ROOT / "eval" / "cards_gold.jsonl"
LABELS = ROOT / "eval" / "sentence_roles.jsonl"
FIELDS = ("problems", "measures", "outcomes")


# ---------------------------------------------------------------------------
# character intervals in the normalised case text


class NormText:
    """Maps offsets of ``case.text`` to offsets of ``normalise(case.text)``."""

    def __init__(self, text: str) -> None:
        self.norm = normalise(text)
        # cumulative count of characters kept before each raw offset
        kept = [0]
        for ch in text:
            kept.append(kept[-1] + len(normalise(unicodedata.normalize("NFKC", ch))))
        self.kept = kept

    def interval(self, start: int, end: int) -> tuple[int, int]:
        return self.kept[start], self.kept[end]

    def find_all(self, s: str) -> list[tuple[int, int]]:
        ns = normalise(s)
        out, at = [], self.norm.find(ns)
        while at >= 0 and ns:
            out.append((at, at + len(ns)))
            at = self.norm.find(ns, at + 1)
        return out


def _inter(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def overlaps(item: tuple[int, int], gold: tuple[int, int]) -> bool:
    shorter = min(item[1] - item[0], gold[1] - gold[0])
    return shorter > 0 and _inter(item, gold) * 2 >= shorter


def covered_share(item: tuple[int, int], golds: list[tuple[int, int]]) -> float:
    """Share of the item's characters inside the union of ``golds``."""
    n = item[1] - item[0]
    if n <= 0:
        return 0.0
    marks = bytearray(n)
    for g in golds:
        for i in range(max(g[0], item[0]), min(g[1], item[1])):
            marks[i - item[0]] = 1
    return sum(marks) / n


# ---------------------------------------------------------------------------
# card items (works with the card shape before and after issue 14)


def _span(x) -> tuple[int, int, str]:
    c = getattr(x, "citation", x)
    return c.start, c.end, c.quote


def card_items(card) -> dict[str, list[tuple[int, int, str]]]:
    return {
        "problems": [_span(c) for c in card.problem],
        "measures": [_span(m) for m in card.measures],
        "outcomes": [_span(o) for o in card.outcomes],
    }


def score_case(case: Case, card, gold: dict) -> dict:
    nt = NormText(case.text)
    g_prob = [iv for s in gold["problems"] for iv in nt.find_all(s)]
    g_out = [iv for s in gold["outcomes"] for iv in nt.find_all(s)]
    g_meas = [[iv for s in [m["text"], *m.get("spans", [])] for iv in nt.find_all(s)] for m in gold["measures"]]
    g_meas_flat = [iv for ivs in g_meas for iv in ivs]
    golds = {"problems": g_prob, "measures": g_meas_flat, "outcomes": g_out}
    row: dict = {"case_id": case.id, "community": case.community}
    for field, items in card_items(card).items():
        judged = []
        for start, end, quote in items:
            iv = nt.interval(start, end)
            ok = any(overlaps(iv, g) for g in golds[field])
            strict = covered_share(iv, golds[field]) >= 0.5
            judged.append({"quote": quote, "ok": ok, "strict": strict})
        row[field] = judged
    ivs = [nt.interval(s, e) for s, e, _ in card_items(card)["measures"]]
    row["measures_gold"] = len(g_meas)
    row["measures_covered"] = sum(1 for m in g_meas if any(overlaps(i, g) for i in ivs for g in m))
    pivs = [nt.interval(s, e) for s, e, _ in card_items(card)["problems"]]
    row["problems_gold"] = len(gold["problems"])
    row["problems_covered"] = sum(
        1 for s in gold["problems"] if any(overlaps(i, g) for i in pivs for g in nt.find_all(s))
    )
    row["outcomes_gold"] = len(gold["outcomes"])
    return row


def summarise(rows: list[dict]) -> dict:
    out: dict = {}
    for field in FIELDS:
        items = [j for r in rows for j in r[field]]
        n = len(items)
        out[field] = {
            "items": n,
            "precision": sum(j["ok"] for j in items) / n if n else 0.0,
            "strict_precision": sum(j["strict"] for j in items) / n if n else 0.0,
        }
    out["measures"]["recall"] = sum(r["measures_covered"] for r in rows) / max(1, sum(r["measures_gold"] for r in rows))
    out["problems"]["recall"] = sum(r["problems_covered"] for r in rows) / max(1, sum(r["problems_gold"] for r in rows))
    reporting = [r for r in rows if r["outcomes_gold"]]
    shown = [r for r in reporting if r["outcomes"]]
    out["outcomes"]["cases_reporting"] = len(reporting)
    out["outcomes"]["cases_shown"] = len(shown)
    out["outcomes"]["cases_missing"] = [r["case_id"] for r in reporting if not r["outcomes"]]
    out["problems"]["cases_without"] = [r["case_id"] for r in rows if not r["problems"]]
    return out


# ---------------------------------------------------------------------------
# role models


def loco_models(cache: Path) -> dict:
    """case id -> RoleModel trained without that case's labelled sentences (cached as JSON)."""
    from assistant.roles import RoleModel, train

    items = [json.loads(x) for x in LABELS.read_text("utf-8").splitlines() if x.strip()]
    cache.mkdir(parents=True, exist_ok=True)
    label_key = hashlib.sha1(LABELS.read_bytes()).hexdigest()  # refit when the labels change
    models = {}
    for case in sorted({it["sid"].split(":")[0] for it in items}):
        path = cache / f"{case}.json"
        stamp = cache / f"{case}.labels"
        if not (path.exists() and stamp.exists() and stamp.read_text() == label_key):
            rest = [it for it in items if it["sid"].split(":")[0] != case]
            print(f"  training the role model without {case} ({len(rest)} sentences)…", file=sys.stderr, flush=True)
            path.write_text(json.dumps(train([it["sentence"] for it in rest], [it["role"] for it in rest])), "utf-8")
            stamp.write_text(label_key)
        models[case] = RoleModel.from_dict(json.loads(path.read_text("utf-8")))
    return models


def build(cases: list[Case], model_for=None) -> dict:
    """Cards as the library builds them (word rarity over all cases), each with the shipped
    role model or, with ``model_for``, with the model trained without its case."""
    from assistant import cards as cards_mod
    from assistant.taxonomy import load_taxonomy

    if model_for is None:
        return cards_mod.build_cards(cases)
    if not isinstance(model_for, dict):  # one model for every case
        return cards_mod.build_cards(cases, role_model=model_for)
    taxonomy = load_taxonomy()
    stories = {c.id: cards_mod.read_story(c, model_for[c.id]) for c in cases}
    rarity = cards_mod.Rarity.of_stories(stories.values())  # words, not roles: the same for every model
    return {c.id: cards_mod.build_card(c, taxonomy, model_for[c.id], rarity, stories[c.id]) for c in cases}


def run(cases: list[Case], gold: dict, model_for=None) -> tuple[list[dict], dict]:
    cards = build(cases, model_for)
    rows = [score_case(c, cards[c.id], gold[c.id]) for c in cases]
    return rows, summarise(rows)


# ---------------------------------------------------------------------------
# printing


def fmt_summary(name: str, s: dict) -> list[str]:
    p, m, o = s["problems"], s["measures"], s["outcomes"]
    return [
        f"| {name} | {p['precision']:.3f} ({p['strict_precision']:.3f}) | {p['items']} | {p['recall']:.3f} "
        f"| {m['precision']:.3f} ({m['strict_precision']:.3f}) | {m['recall']:.3f} | {m['items']} "
        f"| {o['cases_shown']}/{o['cases_reporting']} | {o['precision']:.3f} ({o['strict_precision']:.3f}) | {o['items']} |"
    ]


HEADER = [
    "| card built with | problem P (strict) | problems shown | problem R (info) | measure P (strict) | measure R "
    "| measures shown | cases with outcome | outcome P (strict) | outcomes shown |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def per_case_table(rows: list[dict]) -> list[str]:
    out = [
        "| case | community | problems ok/shown | measures ok/shown | gold measures covered | outcomes ok/shown |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        def ok(f: str) -> str:
            return f"{sum(j['ok'] for j in r[f])}/{len(r[f])}"

        out.append(
            f"| {r['case_id']} | {r['community']} | {ok('problems')} | {ok('measures')} "
            f"| {r['measures_covered']}/{r['measures_gold']} | {ok('outcomes')} |"
        )
    return out


def details(rows: list[dict], gold: dict | None = None) -> list[str]:
    """Every item judged wrong; with ``gold``, the case's gold strings of each field that has one beside them."""
    out = []
    for r in rows:
        bad = [(f, j["quote"]) for f in FIELDS for j in r[f] if not j["ok"]]
        if bad:
            out.append(f"- {r['case_id']} {r['community']}")
            out += [f"  - ✗ {f}: {' '.join(q.split())[:110]}" for f, q in bad]
            if gold:
                g = gold[r["case_id"]]
                for f in sorted({f for f, _ in bad}):
                    texts = [m["text"] for m in g[f]] if f == "measures" else g[f]
                    out.append(f"  - gold {f}: " + " | ".join(" ".join(t.split())[:60] for t in texts))
    return out


def _sweep_field(cases, gold, models, name: str, values, field: str, what: str) -> list[str]:
    """Precision and items shown of one field for other values of the card constant ``name``."""
    from assistant import cards as cards_mod

    shipped = getattr(cards_mod, name)
    lines = [
        "",
        f"{what}; shipped: {shipped}.",
        "",
        f"| {name} | {field} shown (shipped) | P (shipped) | {field} shown (loco) | P (loco) | cases with one (loco) |",
        "|---|---|---|---|---|---|",
    ]
    for value in values:
        setattr(cards_mod, name, value)
        a = run(cases, gold)[1][field]
        b = run(cases, gold, models)[1][field] if models else None
        with_one = (
            f"{b['cases_shown']}/{b['cases_reporting']}" if b and "cases_shown" in b
            else f"{21 - len(b['cases_without'])}/21" if b else "–"
        )
        lines.append(
            f"| {value} | {a['items']} | {a['precision']:.3f} | "
            + (f"{b['items']} | {b['precision']:.3f} | {with_one} |" if b else "– | – | – |")
        )
    setattr(cards_mod, name, shipped)
    return lines


def _sweep_measures(cases, gold, models, name: str, values, what: str) -> list[str]:
    """Measure precision and recall for other values of the card constant ``name``."""
    from assistant import cards as cards_mod

    shipped = getattr(cards_mod, name)
    lines = [
        "",
        f"{what}; shipped: {shipped}.",
        "",
        f"| {name} | measures shown | P (shipped) | R (shipped) | P (loco) | R (loco) |",
        "|---|---|---|---|---|---|",
    ]
    for value in values:
        setattr(cards_mod, name, value)
        a = run(cases, gold)[1]["measures"]
        b = run(cases, gold, models)[1]["measures"] if models else None
        lines.append(
            f"| {value} | {a['items']} | {a['precision']:.3f} | {a['recall']:.3f} | "
            + (f"{b['precision']:.3f} | {b['recall']:.3f} |" if b else "– | – |")
        )
    setattr(cards_mod, name, shipped)
    return lines


# the round-5 and round-6 rules of assistant/cards.py, each switched off in turn by --ablate
_NEVER = r"(?!x)x"


def _ablations():
    import re

    from assistant import cards as cards_mod

    return [
        ("the speaker's own feeling is not a problem (_SPEAKER_STATE)", "_SPEAKER_STATE", re.compile(_NEVER)),
        ("a concrete act weighs more (ACT_BONUS 1.5)", "ACT_BONUS", 1.0),
        ("a paragraph saying what is to be done gives no measure (_MUST)", "_MUST", re.compile(_NEVER)),
        ("a priority or an aim announced is not a measure (_PRIORITY)", "_PRIORITY", re.compile(_NEVER)),
        ("a line announcing the lessons opens them (_lessons_lead_ins)", "_lessons_lead_ins", lambda story: {}),
        (
            "a part headed as the background gives no measure (_tells_situation)",
            "_tells_situation",
            lambda part: part.role == cards_mod.SITUATION and not part.title,
        ),
        ("round 6: the lead of a part divided into sub-sections is no measure (_part_leads)", "_part_leads", lambda story: {}),
    ]


def ablate(cases, gold, models) -> list[str]:
    """The figures with each round-5/6 rule switched off in turn (the others on)."""
    from assistant import cards as cards_mod

    lines = [
        "",
        "## Each round-5/6 rule switched off in turn",
        "",
        "| without | problem P (shipped) | measure P / R (shipped) | problem P (loco) | measure P / R (loco) |",
        "|---|---|---|---|---|",
    ]
    for label, name, off in [("(nothing: all rules on)", None, None), *_ablations()]:
        if name:
            kept = getattr(cards_mod, name)
            setattr(cards_mod, name, off)
        a = run(cases, gold)[1]
        b = run(cases, gold, models)[1] if models else None
        if name:
            setattr(cards_mod, name, kept)
        row = f"| {label} | {a['problems']['precision']:.3f} | {a['measures']['precision']:.3f} / {a['measures']['recall']:.3f} | "
        if b:
            row += f"{b['problems']['precision']:.3f} | {b['measures']['precision']:.3f} / {b['measures']['recall']:.3f} |"
        else:
            row += "– | – |"
        lines.append(row)
    return lines


def role_reading(models) -> list[str]:
    """How the shipped and the leave-one-case-out role models read the labelled sentences: accuracy, and the
    share of sentences labelled 问题 read as 问题 with p >= PROBLEM_SURE (the gate for a card's second problem)."""
    from assistant import cards as cards_mod
    from assistant.roles import ROLES, get_role_model

    items = [json.loads(x) for x in LABELS.read_text("utf-8").splitlines() if x.strip()]
    shipped = get_role_model()
    q = ROLES.index("问题")
    lines = ["", "## How the role models read the labelled sentences", ""]
    readers = (
        ("shipped, in sample (probabilities)", lambda case, s: shipped.probabilities(s)),
        ("shipped, as the cards read (reading)", lambda case, s: shipped.reading(s)),
        ("loco", lambda case, s: models[case].probabilities(s)),
    )
    for name, read in readers:
        right = sure = labelled = 0
        for it in items:
            p = read(it["sid"].split(":")[0], it["sentence"])
            right += ROLES[int(p.argmax())] == it["role"]
            if it["role"] == "问题":
                labelled += 1
                sure += float(p[q]) >= cards_mod.PROBLEM_SURE
        lines.append(
            f"- {name}: {right / len(items):.3f} of {len(items)} sentences read with their label; "
            f"{sure / labelled:.2f} of the {labelled} labelled 问题 read as 问题 with p >= {cards_mod.PROBLEM_SURE}"
        )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loco", action="store_true", help="also build each card with a role model trained without its case")
    ap.add_argument("--cache", default="/tmp/cards_eval_loco", help="where the leave-one-case-out models are cached")
    ap.add_argument(
        "--in-sample", action="store_true",
        help="also the full model reading its own training sentences (the bundled cards before round 6)",
    )
    ap.add_argument("--details", action="store_true", help="list every item judged wrong")
    ap.add_argument("--beside", action="store_true", help="with --details: the case's gold strings beside its wrong items")
    ap.add_argument("--save", help="write the summary figures (JSON) to this file")
    ap.add_argument(
        "--before", action="append", default=[],
        help="a summary saved with --save, as PATH or LABEL=PATH (repeatable): print a before/after table",
    )
    ap.add_argument("--sweep", action="store_true", help="measure precision/recall for other numbers of measures per card")
    ap.add_argument("--ablate", action="store_true", help="the figures with each round-5/6 card rule switched off in turn")
    args = ap.parse_args()

    cases = load_corpus(ROOT / "corpus")
    gold = {g["case_id"]: g for g in map(json.loads, GOLD.read_text("utf-8").splitlines()) if g}
    results = {"shipped": run(cases, gold)}
    if args.in_sample:
        from assistant.roles import MODEL_PATH, RoleModel

        results["in sample"] = run(cases, gold, RoleModel.load(MODEL_PATH))  # no held-out table
    if args.loco:
        results["loco"] = run(cases, gold, loco_models(Path(args.cache)))

    lines = ["## Summary (overlap; strict in brackets)", ""] + HEADER
    for spec in args.before:
        label, _, path = spec.rpartition("=")
        before = json.loads(Path(path).read_text("utf-8"))
        for name, s in before.items():
            lines += fmt_summary(f"{label or 'before'} ({name})", s)
    for name, (_, s) in results.items():
        lines += fmt_summary(f"now ({name})", s)
    for name, (rows, s) in results.items():
        lines += ["", f"## Per case ({name} role model)", ""] + per_case_table(rows)
        lines += [
            "",
            f"cases without an outcome: {', '.join(s['outcomes']['cases_missing']) or '—'}; "
            f"cases without a problem: {', '.join(s['problems']['cases_without']) or '—'}",
        ]
        if args.details:
            lines += ["", f"## Items judged wrong ({name})", ""] + details(rows, gold if args.beside else None)
    if args.sweep:
        from assistant import cards as cards_mod

        models = loco_models(Path(args.cache)) if args.loco else None
        lines += ["", "## Measures: precision / recall against the number of measures a card lists"]
        lines += _sweep_measures(
            cases, gold, models, "MEASURE_SPAN", (200, 230, 260, 300, 333, 400, 500, 650, 800, 1200),
            f"A card lists about one measure per MEASURE_SPAN characters of script ({cards_mod.MIN_MEASURES}–"
            f"{cards_mod.MAX_MEASURES})",
        )
        lines += _sweep_measures(
            cases, gold, models, "SECOND_IN_PARAGRAPH", (0.0, 0.25, 0.5, 0.75, 1.0),
            "A paragraph's further measures (read surely as 做法) count at SECOND_IN_PARAGRAPH of their weight "
            "(0: only when the script runs out of paragraphs)",
        )
        lines += _sweep_measures(
            cases, gold, models, "MEASURE_SURE", (0.0, 0.4, 0.5, 0.6, 0.7, 1.01),
            "A paragraph's further sentences are measures when read as 做法 with probability MEASURE_SURE "
            "(0: all, up to PER_PARAGRAPH; 1.01: none)",
        )
        lines += _sweep_measures(
            cases, gold, models, "ACT_BONUS", (1.0, 1.25, 1.5, 1.75, 2.0, 3.0),
            "A sentence naming a concrete act (成立, 召开, 制定, 安装, 上门 …) weighs ACT_BONUS times as much "
            "as a measure (1: no such rule)",
        )
        lines += _sweep_field(
            cases, gold, models, "PROBLEM_SURE", (0.0, 0.5, 0.55, 0.6, 0.65, 0.7), "problems",
            "After the weightiest problem, the next is shown only when read as 问题 with probability "
            "PROBLEM_SURE (0: no such rule)",
        )
        lines += _sweep_field(
            cases, gold, models, "OUTCOME_MARGIN", (-9.0, 0.0, 0.05, 0.1, 0.15, 0.2), "outcomes",
            "A result is shown when its 成效 probability exceeds 背景 + 问题 by OUTCOME_MARGIN, else only the "
            "card's weightiest one (-9: no such rule)",
        )
    if args.loco:
        lines += role_reading(loco_models(Path(args.cache)))
    if args.ablate:
        lines += ablate(cases, gold, loco_models(Path(args.cache)) if args.loco else None)
    print("\n".join(lines))
    if args.save:
        Path(args.save).write_text(
            json.dumps({name: s for name, (_, s) in results.items()}, ensure_ascii=False, indent=1) + "\n", "utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
