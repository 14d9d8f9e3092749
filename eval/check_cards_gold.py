#!/usr/bin/env python
"""Check eval/cards_gold.jsonl: every quoted string must be verbatim in its case text.

Verbatim = after NFKC normalisation and removal of all whitespace, the string is a
substring of the same normalisation of the case's `text` in cases.json (the live
index version named in index/CURRENT).  Also reports (as warnings) strings outside
10-120 characters, strings that look like merged sentences, duplicate strings,
and author/community mismatches.  Exit status 1 if any string is not verbatim or
the file is structurally wrong; warnings alone do not fail.

Usage: python eval/check_cards_gold.py [cards_gold.jsonl]
"""
import json
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def load_cases() -> dict:
    version = (ROOT / "index" / "CURRENT").read_text(encoding="utf-8").strip()
    cases = json.loads((ROOT / "index" / version / "cases.json").read_text(encoding="utf-8"))
    return {c["id"]: c for c in cases}


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "eval" / "cards_gold.jsonl"
    cases = load_cases()
    errors, warnings = [], []
    seen_ids = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: invalid JSON ({exc.msg})")
            continue
        cid = item.get("case_id")
        if cid not in cases:
            errors.append(f"line {n}: unknown case_id {cid!r}")
            continue
        if cid in seen_ids:
            errors.append(f"{cid}: duplicate line")
        seen_ids.add(cid)
        case = cases[cid]
        for key in ("author", "community"):
            if item.get(key) != case.get(key):
                warnings.append(f"{cid}: {key} {item.get(key)!r} != cases.json {case.get(key)!r}")
        text = normalise(case["text"])

        strings = []  # (where, string)
        for key in ("problems", "outcomes"):
            val = item.get(key)
            if not isinstance(val, list):
                errors.append(f"{cid}: {key} must be a list")
                continue
            strings += [(f"{key}[{i}]", s) for i, s in enumerate(val)]
        measures = item.get("measures")
        if not isinstance(measures, list):
            errors.append(f"{cid}: measures must be a list")
            measures = []
        for i, m in enumerate(measures):
            if not isinstance(m, dict) or "text" not in m:
                errors.append(f"{cid}: measures[{i}] must be an object with 'text'")
                continue
            strings.append((f"measures[{i}].text", m["text"]))
            spans = m.get("spans", [])
            if not isinstance(spans, list):
                errors.append(f"{cid}: measures[{i}].spans must be a list")
                continue
            strings += [(f"measures[{i}].spans[{j}]", s) for j, s in enumerate(spans)]

        counts = {}
        for where, s in strings:
            if not isinstance(s, str) or not s.strip():
                errors.append(f"{cid} {where}: empty or not a string")
                continue
            ns = normalise(s)
            if ns not in text:
                errors.append(f"{cid} {where}: NOT VERBATIM: {s}")
            if not 10 <= len(ns) <= 120:
                warnings.append(f"{cid} {where}: length {len(ns)}: {s}")
            unquoted = re.sub(r'"[^"]*"|\([^)]*\)', "", ns)  # ignore ?! inside quotes/brackets
            if re.search(r"[。！？!?].", unquoted):
                warnings.append(f"{cid} {where}: looks like several sentences: {s}")
            counts[ns] = counts.get(ns, 0) + 1
        for ns, k in counts.items():
            if k > 1:
                warnings.append(f"{cid}: string used {k} times: {ns}")

    missing = sorted(set(cases) - seen_ids)
    if missing:
        errors.append(f"cases without a line: {', '.join(missing)}")
    for w in warnings:
        print("WARN ", w)
    for e in errors:
        print("ERROR", e)
    print(f"{len(seen_ids)} cases checked, {len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
