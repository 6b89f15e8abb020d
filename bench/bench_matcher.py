"""Benchmark the matcher on a synthetic corpus (see bench/synth.py).

    .venv/bin/python bench/bench_matcher.py                       # 100,000 achievements, 10,000 needs
    .venv/bin/python bench/bench_matcher.py --docs 20000 --needs 2000

Measured in one run, one process (plus the fit's worker processes):
* jieba alone: ``jieba.lcut`` (default dictionary and settings, one process) over every
  achievement's title + description, against ``Matcher(n_jobs=2).fit`` on the same documents;
* one need against the corpus: ``Matcher.rank(need, top=10)`` latency, against a bare sparse
  product + argpartition over the same matrix with the query already vectorised;
* ``rank_many`` of all needs (top 10);
* peak resident memory (this process; the fit's workers separately).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path

import jieba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import Synth

from matching import Matcher
from matching.text import warm_up


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def load() -> float:
    return os.getloadavg()[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--needs", type=int, default=10_000)
    ap.add_argument("--latency-queries", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args(argv)

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    warm_up()
    synth = Synth(seed=0)
    docs = synth.achievements(args.docs)
    needs = synth.needs(args.needs)
    texts = [f"{d.title} {d.description}" for d in docs]
    res: dict[str, float] = {
        "docs": args.docs,
        "needs": args.needs,
        "chars_per_doc": float(np.mean([len(t) for t in texts])),
    }
    print(f"corpus: {args.docs} achievements ({res['chars_per_doc']:.0f} chars each), {args.needs} needs", flush=True)

    t, c, la = time.perf_counter(), cpu_s(), load()
    n_tokens = sum(len(jieba.lcut(x)) for x in texts)
    res["jieba_s"] = time.perf_counter() - t
    res["jieba_cpu_s"] = cpu_s() - c
    print(
        f"jieba alone (1 process): {res['jieba_s']:.1f} s wall, {res['jieba_cpu_s']:.1f} s CPU, {n_tokens} tokens "
        f"(load average before: {la:.2f})",
        flush=True,
    )
    del texts
    gc.collect()
    rss_before_fit = rss_mb()

    t, c, la = time.perf_counter(), cpu_s(), load()
    m = Matcher(n_jobs=args.jobs).fit(docs)
    res["fit_s"] = time.perf_counter() - t
    res["fit_cpu_s"] = cpu_s() - c
    res["fit_over_jieba"] = res["fit_s"] / res["jieba_s"]
    res["fit_cpu_over_jieba_cpu"] = res["fit_cpu_s"] / res["jieba_cpu_s"]
    res["nnz"] = int(m.matrix_t_.nnz)
    res["features"] = int(m.matrix_t_.shape[0])
    print(
        f"fit (n_jobs={args.jobs}): {res['fit_s']:.1f} s wall = {res['fit_over_jieba']:.2f} x jieba; "
        f"{res['fit_cpu_s']:.1f} s CPU in all processes = {res['fit_cpu_over_jieba_cpu']:.2f} x jieba's CPU "
        f"(load average before: {la:.2f}); "
        f"{res['features']} features, {res['nnz']} non-zeros",
        flush=True,
    )

    queries = needs[: args.latency_queries]
    m.n_jobs = 1
    for q in queries[:20]:  # warm caches
        m.rank(q)
    lat, bare = [], []
    for q in queries:
        t = time.perf_counter()
        m.rank(q, top=10)
        lat.append(time.perf_counter() - t)
    vecs = [m._vectorize([q])[0] for q in queries]
    mt = m.matrix_t_
    for v in vecs:
        t = time.perf_counter()
        s = (v @ mt).toarray().ravel()
        top = np.argpartition(-s, 9)[:10]
        top[np.argsort(-s[top])]
        bare.append(time.perf_counter() - t)
    res["rank_p50_ms"] = 1000 * float(np.median(lat))
    res["rank_p95_ms"] = 1000 * float(np.percentile(lat, 95))
    res["bare_p50_ms"] = 1000 * float(np.median(bare))
    res["rank_over_bare"] = res["rank_p50_ms"] / res["bare_p50_ms"]
    print(
        f"rank one need: p50 {res['rank_p50_ms']:.2f} ms, p95 {res['rank_p95_ms']:.2f} ms; "
        f"bare product+argpartition p50 {res['bare_p50_ms']:.2f} ms; ratio {res['rank_over_bare']:.2f}",
        flush=True,
    )

    m.n_jobs = args.jobs
    t, la = time.perf_counter(), load()
    out = m.rank_many(needs, top=10)
    res["batch_s"] = time.perf_counter() - t
    res["load_before_batch"] = la
    assert len(out) == len(needs)
    print(f"rank_many {len(needs)} needs (n_jobs={args.jobs}): {res['batch_s']:.1f} s", flush=True)

    res["peak_rss_mb"] = rss_mb()
    res["peak_rss_before_fit_mb"] = rss_before_fit
    res["peak_rss_children_mb"] = rss_mb(resource.RUSAGE_CHILDREN)
    print(
        f"peak RSS: {res['peak_rss_mb']:.0f} MB (of which {rss_before_fit:.0f} MB before fitting: corpus + jieba); "
        f"largest worker {res['peak_rss_children_mb']:.0f} MB",
        flush=True,
    )
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
