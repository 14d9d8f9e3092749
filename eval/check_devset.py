#!/usr/bin/env python3
"""Validate eval/dev.jsonl against the Songjiang lecture-script corpus.

Checks: unique ids, valid kinds, field schema, evidence strings (whitespace
ignored) present inside ONE corpus line after line 84 and inside the gold
author's script (author line .. following "(指导老师" line), evidence length
12-60 chars, per-author coverage (>=2 answerable each), total >= 66.
Prints counts per kind and per author. Exits 1 on any error.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "songjiang_yixian_daoshi_2025-10_jianggao.txt"
DEV = Path(__file__).resolve().parent / "dev.jsonl"
SKIP_LINES = 84  # cover, preface, table of contents

AUTHORS = ["沈东", "姚丽丽", "俞祝玲", "张叶", "赵敏勇", "陈君英", "赵晨", "沈春欢",
           "姜丽娜", "周静", "陈越", "陈晓燕", "金春", "沈春峰", "顾华丽", "蒋苏叶",
           "徐浩", "周春雨", "施英", "朱佳燕", "顾文彬"]
KINDS = {"howto", "fact", "similar", "unanswerable"}
# place names / coined labels that howto & similar questions should not contain
PLACE_NAMES = ["蓝天二村", "泰晤士", "湖畔天地", "金地", "高乐", "松石苑", "西林塔", "三湘",
               "奥园", "长溇", "祥东", "砖桥", "民益", "亭南", "长香岛", "洙桥", "鲁星",
               "黄桥", "东石", "新凯", "韵意", "平复苑", "第三街区", "高科技街区"]
MIN_TOTAL = 66
MIN_PER_AUTHOR = 2


def ws(s):
    return re.sub(r"\s+", "", s)


def locate_scripts(lines):
    """Return {author: (start_idx, end_idx)} 0-based inclusive line spans."""
    spans = {}
    author_rows = []
    for i in range(SKIP_LINES, len(lines)):
        line_ = lines[i].strip()
        if len(line_) > 45 or "书记" not in line_:
            continue
        for a in AUTHORS:
            if line_.endswith(a):
                author_rows.append((i, a))
    # 姚丽丽 / 俞祝玲 author lines lack the word 书记
    for i in range(SKIP_LINES, len(lines)):
        line_ = lines[i].strip()
        for a in ("姚丽丽", "俞祝玲"):
            if line_.endswith(a) and len(line_) <= 45 and "居民区" in line_:
                author_rows.append((i, a))
    author_rows.sort()
    for k, (i, a) in enumerate(author_rows):
        nxt = author_rows[k + 1][0] if k + 1 < len(author_rows) else len(lines)
        end = nxt - 1
        for j in range(i, nxt):
            if "(指导老师" in lines[j] or "（指导老师" in lines[j]:
                end = j
                break
        spans[a] = (i, end)
    return spans


def main():
    errors, warnings = [], []
    lines = CORPUS.read_text(encoding="utf-8").split("\n")
    spans = locate_scripts(lines)
    for a in AUTHORS:
        if a not in spans:
            errors.append(f"author line not found for {a}")
    line_ws = [ws(x) for x in lines]

    items = []
    for n, raw in enumerate(DEV.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            items.append((n, json.loads(raw)))
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: bad JSON: {e}")

    ids = Counter(d.get("id") for _, d in items)
    for i, c in ids.items():
        if c > 1:
            errors.append(f"duplicate id {i}")

    kind_cnt, author_cnt = Counter(), Counter()
    author_kind = {a: Counter() for a in AUTHORS}
    for n, d in items:
        tag = f"line {n} ({d.get('id')})"
        if not re.fullmatch(r"q\d{3,}", str(d.get("id", ""))):
            errors.append(f"{tag}: bad id")
        k = d.get("kind")
        if k not in KINDS:
            errors.append(f"{tag}: bad kind {k!r}")
            continue
        kind_cnt[k] += 1
        q = d.get("question")
        if not isinstance(q, str) or len(q.strip()) < 6:
            errors.append(f"{tag}: missing/short question")
            q = ""
        if k == "unanswerable":
            if d.get("answerable") is not False:
                errors.append(f"{tag}: unanswerable must have answerable=false")
            if "evidence" in d or "gold_author" in d:
                errors.append(f"{tag}: unanswerable must omit evidence/gold_author")
            continue
        if d.get("answerable") is not True:
            errors.append(f"{tag}: answerable must be true")
        a = d.get("gold_author")
        if a not in AUTHORS:
            errors.append(f"{tag}: unknown gold_author {a!r}")
            continue
        author_cnt[a] += 1
        author_kind[a][k] += 1
        if k in ("howto", "similar"):
            if a in q:
                errors.append(f"{tag}: {k} question names the author")
            for p in PLACE_NAMES:
                if p in q:
                    errors.append(f"{tag}: {k} question names place {p}")
        ev = d.get("evidence")
        if not isinstance(ev, list) or not 1 <= len(ev) <= 3:
            errors.append(f"{tag}: evidence must be a list of 1-3 strings")
            continue
        s, e = spans.get(a, (None, None))
        for x in ev:
            if not isinstance(x, str):
                errors.append(f"{tag}: non-string evidence")
                continue
            t = ws(x)
            if not 12 <= len(t) <= 60:
                errors.append(f"{tag}: evidence length {len(t)} not in 12-60: {x}")
            hit_lines = [i for i in range(SKIP_LINES, len(lines)) if t in line_ws[i]]
            if not hit_lines:
                errors.append(f"{tag}: evidence not found within a single line after line {SKIP_LINES}: {x}")
                continue
            if s is None or not any(s <= i <= e for i in hit_lines):
                where = [i + 1 for i in hit_lines]
                errors.append(f"{tag}: evidence not inside {a}'s script (lines {s+1 if s is not None else '?'}-{e+1 if e is not None else '?'}), found at {where}: {x}")
            # soft check: question should not copy evidence wording wholesale
            if len(t) >= 12 and any(t[j:j + 12] in ws(q) for j in range(len(t) - 11)):
                warnings.append(f"{tag}: question copies >=12 chars of evidence")

    total = len(items)
    if total < MIN_TOTAL:
        errors.append(f"only {total} items (< {MIN_TOTAL})")
    for a in AUTHORS:
        if author_cnt[a] < MIN_PER_AUTHOR:
            errors.append(f"author {a} has only {author_cnt[a]} answerable questions")

    print(f"items: {total}")
    print("per kind:", dict(sorted(kind_cnt.items())))
    print("per author (answerable):")
    for a in AUTHORS:
        sp = spans.get(a)
        rng = f"lines {sp[0]+1}-{sp[1]+1}" if sp else "?"
        print(f"  {a:<4} {author_cnt[a]:>2}  {dict(author_kind[a])}  [{rng}]")
    for w in warnings:
        print("WARN:", w)
    if errors:
        for x in errors:
            print("ERROR:", x)
        print(f"FAILED with {len(errors)} error(s)")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
