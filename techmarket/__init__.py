"""techmarket (技术市场): the technology-transfer platform of a city science and technology bureau."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from techmarket import cli, errors, logging_setup, sqlite, web
    from techmarket.config import build_config
    from techmarket.extensions import bootstrap, csrf, db, limiter, login_manager, migrate

    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_mapping(build_config(Path(app.instance_path), config))
    logging.getLogger("techmarket").setLevel(logging.INFO)

    sqlite.install_pragmas()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)

    web.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    logging_setup.init_app(app)  # JSON log lines when APP_ENV=production
    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app
