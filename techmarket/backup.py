"""One consistent snapshot of the platform: the database plus every uploaded file, and its restore.

A snapshot is a ``.tar.gz`` holding

- ``database/techmarket.sqlite3`` (SQLite, taken with the online backup API, never a file copy of an open
  database) or ``database/techmarket.pgdump`` (PostgreSQL, ``pg_dump -Fc``);
- ``files/<path>``: everything under ``UPLOAD_FOLDER`` (contract evidence and task-report attachments both
  live there), ``.part`` files included (a crash between commit and move leaves the only copy there);
- ``manifest.json`` (last): format version, ``created_at`` (UTC), the database's Alembic revision, the
  database kind, and the size and sha256 of the dump and of every file.

The database is dumped first and the files copied afterwards. Stored files are never changed or deleted
(generated names, written once), so every row of the dump finds its file in the archive; a file uploaded
while the backup runs may be in the archive without its row, which is harmless.

Restore checks everything before it changes anything: the archive reads, every member's sha256 matches
the manifest, the snapshot's revision is known to this code (a snapshot from a newer version is refused),
and the target database is empty (unless ``replace``). Only then the database is restored (SQLite through
the backup API, PostgreSQL with ``pg_restore --clean --if-exists --no-owner``) and the files moved in.

Plain functions taking paths and URLs and returning plain values; ``flask backup`` / ``flask restore``
(bottom of this module) are thin wrappers. Every message is Chinese.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import click
from flask.cli import with_appcontext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

FORMAT = "techmarket-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
#: tables that hold rows in a freshly migrated, otherwise empty database
BOOKKEEPING_TABLES = frozenset({"alembic_version", "matching_state"})
_UNSAFE_CHARS_RE = re.compile(r"[\x00-\x1f\x7f\\]")


class BackupError(RuntimeError):
    """A refused backup or restore; the message is Chinese and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class BackupResult:
    path: Path
    database_kind: str
    revision: str | None
    file_count: int
    total_bytes: int
    created_at: str


@dataclass
class RestoreResult:
    database_kind: str
    revision: str | None
    file_count: int
    replaced: bool
    needs_upgrade: bool  # the snapshot is older than the code: run `flask db upgrade`
    notes: list[str] = field(default_factory=list)


# --- helpers ------------------------------------------------------------------------------------------


def database_kind(url: str | URL) -> str:
    backend = make_url(url).get_backend_name()
    if backend in ("sqlite", "postgresql"):
        return backend
    raise BackupError(f"不支持备份这种数据库：{backend}（仅支持 SQLite 和 PostgreSQL）。")


def sqlite_path(url: str | URL) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("SQLite 内存数据库无法备份或恢复，请配置数据库文件。")
    return Path(database)


