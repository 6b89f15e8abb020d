"""Draw the figures of docs/benchmarks.md as plain SVG (no plotting library needed).

    .venv/bin/python bench/figures.py bench/results_eval.json bench/results_matcher.json

writes bench/figures/eval.svg and bench/figures/speed.svg.
"""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path

OUT = Path(__file__).resolve().parent / "figures"
COLOURS = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5"]


def bars(title: str, groups: list[str], series: list[tuple[str, list[float]]], vmax: float, unit: str = "") -> str:
    """Grouped horizontal bars: one group per label, one bar per series."""
    bar, gap, left, width = 14, 12, 250, 360
    height = 50 + len(groups) * (len(series) * bar + gap) + 20 * len(series)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    y = 40
    for gi, group in enumerate(groups):
        out.append(f'<text x="10" y="{y + bar * len(series) / 2 + 4}">{escape(group)}</text>')
        for si, (_, values) in enumerate(series):
            v = values[gi]
            w = max(1.0, width * v / vmax)
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{COLOURS[si]}"/>')
            out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 4}">{v:.3f}{unit}</text>')
            y += bar
        y += gap
    for si, (name, _) in enumerate(series):
        out.append(f'<rect x="10" y="{y + 20 * si}" width="12" height="12" fill="{COLOURS[si]}"/>')
        out.append(f'<text x="28" y="{y + 20 * si + 10}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    evaluation = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    speed = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    OUT.mkdir(exist_ok=True)
    methods = list(dict.fromkeys(r["method"] for r in evaluation if not r["method"].startswith("-")))
    series = []
    for split in ("dev", "test"):
        for metric in ("nDCG@10", "P@1"):
            vals = [next(r[metric] for r in evaluation if r["method"] == m and r["split"] == split) for m in methods]
            series.append((f"{metric} ({split})", vals))
    (OUT / "eval.svg").write_text(bars("Labelled set: matcher vs baselines", methods, series, 1.0), encoding="utf-8")
    groups = [
        "fit / jieba alone (wall)",
        "fit / jieba alone (CPU)",
        "rank one need / bare product",
        "rank one need p50 / 10 ms",
        "batch 10k needs / 60 s",
        "peak RSS / 1.5 GB",
    ]
    ours = [
        speed["fit_over_jieba"],
        speed["fit_cpu_over_jieba_cpu"],
        speed["rank_over_bare"],
        speed["rank_p50_ms"] / 10,
        speed["batch_s"] / 60,
        speed["peak_rss_mb"] / 1536,
    ]
    budget = [1.5, 1.5, 3.0, 1.0, 1.0, 1.0]
    svg = bars(
        "100,000 synthetic achievements: measured ratio vs budget",
        groups,
        [("measured", ours), ("budget", budget)],
        max(ours + budget),
    )
    (OUT / "speed.svg").write_text(svg, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
