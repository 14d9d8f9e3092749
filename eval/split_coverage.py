"""Assign a tune/test half to every line of eval/coverage.jsonl (or of the file given:
``python eval/split_coverage.py eval/holdout_r3.jsonl``; a line without ``domain`` is in-domain).

Stratified by (domain, label) — for a file of conversations, which has no label, by its ``kind``
(``python eval/split_coverage.py eval/followups_r2.jsonl``): inside each stratum the questions are sorted by id,
shuffled with random.Random(20261130) (one generator, strata processed in sorted
order), and the first ceil(n/2) go to "tune", the rest to "test". Any existing
"half" value is ignored, so running the script again gives the same file.
"""
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 20261130
PATH = Path(__file__).resolve().parent / "coverage.jsonl"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else PATH
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    strata = defaultdict(list)
    for r in rows:
        # a file of conversations (eval/followups_r2.jsonl) has no label: its kinds are the strata
        strata[(r.get("domain", "in"), r.get("label", r.get("kind", "")))].append(r["id"])
    rng = random.Random(SEED)
    half = {}
    for key in sorted(strata):
        ids = sorted(strata[key])
        rng.shuffle(ids)
        k = (len(ids) + 1) // 2
        for i, qid in enumerate(ids):
            half[qid] = "tune" if i < k else "test"
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            r["half"] = half[r["id"]]
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = defaultdict(int)
    for r in rows:
        counts[(r.get("domain", "in"), r.get("label", r.get("kind", "")), r["half"])] += 1
    for key in sorted(counts):
        print(*key, counts[key], sep="\t")


if __name__ == "__main__":
    main()
