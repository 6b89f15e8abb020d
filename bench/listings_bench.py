"""Marketplace page timings with 10,000 achievements and 10,000 needs (issue: list/search < 100 ms).

    .venv/bin/python bench/listings_bench.py                       # SQLite, in a temporary file
    .venv/bin/python bench/listings_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/techmarket_bench

The PostgreSQL database must exist and be empty (the script runs the migrations). Listings are built by
recombining the sentences of seed_data/ (same vocabulary, different combinations), indexed with the same
jieba code as the app, and bulk-inserted. Each page is then requested through the Flask test client
(the full server path: routing, session, queries, template) and timed.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from techmarket import create_app
from techmarket.domain.listings import (
    Cooperation,
    IPType,
    ListingStatus,
    Maturity,
    TechField,
    cooperation_mask,
)
from techmarket.extensions import db
from techmarket.models import Achievement, ListingTerm, Need, Organisation
from techmarket.models.types import utcnow
from techmarket.search import index_terms
from techmarket.seed import load_accounts, read_json

PAGES = [
    ("成果列表（第1页）", "/achievements/"),
    ("成果列表（第200页）", "/achievements/?page=200"),
    ("成果搜索“轴承”", "/achievements/?q=轴承"),
    ("成果搜索“耐火材料 节能”", "/achievements/?q=耐火材料 节能"),
    (
        "成果筛选（领域+成熟度+价格）",
        "/achievements/?field=advanced_manufacturing&maturity=pilot&min=100000&max=2000000",
    ),
    ("需求列表（按截止日期）", "/needs/?sort=deadline"),
    ("需求搜索+镇+预算", "/needs/?q=码垛&town=岳滩镇&min=50000"),
    ("成果详情", "/achievements/{achievement_id}"),
    ("需求详情", "/needs/{need_id}"),
]


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。；！？])", text) if s.strip()]


def build_rows(n: int, kind: str, org_ids: list[int], rng: random.Random, today: date) -> list[dict]:
    source = read_json("achievements.json" if kind == "achievement" else "needs.json")
    pool = [s for row in source for s in sentences(row["description"])]
    titles = [row["title"] for row in source]
    rows = []
    for i in range(n):
        base = rng.choice(source)
        description = "".join(rng.sample(pool, 3))
        title = f"{rng.choice(titles)}（{i + 1}）"
        common = {
            "org_id": rng.choice(org_ids),
            "title": title[:100],
            "field": rng.choice(list(TechField)),
            "cooperation_mask": cooperation_mask(rng.sample(list(Cooperation), rng.randint(1, 3))),
            "status": ListingStatus.PUBLISHED,
            "published_at": utcnow() - timedelta(minutes=i),
            "created_at": utcnow(),
            "updated_at": utcnow(),
            "version": 1,
        }
        if kind == "achievement":
            rows.append(
                {
                    **common,
                    "summary": sentences(base["description"])[0][:300],
                    "description": description,
                    "keywords": base.get("keywords", []),
                    "maturity": rng.choice(list(Maturity)),
                    "trl": rng.randint(3, 9),
                    "ip_type": rng.choice(list(IPType)),
                    "patent_numbers": [],
                    "price": None if rng.random() < 0.3 else Decimal(rng.randrange(5, 500) * 10000),
                    "team": "",
                    "contact_name": "",
                    "contact_phone": "",
                    "pilot_base": rng.random() < 0.05,
                    "expires_on": today + timedelta(days=rng.randint(30, 365)),
                }
            )
        else:
            low = Decimal(rng.randrange(1, 50) * 10000)
            deadline = today + timedelta(days=rng.randint(10, 400))
            rows.append(
                {
                    **common,
                    "description": description,
                    "expected_outcome": base.get("expected_outcome", ""),
                    "budget_min": low,
                    "budget_max": low * 3,
                    "deadline": deadline,
                    "confidential_details": "",
                    "anonymous": rng.random() < 0.1,
                    "expires_on": deadline,
                }
            )
    return rows


def load(n: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    today = date.today()
    timings = {}
    org_ids = list(db.session.scalars(select(Organisation.id).where(Organisation.kind != "bureau")))
    for kind, model in (("achievement", Achievement), ("need", Need)):
        rows = build_rows(n, kind, org_ids, rng, today)
        start = time.perf_counter()
        first_id = (db.session.scalar(select(func.max(model.id))) or 0) + 1
        db.session.execute(insert(model), rows)
        db.session.flush()
        ids = list(db.session.scalars(select(model.id).where(model.id >= first_id).order_by(model.id)))
        terms = []
        for listing_id, row in zip(ids, rows, strict=True):
            parts = [
                row["title"],
                row["description"],
                row.get("summary", ""),
                row.get("expected_outcome", ""),
                " ".join(row.get("keywords", [])),
            ]
            terms.extend({"kind": kind, "term": t, "listing_id": listing_id} for t in index_terms(parts))
        db.session.execute(insert(ListingTerm), terms)
        db.session.commit()
        timings[kind] = time.perf_counter() - start
    return timings


def analyze(engine) -> None:
    """Give the planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) would."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def time_pages(app, repeats: int) -> list[tuple[str, float, float]]:
    with app.app_context():
        ids = {
            "achievement_id": db.session.scalar(select(func.max(Achievement.id))),
            "need_id": db.session.scalar(select(func.max(Need.id))),
        }
    client = app.test_client()
    results = []
    for label, path in PAGES:
        url = path.format(**ids)
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            resp = client.get(url)
            resp.get_data()
            samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        results.append((label, statistics.median(samples), samples[int(len(samples) * 0.95) - 1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("-n", type=int, default=10_000, help="listings of each kind (default 10000)")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="techmarket-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-" * 8,
            "RATELIMIT_STORAGE_URI": "memory://",
            "UPLOAD_FOLDER": f"{tmp}/uploads",
        }
    )
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        load_accounts(db.session)
        db.session.commit()
        loaded = load(args.n, seed=2026)
        analyze(db.engine)
        counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in (Achievement, Need)}
        terms = db.session.scalar(select(func.count()).select_from(ListingTerm))
    backend = url.split(":", 1)[0]
    print(
        f"数据库 {backend}：科技成果 {counts['Achievement']} 条，技术需求 {counts['Need']} 条，索引词条 {terms} 行；"
        f"载入+分词用时 成果 {loaded['achievement']:.1f} s，需求 {loaded['need']:.1f} s"
    )
    print("\n| 页面 | p50 (ms) | p95 (ms) |\n|---|---:|---:|")
    for label, p50, p95 in time_pages(app, args.repeats):
        print(f"| {label} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
