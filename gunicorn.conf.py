"""gunicorn settings: ``gunicorn -c gunicorn.conf.py wsgi:app`` (see README, 生产部署)."""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 60
# in production the app writes one JSON line per request (techmarket.logging_setup)
accesslog = None if os.environ.get("APP_ENV") == "production" else "-"


def when_ready(server):
    """Before workers take requests: use the saved matcher index when it matches the data, else update it."""
    from datetime import date
    from pathlib import Path

    from techmarket import matchindex
    from techmarket.extensions import db
    from wsgi import app

    with app.app_context():
        index = matchindex.get(db.session, Path(app.config["MATCHING_DIR"]), date.today())
        db.session.commit()
        server.log.info("matcher index ready (version %s)", index.version)
