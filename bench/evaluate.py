"""Evaluate the matcher and the three baselines on the labelled set, in one run.

    .venv/bin/python bench/evaluate.py                 # dev and held-out test
    .venv/bin/python bench/evaluate.py --split dev     # tuning: dev only
    .venv/bin/python bench/evaluate.py --ablations     # also matcher variants (dev)

Labels: 2 = solves it, 1 = partially useful.  nDCG@10 (gain 2^g - 1) over needs
with any label; MRR, Recall@10 and P@1 over needs with a grade-2 achievement.
No-match: a need "has a match" when some achievement is graded 2.  The top-1
score separates the two groups (AUC); a threshold is calibrated on dev (best
balanced accuracy) for every method and applied unchanged to test.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import Bm25, CharTfidf, WordTfidf  # noqa: E402

from matching import Document, Matcher  # noqa: E402

DEVSET = Path(__file__).resolve().parent / "devset"


def load(name: str) -> tuple[list[Document], list[dict[str, int]]]:
    docs, labels = [], []
    for line in (DEVSET / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            labels.append(row.pop("labels", {}))
            docs.append(Document.from_dict(row))
    return docs, labels


class MatcherMethod:
    def __init__(self, name: str, **params) -> None:
        self.name = name
        self.params = params

    def fit(self, docs):
        self.m_ = Matcher(**self.params).fit(docs)
        self.ids_ = [d.id for d in docs]
        return self

    def ranked(self, queries, top=10):
        return [[(x.id, x.score) for x in ms] for ms in self.m_.rank_many(queries, top=top)]


def ranked(method, queries, ids, top=10):
    if isinstance(method, MatcherMethod):
        return method.ranked(queries, top)
    s = method.scores(queries)
    out = []
    for row in s:
        idx = np.lexsort((np.arange(len(row)), -row))[:top]
        out.append([(ids[i], float(row[i])) for i in idx if row[i] > 0])
    return out


def metrics(runs, labels):
    ndcg, mrr, rec, p1 = [], [], [], []
    for run, lab in zip(runs, labels, strict=True):
        if not lab:
            continue
        gains = [2 ** lab.get(i, 0) - 1 for i, _ in run[:10]]
        dcg = sum(g / math.log2(k + 2) for k, g in enumerate(gains))
        ideal = sorted((2**g - 1 for g in lab.values()), reverse=True)[:10]
        ndcg.append(dcg / sum(g / math.log2(k + 2) for k, g in enumerate(ideal)))
        good = {i for i, g in lab.items() if g == 2}
        if not good:
            continue
        ranks = [k for k, (i, _) in enumerate(run[:10]) if i in good]
        mrr.append(1.0 / (ranks[0] + 1) if ranks else 0.0)
        rec.append(len(ranks) / len(good))
        p1.append(1.0 if ranks and ranks[0] == 0 else 0.0)
    return {"nDCG@10": np.mean(ndcg), "MRR": np.mean(mrr), "R@10": np.mean(rec), "P@1": np.mean(p1)}


def top1(runs):
    return np.array([r[0][1] if r else 0.0 for r in runs])


def has_match(labels):
    return np.array([any(g == 2 for g in lab.values()) for lab in labels])


def auc(pos, neg):
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


def calibrate(scores, positive, min_tpr=0.0):
    """Threshold with the best balanced accuracy (midpoint between neighbouring scores),
    among those that keep at least ``min_tpr`` of the needs that have a good match."""
    cands = np.unique(scores)
    cuts = np.concatenate([[cands[0] - 1e-6], (cands[:-1] + cands[1:]) / 2, [cands[-1] + 1e-6]])
    cuts = [t for t in cuts if np.mean(scores[positive] >= t) >= min_tpr] or [cuts[0]]
    best = max(cuts, key=lambda t: (balanced(scores, positive, t), -abs(t - np.median(cuts))))
    return float(best)


def balanced(scores, positive, t):
    tpr = np.mean(scores[positive] >= t) if positive.any() else 1.0
    tnr = np.mean(scores[~positive] < t) if (~positive).any() else 1.0
    return (tpr + tnr) / 2


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["dev", "test", "both"], default="both")
    ap.add_argument("--ablations", action="store_true")
    ap.add_argument("--json", default=None, help="also write the table as JSON here")
    args = ap.parse_args(argv)
    supplies, _ = load("achievements.jsonl")
    ids = [d.id for d in supplies]
    splits = {"dev": load("needs_dev.jsonl")}
    if args.split in ("test", "both"):
        splits["test"] = load("needs_test.jsonl")
    methods = [
        MatcherMethod("matcher (default)"),
        CharTfidf(),
        WordTfidf(),
        Bm25(),
    ]
    if args.ablations:
        methods += [
            MatcherMethod("  - no concept features", concept_weight=0.0),
            MatcherMethod("  - words only (no char)", char_weight=0.0),
            MatcherMethod("  - chars only (no words)", word_weight=0.0),
            MatcherMethod("  - no field boost", field_weight=0.0),
            MatcherMethod("  - no title weighting", title_weight=1.0),
        ]
    for m in methods:
        m.fit(supplies)
    n_sup = len(supplies)
    print(
        f"achievements: {n_sup}; "
        + "; ".join(
            f"{k}: {len(v[0])} needs ({int((~has_match(v[1])).sum())} without a good match)" for k, v in splits.items()
        )
    )
    cols = ("nDCG@10", "MRR", "R@10", "P@1", "AUC", "thr", "TPR", "TNR")
    header = f"{'method':34s} {'split':5s} " + " ".join(f"{c:>{7 if c == 'nDCG@10' else 6}s}" for c in cols)
    print(header)
    print("-" * len(header))
    results = {}
    for m in methods:
        thr = None
        for split, (queries, labels) in splits.items():
            runs = ranked(m, queries, ids)
            r = metrics(runs, labels)
            s, pos = top1(runs), has_match(labels)
            if thr is None:
                thr = calibrate(s, pos)  # dev is first: calibrated there, reused on test
            r.update(AUC=auc(s[pos], s[~pos]), thr=thr, TPR=np.mean(s[pos] >= thr), TNR=np.mean(s[~pos] < thr))
            results[(m.name, split)] = r
            print(f"{m.name:34s} {split:5s} " + " ".join(f"{r[k]:{7 if k == 'nDCG@10' else 6}.3f}" for k in cols))
    base = [m.name for m in methods[1:4]]
    for split in splits:
        best_n = max(results[(b, split)]["nDCG@10"] for b in base)
        best_p = max(results[(b, split)]["P@1"] for b in base)
        mr = results[("matcher (default)", split)]
        print(f"{split}: matcher - best baseline: nDCG@10 {mr['nDCG@10'] - best_n:+.3f}, P@1 {mr['P@1'] - best_p:+.3f}")
    mm = methods[0].m_
    dev_s, dev_pos = top1(ranked(methods[0], *splits["dev"][:1], ids)), has_match(splits["dev"][1])
    ship = calibrate(dev_s, dev_pos, min_tpr=0.9)
    print(
        f"matcher: dev calibration keeping >= 90% of needs that have a good match: threshold {ship:.3f} "
        f"(no-match said {np.mean(dev_s[~dev_pos] < ship):.3f}); shipped DEFAULT_THRESHOLD = {mm.threshold:.3f}"
    )
    for split, (queries, labels) in splits.items():
        s, pos = top1(ranked(methods[0], queries, ids)), has_match(labels)
        print(
            f"{split}: shipped threshold {mm.threshold:.3f}: has-match kept {np.mean(s[pos] >= mm.threshold):.3f}, "
            f"no-match said {np.mean(s[~pos] < mm.threshold):.3f}"
        )
    if args.json:
        rows = [
            {"method": name.strip(), "split": split, **{c: float(v) for c, v in r.items()}}
            for (name, split), r in results.items()
        ]
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