def libpq_url(url: str | URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URL for pg_dump/pg_restore (``postgresql+psycopg://`` → ``postgresql://``),
    without the password, which goes into the environment (``PGPASSWORD``) so that ``ps`` never shows it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = URL.create("postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"找不到 PostgreSQL 客户端程序 {name}，请先安装（Debian/Ubuntu：apt install postgresql-client）。"
        )
    return path


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise BackupError(f"{what}失败：{detail[-1] if detail else f'退出码 {proc.returncode}'}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _engine(url: str | URL) -> Iterator[Any]:
    engine = create_engine(url)
    try:
        yield engine
    except SQLAlchemyError as exc:
        raise BackupError(
            f"无法访问数据库 {make_url(url).render_as_string()}：{type(exc).__name__}。请检查 DATABASE_URL 和数据库服务。"
        ) from exc
    finally:
        engine.dispose()


def database_revision(url: str | URL) -> str | None:
    """The Alembic revision the database is at (None when it was never migrated)."""
    with _engine(url) as engine, engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def database_is_empty(url: str | URL) -> bool:
    """No rows in any table but Alembic's and the matcher's bookkeeping (a freshly migrated database is empty)."""
    with _engine(url) as engine, engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if table in BOOKKEEPING_TABLES:
                continue
            quoted = conn.dialect.identifier_preparer.quote(table)
            if conn.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first() is not None:  # noqa: S608
                return False
    return True


def code_revisions(migrations_dir: str | Path) -> tuple[str, set[str]]:
    """(head, every revision) of the migrations shipped with this code."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations_dir))
    heads = script.get_heads()
    if len(heads) != 1:
        raise BackupError(f"迁移脚本有 {len(heads)} 个最新版本，无法判断快照是否兼容。")
    return heads[0], {rev.revision for rev in script.walk_revisions()}


def _upload_files(folder: Path) -> list[str]:
    """Every regular file under the folder (relative POSIX paths), hidden names (ours, e.g. a restore in
    progress) left out."""
    if not folder.is_dir():
        return []
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and not path.is_symlink() and safe_relative_path(rel):
                found.append(rel)
    return found


class _HashingReader(io.RawIOBase):
    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, source: Path, arcname: str) -> dict[str, Any] | None:
    """Stream one file into the archive, hashing exactly the bytes written; None if it vanished."""
    try:
        f = open(source, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return None
    with f:
        st = os.fstat(f.fileno())
        info = tarfile.TarInfo(arcname)
        info.size = st.st_size
        info.mtime = int(st.st_mtime)
        info.mode = 0o600
        reader = _HashingReader(f)
        tar.addfile(info, reader)
    return {"size": info.size, "sha256": reader.digest.hexdigest()}


# --- backup -------------------------------------------------------------------------------------------


def _dump_database(url: str, kind: str, target: Path) -> None:
    if kind == "sqlite":
        source = sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"数据库文件不存在：{source}")
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)  # online backup API: a consistent copy even while others write
            finally:
                dst.close()
        finally:
            src.close()
    else:
        conn, env = libpq_url(url)
        _run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(target), "--dbname", conn], env, "pg_dump 导出数据库")


def create_backup(database_url: str, upload_folder: str | Path, output: str | Path) -> BackupResult:
    """Write one snapshot archive to ``output`` (atomically: a temporary name, then ``os.replace``)."""
    kind = database_kind(database_url)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(upload_folder)
    created_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    partial = output.with_name(f".{output.name}.{uuid.uuid4().hex}.part")
    with tempfile.TemporaryDirectory(prefix="techmarket-backup-") as tmp:
        dump = Path(tmp) / ("techmarket.sqlite3" if kind == "sqlite" else "techmarket.pgdump")
        _dump_database(database_url, kind, dump)
        revision = database_revision(f"sqlite:///{dump}") if kind == "sqlite" else database_revision(database_url)
        try:
            with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
                db_entry = _add_file(tar, dump, f"database/{dump.name}")
                assert db_entry is not None
                files = []
                total = 0
                for rel in _upload_files(folder):
                    entry = _add_file(tar, folder / rel, f"files/{rel}")
                    if entry is not None:
                        files.append({"path": rel, **entry})
                        total += entry["size"]
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": created_at,
                    "alembic_revision": revision,
                    "database": {"kind": kind, "path": f"database/{dump.name}", **db_entry},
                    "files": files,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(datetime.now(UTC).timestamp())
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(data))
            with open(partial, "rb") as f:
                os.fsync(f.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(output, kind, revision, len(files), total, created_at)


# --- restore ------------------------------------------------------------------------------------------


def safe_relative_path(rel: str) -> bool:
    """A relative POSIX path that stays inside its folder: no "..", no absolute path, no control characters."""
    parts = PurePosixPath(rel).parts
    return bool(rel) and not rel.startswith("/") and not _UNSAFE_CHARS_RE.search(rel) and not {"..", "."} & set(parts)


def _check_member_path(rel: str) -> str:
    if not safe_relative_path(rel):
        raise BackupError(f"备份文件中有不安全的文件路径：{rel!r}，拒绝恢复。")
    return rel


def _read_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BackupError("备份文件中的 manifest.json 已损坏，拒绝恢复。") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("这不是技术市场的备份文件（manifest.json 格式不符），拒绝恢复。")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"备份文件的格式版本 {manifest.get('format_version')} 与本程序支持的 {FORMAT_VERSION} 不一致，拒绝恢复。"
        )
    try:
        _check_member_path(manifest["database"]["path"])
        for item in manifest["files"]:
            _check_member_path(item["path"])
            str(item["sha256"])
    except (KeyError, TypeError) as exc:
        raise BackupError("备份文件中的 manifest.json 内容不完整，拒绝恢复。") from exc
    return manifest


def _extract_and_verify(archive: Path, workdir: Path) -> dict[str, Any]:
    """Extract the members the manifest lists into ``workdir`` and check every sha256 (nothing else is
    written; unknown or unsafe members are refused)."""
    if not archive.is_file():
        raise BackupError(f"备份文件不存在：{archive}")
    extracted: dict[str, tuple[int, str]] = {}
    manifest_bytes: bytes | None = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name
                if name == MANIFEST and member.isfile():
                    source = tar.extractfile(member)
                    assert source is not None
                    manifest_bytes = source.read()
                    continue
                if not member.isfile() or not (name.startswith("database/") or name.startswith("files/")):
                    raise BackupError(f"备份文件中有不应出现的内容：{name!r}，拒绝恢复。")
                _check_member_path(name)
                target = workdir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                digest = hashlib.sha256()
                size = 0
                with open(target, "xb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                extracted[name] = (size, digest.hexdigest())
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise BackupError(f"备份文件已损坏或不是技术市场的备份文件（{type(exc).__name__}），拒绝恢复。") from exc
    if manifest_bytes is None:
        raise BackupError("备份文件中没有 manifest.json，可能已损坏或不完整，拒绝恢复。")
    manifest = _read_manifest(manifest_bytes)
    expected = {manifest["database"]["path"]: manifest["database"]}
    expected.update({f"files/{item['path']}": item for item in manifest["files"]})
    for name, item in expected.items():
        if name not in extracted:
            raise BackupError(f"备份文件缺少 {name}，可能已损坏或不完整，拒绝恢复。")
        size, sha = extracted[name]
        if sha != item["sha256"] or size != item.get("size", size):
            raise BackupError(f"校验失败：{name} 的 SHA-256 与备份清单不一致，备份文件可能已被篡改或损坏，拒绝恢复。")
    extra = set(extracted) - set(expected)
    if extra:
        raise BackupError(f"备份文件中有清单之外的文件：{sorted(extra)[0]}，拒绝恢复。")
    return manifest


def _restore_sqlite(snapshot: Path, url: str) -> None:
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"{snapshot.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)  # replaces the whole database page by page, under SQLite's own locks
        finally:
            dst.close()
    finally:
        src.close()


def _restore_postgresql(dump: Path, url: str) -> None:
    conn, env = libpq_url(url)
    args = [
        _pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        "--dbname",
        conn,
        str(dump),
    ]
    _run(args, env, "pg_restore 恢复数据库")


def restore_backup(
    archive: str | Path,
    database_url: str,
    upload_folder: str | Path,
    migrations_dir: str | Path,
    *,
    replace: bool = False,
) -> RestoreResult:
    """Restore a snapshot into the database and upload folder; raises BackupError (changing nothing) when
    the archive is missing, corrupt, tampered with, from a newer version, or the database is not empty."""
    archive = Path(archive)
    kind = database_kind(database_url)
    folder = Path(upload_folder)
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        sqlite_path(database_url).parent.mkdir(parents=True, exist_ok=True)
    # Extract next to the upload folder (same file system: the files are moved in with os.replace).
    workdir = Path(tempfile.mkdtemp(prefix=".restore-", dir=folder))
    try:
        manifest = _extract_and_verify(archive, workdir)
        snapshot_kind = manifest["database"]["kind"]
        if snapshot_kind != kind:
            raise BackupError(
                f"这是 {snapshot_kind} 数据库的备份，不能恢复到当前配置的 {kind} 数据库（可用 pg_dump/迁移工具另行转换）。"
            )
        revision = manifest.get("alembic_revision")
        head, known = code_revisions(migrations_dir)
        if revision is not None and revision not in known:
            raise BackupError(
                f"备份的数据库版本 {revision} 比当前程序的数据库版本 {head} 新（或本程序不认识），"
                "请先把程序升级到做备份时的版本或更新版本，再恢复。"
            )
        if not replace and not database_is_empty(database_url):
            raise BackupError("目标数据库不是空的，拒绝恢复。确认要用备份替换其中的全部数据时，请加 --yes 参数再执行。")
        dump = workdir / manifest["database"]["path"]
        if kind == "sqlite":
            _restore_sqlite(dump, database_url)
        else:
            _restore_postgresql(dump, database_url)
        for item in manifest["files"]:
            destination = folder / item["path"]
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(workdir / "files" / item["path"], destination)
        notes = []
        needs_upgrade = revision is not None and revision != head
        if needs_upgrade:
            notes.append(f"备份的数据库版本 {revision} 旧于程序的 {head}，请执行 flask db upgrade。")
        return RestoreResult(kind, revision, len(manifest["files"]), replace, needs_upgrade, notes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- command line -------------------------------------------------------------------------------------


class CommandError(click.ClickException):
    """A refusal on the command line: ``错误：…`` on stderr, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


def _default_output() -> Path:
    from flask import current_app

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(current_app.instance_path) / "backups" / f"techmarket-{stamp}.tar.gz"


@click.command("backup")
@with_appcontext
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="备份文件路径（默认 instance/backups/techmarket-<UTC时间>.tar.gz）",
)
def backup_command(output: str | None) -> None:
    """备份数据库和全部上传文件（合同凭证、任务进展附件），生成一个带校验清单的 .tar.gz 文件。"""
    from flask import current_app

    try:
        result = create_backup(
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            current_app.config["UPLOAD_FOLDER"],
            Path(output) if output else _default_output(),
        )
    except BackupError as exc:
        raise CommandError(exc.message) from exc
    size_mb = result.path.stat().st_size / (1024 * 1024)
    click.echo(
        f"备份完成：{result.path}（{size_mb:.1f} MB；数据库 {result.database_kind}，版本 {result.revision}；"
        f"文件 {result.file_count} 个）。"
    )


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="目标数据库不是空的时，确认用备份替换其中的全部数据。")
def restore_command(path: str, yes: bool) -> None:
    """从 flask backup 生成的备份文件恢复数据库和上传文件（先校验全部文件，再写入）。"""
    from datetime import date

    from flask import current_app

    from techmarket import PROJECT_ROOT, matchindex
    from techmarket.extensions import db

    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours holds the database during the restore
    try:
        result = restore_backup(
            path,
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            current_app.config["UPLOAD_FOLDER"],
            PROJECT_ROOT / "migrations",
            replace=yes,
        )
    except BackupError as exc:
        raise CommandError(exc.message) from exc
    db.engine.dispose()
    click.echo(f"恢复完成：数据库 {result.database_kind}（版本 {result.revision}），文件 {result.file_count} 个。")
    for note in result.notes:
        click.echo(note)
    if result.needs_upgrade:
        click.echo("升级数据库后请执行 flask matching rebuild 重建匹配索引，并重启应用。")
        return
    matchindex.rebuild(db.session, Path(current_app.config["MATCHING_DIR"]), date.today())
    db.session.commit()
    click.echo("已按恢复后的数据重建匹配索引。请重启应用（gunicorn），让所有进程使用恢复后的数据。")
