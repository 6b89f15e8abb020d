"""Command line: ``python -m matching rank --supplies S.jsonl --demands D.jsonl --top 10``.

Reads JSON lines ``{"id", "title", "description", "field"?, "keywords"?}`` and prints
one JSON line per need: ``{"demand_id", "matches": [{"supply_id", "score", "terms"}],
"no_match": bool}``.  ``matches`` holds only candidates above the no-match threshold
(all of the top ones with ``--all``).  A malformed line is reported on stderr with its
file and line number, exit code 2, and nothing is printed on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .matcher import Matcher
from .schema import Document


class InputError(Exception):
    """A malformed input line."""


def read_jsonl(path: str) -> list[Document]:
    """Documents of a JSON-lines file; ``InputError`` names the file and line."""
    docs: list[Document] = []
    seen: set[str] = set()
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 - the with below closes it; open errors are reported
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    with fh:
        try:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    doc = Document.from_dict(json.loads(line))
                except (ValueError, TypeError) as exc:
                    msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                    raise InputError(f"{path}:{lineno}: malformed line: {msg}") from exc
                if doc.id in seen:
                    raise InputError(f"{path}:{lineno}: duplicate id {doc.id!r}")
                seen.add(doc.id)
                docs.append(doc)
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8: {exc.reason}") from exc
    return docs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching", description="Rank achievements for needs.")
    sub = parser.add_subparsers(dest="command", required=True)
    rank = sub.add_parser("rank", help="rank supplies (achievements) for each demand (need)")
    rank.add_argument("--supplies", required=True, help="JSON lines of achievements")
    rank.add_argument("--demands", required=True, help="JSON lines of needs")
    rank.add_argument("--top", type=int, default=10)
    rank.add_argument("--threshold", type=float, default=None, help="override the no-match threshold")
    rank.add_argument("--all", action="store_true", help="also list candidates under the threshold")
    rank.add_argument("--jobs", type=int, default=1, help="processes for large inputs (-1: all cores)")
    args = parser.parse_args(argv)
    try:
        supplies = read_jsonl(args.supplies)
        demands = read_jsonl(args.demands)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    params: dict = {"n_jobs": args.jobs}
    if args.threshold is not None:
        params["threshold"] = args.threshold
    matcher = Matcher(**params).fit(supplies)
    out = sys.stdout
    for demand, matches in zip(demands, matcher.rank_many(demands, top=args.top), strict=True):
        good = [m for m in matches if matcher.is_match(m.score)]
        shown = matches if args.all else good
        record = {
            "demand_id": demand.id,
            "matches": [{"supply_id": m.id, "score": round(m.score, 6), "terms": list(m.terms)} for m in shown],
            "no_match": not good,
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0
