"""How the shipped matcher threshold behaves on the demo data in seed_data/.

    .venv/bin/python bench/seed_matching.py

Fits the matcher on the published demo achievements (as the platform does), ranks every published demo
need, and prints each need's best score; then how many needs clear the threshold, separately for the
needs the demo data was written to have no good match (listed in seed_data/README.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching import Document, Matcher  # noqa: E402

NO_GOOD_MATCH = {"n017", "n021", "n024", "n027", "n028", "n031", "n033", "n048", "n050", "n051"}


def main() -> None:
    achievements = json.loads((ROOT / "seed_data/achievements.json").read_text(encoding="utf-8"))
    needs = json.loads((ROOT / "seed_data/needs.json").read_text(encoding="utf-8"))
    docs = [
        Document(a["key"], a["title"], f"{a['summary']}\n{a['description']}", a["field"], tuple(a["keywords"]))
        for a in achievements
        if a["status"] == "published"
    ]
    matcher = Matcher().fit(docs)
    rows = []
    for n in needs:
        if n["status"] != "published":
            continue
        doc = Document(n["key"], n["title"], f"{n['description']}\n{n['expected_outcome']}", n["field"])
        best = matcher.rank(doc, top=1)[0]
        rows.append((best.score, n["key"], best.id, n["title"]))
    rows.sort(reverse=True)
    for score, key, ach, title in rows:
        flag = "（无合适成果）" if key in NO_GOOD_MATCH else ""
        print(f"{score:.3f}  {key} → {ach}  {title}{flag}")
    with_match = [r for r in rows if r[1] not in NO_GOOD_MATCH]
    without = [r for r in rows if r[1] in NO_GOOD_MATCH]
    kept = sum(r[0] >= matcher.threshold for r in with_match)
    said = sum(r[0] < matcher.threshold for r in without)
    print(
        f"\nthreshold {matcher.threshold}: needs written to have a match: {kept}/{len(with_match)} shown; "
        f"needs written to have none: {said}/{len(without)} say 暂无合适的科技成果"
    )


if __name__ == "__main__":
    main()
