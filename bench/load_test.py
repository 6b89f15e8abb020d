"""Load test: gunicorn (2 workers) on this machine, driven by wrk over loopback.

    .venv/bin/python bench/load_test.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/techmarket_bench

The database should hold the 10,000 + 10,000 listings of ``bench/listings_bench.py`` (run that first on an
empty database). The script starts ``gunicorn -c gunicorn.conf.py wsgi:app`` (the production server; APP_ENV=development only so that the login run keeps its cookies over plain HTTP) on a free
port (Redis for the login throttle), warms up, then runs wrk (``bench/wrk_summary.lua``) for 15 s per page
at 16 and at 100 connections and prints a Markdown table: requests/s, p50/p95/p99 latency, and the count
of responses that were neither 2xx nor 3xx. A last run has 16 clients guess passwords to show the throttle.
Bounded: fixed durations, loopback only, gunicorn stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ("首页", "/"),
    ("成果列表+筛选", "/achievements/?field=advanced_manufacturing&maturity=pilot&sort=newest"),
    ("需求列表+筛选", "/needs/?town=岳滩镇&min=50000&sort=deadline"),
    ("成果搜索“轴承 磨削”", "/achievements/?q=%E8%BD%B4%E6%89%BF%20%E7%A3%A8%E5%89%8A"),
    ("需求详情（含推荐）", "/needs/{need_id}"),
    ("成果详情（含推荐）", "/achievements/{achievement_id}"),
    ("登录页", "/login"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback only
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"服务未在 {timeout} 秒内就绪：{url}")


def wrk(url: str, connections: int, seconds: int, script: Path, extra: list[str] | None = None) -> dict:
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        *(extra or []),
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    return json.loads(out.strip().splitlines()[-1])


def login_flood(base: str, clients: int = 16, attempts: int = 20) -> str:
    """Password guessing: each client gets a real CSRF token, then posts wrong passwords for one account."""
    import http.cookiejar
    import re
    import threading
    import urllib.parse
    from collections import Counter

    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def guess(n: int) -> None:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        html = opener.open(base + "/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        for i in range(attempts):
            data = urllib.parse.urlencode(
                {"username": "enterprise" if n % 2 else f"guess{n}", "password": f"wrong-{i}", "csrf_token": token}
            ).encode()
            try:
                code = opener.open(base + "/login", data=data, timeout=30).status
            except urllib.error.HTTPError as exc:
                code = exc.code
            with lock:
                statuses[code] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=guess, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - start
    total = sum(statuses.values())
    parts = "，".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
    return (
        f"登录猜测：{clients} 个客户端共 {total} 次错误密码登录，用时 {seconds:.1f} 秒（{total / seconds:.0f} 次/秒）；"
        f"状态码 {parts}。429 为限流拒绝，不做口令哈希。"
    )


def ids(database_url: str) -> dict[str, int]:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        need = conn.execute(text("SELECT max(id) FROM need WHERE status = 'published'")).scalar_one()
        ach = conn.execute(text("SELECT max(id) FROM achievement WHERE status = 'published'")).scalar_one()
    engine.dispose()
    return {"need_id": need, "achievement_id": ach}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="techmarket-load-"))
    env = {
        **os.environ,
        "APP_ENV": "development",  # plain-HTTP cookies for the login run; the same code as production
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secrets.token_urlsafe(40),
        "RATELIMIT_STORAGE_URI": args.redis_url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "MATCHING_DIR": str(tmp / "matching"),
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "PROXY_HOPS": "0",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + "/", timeout=300)  # the first start builds the matcher index
        known = ids(args.database_url)
        script = ROOT / "bench/wrk_summary.lua"
        rows = []
        for label, path in PAGES:
            url = base + urllib.parse.quote(path.format(**known), safe="/?=&%")
            wrk(url, 4, 3, script)  # warm-up: every worker has the index and its caches
            for connections in (16, 100):
                r = wrk(url, connections, args.seconds, script)
                rows.append((label, connections, r))
        print(
            f"gunicorn 2 workers (APP_ENV=development), {args.database_url.split('@')[-1]}; wrk -t2, {args.seconds} s each\n"
        )
        print("| 页面 | 并发 | 请求/秒 | p50 (ms) | p95 (ms) | p99 (ms) | 非2xx/3xx | 连接错误 |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, connections, r in rows:
            print(
                f"| {label} | {connections} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
                f"| {r['non_2xx_3xx']} | {r['socket_errors']} |"
            )
        print("\n" + login_flood(base))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
