"""flask backup / flask restore: one snapshot (database + uploaded files) restored into an empty database.

On SQLite the target is a fresh database file; with TEST_DATABASE_URL (PostgreSQL) it is a second,
fresh database created next to the test database on the same server and dropped afterwards.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from techmarket import PROJECT_ROOT, backup
from techmarket.backup import BackupError
from techmarket.domain.contracts import EvidenceKind
from techmarket.extensions import db
from techmarket.models import AuditEntry, Contract, EvidenceFile, Payment, TaskReportFile
from techmarket.services import contracts as svc
from tests.web.contracts_factory import PDF, PNG, TODAY, attach, deal

MIGRATIONS = PROJECT_ROOT / "migrations"


def _snapshot_of(url: str) -> dict:
    """Everything the restore must bring back, read straight from a database."""
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            return {
                "contracts": {
                    c.id: (c.title, c.status.value, c.registration_no, c.contract_amount)
                    for c in s.scalars(select(Contract))
                },
                "payments": {p.id: (p.contract_id, p.amount, p.paid_on) for p in s.scalars(select(Payment))},
                "files": {f.id: (f.stored_name, f.sha256, f.kind.value) for f in s.scalars(select(EvidenceFile))},
                "report_files": sorted(s.scalars(select(TaskReportFile.stored_name))),
                "audit": {
                    a.id: (a.action, a.object_type, a.object_id, a.actor_id, a.detail)
                    for a in s.scalars(select(AuditEntry))
                },
                "revision": s.execute(text("SELECT version_num FROM alembic_version")).scalar(),
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def source(app, tmp_path_factory) -> Iterator[dict]:
    """A registered contract with a payment (voucher + invoice) and its audit trail, then one backup."""
    with app.app_context():
        p = deal(app, db.session, "registered")
        contract = p["contract"]
        payment = svc.add_payment(
            db.session,
            p["buyer"],
            contract,
            paid_on=TODAY - timedelta(days=3),
            amount=Decimal("300000.00"),
            technology_amount=None,
            confirm_over_total=False,
            today=TODAY,
        )
        attach(app, db.session, p["buyer"], contract, EvidenceKind.VOUCHER, payment=payment, data=PNG, name="转账.png")
        attach(app, db.session, p["buyer"], contract, EvidenceKind.INVOICE, payment=payment, name="发票.pdf")
        db.session.commit()
        ids = {"contract": contract.id, "payment": payment.id}
        db.session.remove()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    expected = _snapshot_of(url)
    archive = tmp_path_factory.mktemp("backup") / "snapshot.tar.gz"
    result = backup.create_backup(url, app.config["UPLOAD_FOLDER"], archive)
    yield {"archive": archive, "result": result, "expected": expected, "ids": ids, "url": url}


def _fresh_database(source_url: str, tmp: Path) -> Iterator[str]:
    if make_url(source_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp / 'restored.db'}"
        return
    base = make_url(source_url)
    name = f"{base.database}_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def target(source, tmp_path_factory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("restore")
    for url in _fresh_database(source["url"], tmp):
        yield {"url": url, "uploads": tmp / "uploads"}


def test_manifest_lists_the_database_and_every_file_with_sha256(source, app):
    with tarfile.open(source["archive"], "r:gz") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["format"] == "techmarket-backup" and manifest["format_version"] == 1
    assert manifest["created_at"].endswith("Z")
    assert manifest["alembic_revision"] == source["expected"]["revision"]
    assert manifest["database"]["kind"] == make_url(source["url"]).get_backend_name()
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    for stored_name, sha, _kind in source["expected"]["files"].values():
        assert listed[stored_name] == sha
    assert source["result"].file_count == len(manifest["files"])


def test_restore_into_an_empty_database_brings_back_every_row_and_file(source, target, app):
    result = backup.restore_backup(source["archive"], target["url"], target["uploads"], MIGRATIONS)
    assert not result.replaced and not result.needs_upgrade
    restored = _snapshot_of(target["url"])
    expected = source["expected"]
    assert restored == expected
    assert source["ids"]["contract"] in restored["contracts"] and source["ids"]["payment"] in restored["payments"]
    contract_files = [f for f in restored["files"].values() if f[2] in ("voucher", "invoice")]
    assert contract_files, "the payment's evidence is restored"
    for stored_name, _sha, _kind in expected["files"].values():
        original = Path(app.config["UPLOAD_FOLDER"], stored_name).read_bytes()
        assert Path(target["uploads"], stored_name).read_bytes() == original
    for stored_name in expected["report_files"]:
        assert (
            Path(target["uploads"], stored_name).read_bytes()
            == Path(app.config["UPLOAD_FOLDER"], stored_name).read_bytes()
        )
    assert not [p for p in target["uploads"].iterdir() if p.name.startswith(".restore-")]


def test_a_non_empty_database_is_refused_unless_replace(source, target):
    before = _snapshot_of(target["url"])
    assert before["contracts"], "runs after the restore above"
    with pytest.raises(BackupError, match=r"不是空的.*--yes"):
        backup.restore_backup(source["archive"], target["url"], target["uploads"], MIGRATIONS)
    result = backup.restore_backup(source["archive"], target["url"], target["uploads"], MIGRATIONS, replace=True)
    assert result.replaced
    assert _snapshot_of(target["url"]) == source["expected"]


def _rewrite(archive: Path, out: Path, change) -> Path:
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            data = change(member.name, data)
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


def test_a_tampered_archive_is_refused_and_changes_nothing(source, tmp_path):
    victim = next(iter(source["expected"]["files"].values()))[0]

    def flip(name: str, data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1]) if name == f"files/{victim}" else data

    tampered = _rewrite(source["archive"], tmp_path / "tampered.tar.gz", flip)
    uploads = tmp_path / "uploads"
    url = f"sqlite:///{tmp_path / 'untouched.db'}"
    with pytest.raises(BackupError, match=r"SHA-256.*篡改"):
        backup.restore_backup(tampered, url, uploads, MIGRATIONS)
    assert list(uploads.iterdir()) == [] and backup.database_revision(url) is None


def test_a_missing_truncated_or_foreign_archive_is_refused(source, tmp_path):
    uploads = tmp_path / "uploads"
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(BackupError, match="备份文件不存在"):
        backup.restore_backup(tmp_path / "nope.tar.gz", url, uploads, MIGRATIONS)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(source["archive"].read_bytes()[:2000])
    with pytest.raises(BackupError, match="已损坏"):
        backup.restore_backup(truncated, url, uploads, MIGRATIONS)
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"PK\x03\x04 not a tarball")
    with pytest.raises(BackupError, match="已损坏"):
        backup.restore_backup(garbage, url, uploads, MIGRATIONS)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("files/../../escaped.pdf")
        info.size = len(PDF)
        tar.addfile(info, io.BytesIO(PDF))
    with pytest.raises(BackupError, match="不安全"):
        backup.restore_backup(evil, url, uploads, MIGRATIONS)
    assert not (tmp_path / "escaped.pdf").exists()


def test_a_snapshot_from_a_newer_version_is_refused(target, tmp_path):
    engine = create_engine(target["url"])
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    finally:
        engine.dispose()
    newer = backup.create_backup(target["url"], tmp_path / "no-uploads", tmp_path / "newer.tar.gz")
    assert newer.revision == "9999_from_the_future"
    with pytest.raises(BackupError, match=r"比当前程序的数据库版本 .* 新"):
        backup.restore_backup(newer.path, target["url"], target["uploads"], MIGRATIONS, replace=True)


def test_libpq_url_keeps_the_password_out_of_the_command_line():
    conn, env = backup.libpq_url("postgresql+psycopg://tm:s3cret@db.internal:5433/techmarket?sslmode=require")
    assert conn == "postgresql://tm@db.internal:5433/techmarket?sslmode=require"
    assert env["PGPASSWORD"] == "s3cret"


# --- the commands -------------------------------------------------------------------------------------


def test_backup_and_restore_commands(app, source, tmp_path):
    from techmarket import create_app, matchindex
    from tests.conftest import TEST_SECRET

    runner = app.test_cli_runner()
    out = tmp_path / "cli.tar.gz"
    result = runner.invoke(args=["backup", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "备份完成" in result.output and out.is_file()

    result = runner.invoke(args=["restore", str(tmp_path / "missing.tar.gz")])
    assert result.exit_code != 0 and "备份文件不存在" in result.output
    result = runner.invoke(args=["restore", str(out)])  # the test database is not empty
    assert result.exit_code != 0 and "不是空的" in result.output

    if make_url(source["url"]).get_backend_name() != "sqlite":
        return  # the PostgreSQL path of restore_backup is covered above; one more database is not needed
    fresh = create_app(
        {
            "APP_ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cli.db'}",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "MATCHING_DIR": str(tmp_path / "matching"),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    try:
        result = fresh.test_cli_runner().invoke(args=["restore", str(out)])
        assert result.exit_code == 0, result.output
        assert "恢复完成" in result.output and "重建匹配索引" in result.output
        with fresh.app_context():
            assert db.session.scalar(select(func.count()).select_from(Contract)) == len(source["expected"]["contracts"])
            db.session.remove()
            db.engine.dispose()
    finally:
        matchindex.reset_memory()  # the next test's worker must not see the restored copy's index


def test_any_file_name_the_folder_holds_round_trips_and_unsafe_ones_are_skipped(tmp_path):
    import sqlite3

    source_db = tmp_path / "bare.db"
    conn = sqlite3.connect(source_db)
    conn.execute("CREATE TABLE note (body TEXT)")
    conn.execute("INSERT INTO note VALUES ('合同备注')")
    conn.commit()
    conn.close()
    uploads = tmp_path / "uploads"
    (uploads / "导入").mkdir(parents=True)
    (uploads / "导入" / "名录 2026.xlsx").write_bytes(b"PK\x03\x04xlsx")
    (uploads / "bad\nname.pdf").write_bytes(PDF)
    result = backup.create_backup(f"sqlite:///{source_db}", uploads, tmp_path / "b.tar.gz")
    assert result.file_count == 1 and result.revision is None
    restored = tmp_path / "restored"
    backup.restore_backup(result.path, f"sqlite:///{restored / 'db' / 'x.db'}", restored / "uploads", MIGRATIONS)
    assert (restored / "uploads" / "导入" / "名录 2026.xlsx").read_bytes() == b"PK\x03\x04xlsx"
    conn = sqlite3.connect(restored / "db" / "x.db")
    try:
        assert conn.execute("SELECT body FROM note").fetchall() == [("合同备注",)]
    finally:
        conn.close()
