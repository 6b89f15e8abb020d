"""The schema comes from the migrations, the demo data loads twice without duplicates, SQLite takes writers."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text

from techmarket.domain.accounts import OrgKind, Role
from techmarket.extensions import db
from techmarket.models import Organisation, User
from techmarket.seed import load_accounts, read_json
from techmarket.sqlite import install_pragmas


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_seed_is_idempotent(app):
    with app.app_context():
        counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Organisation, User)]
        report = load_accounts(db.session)
        db.session.commit()
        assert report.created == {"organisations": 0, "users": 0}
        assert [db.session.scalar(select(func.count()).select_from(m)) for m in (Organisation, User)] == counts


def test_demo_data_meets_the_floors(app):
    orgs = read_json("organisations.json")
    assert len(orgs) >= 25
    kinds = {o["kind"] for o in orgs}
    assert set(OrgKind) <= {OrgKind(k) for k in kinds}
    assert len(read_json("achievements.json")) >= 60
    assert len(read_json("needs.json")) >= 40
    users = read_json("users.json")
    assert sum(u["role"] == "broker" for u in users) >= 5
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.role == Role.BUREAU)) >= 1
        assert db.session.scalar(select(func.count()).select_from(User).where(User.role == Role.BROKER)) >= 5


def test_sqlite_concurrent_read_then_write_transactions(tmp_path):
    """Eight threads each run 40 read-then-write transactions on one counter: no SQLITE_BUSY, no lost update."""
    install_pragmas()
    engine = create_engine(f"sqlite:///{tmp_path / 'concurrency.db'}", pool_size=8)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(40):
                with engine.begin() as conn:
                    n = conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
                    conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        final = conn.execute(text("SELECT n FROM counter")).scalar_one()
    engine.dispose()
    assert errors == []
    assert final == 8 * 40


def test_demo_contracts_load_once_with_their_evidence(app):
    from pathlib import Path

    from techmarket.domain.contracts import ContractStatus
    from techmarket.models import Contract, EvidenceFile
    from techmarket.seed import load_contracts

    with app.app_context():
        seeded = db.session.scalars(select(Contract).where(Contract.form_token.like("seed-%"))).all()
        assert len(seeded) == len(read_json("contracts.json"))
        assert all(c.status == ContractStatus.REGISTERED and c.registration_no for c in seeded)
        files = db.session.scalars(select(EvidenceFile).where(EvidenceFile.contract_id.in_([c.id for c in seeded])))
        stored = [Path(app.config["UPLOAD_FOLDER"]) / f.stored_name for f in files]
        assert stored and all(p.read_bytes().startswith(b"%PDF-") for p in stored)
        created, staged = load_contracts(db.session, app.config["UPLOAD_FOLDER"], app.config["UPLOAD_LIMIT_BYTES"])
        db.session.rollback()
        assert created == {"contracts": 0} and staged == []
