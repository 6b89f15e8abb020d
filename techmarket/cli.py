"""Command-line tasks: ``flask seed`` and ``flask create-user``."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from techmarket.domain.accounts import OrgKind, Role
from techmarket.domain.passwords import password_problems
from techmarket.extensions import db
from techmarket.models import Organisation
from techmarket.services import accounts
from techmarket.services.accounts import ServiceError, UserData

SEED_LABELS = {
    "organisations": "单位",
    "users": "用户",
    "achievements": "科技成果",
    "needs": "技术需求",
    "targets": "建设目标",
    "policy_tasks": "政策任务",
    "registry": "名录认定",
    "contracts": "技术合同",
}
FEATURED_ACCOUNTS = ("admin", "bureau", "enterprise", "institute", "broker")


@click.command("seed")
@click.option("--quiet", is_flag=True, help="不打印演示账号。")
def seed_command(quiet: bool) -> None:
    """加载 seed_data/ 中的演示数据（可重复执行，不会产生重复数据）。"""
    from flask import current_app

    from techmarket import uploads
    from techmarket.seed import DEMO_PASSWORD, load_accounts, load_contracts, load_listings, load_registry

    report = load_accounts(db.session)
    report.created |= load_listings(db.session)
    report.created |= load_registry(db.session)
    contracts, staged = load_contracts(
        db.session, current_app.config["UPLOAD_FOLDER"], current_app.config["UPLOAD_LIMIT_BYTES"]
    )
    report.created |= contracts
    try:
        db.session.commit()
    except Exception:
        for item in staged:
            uploads.discard(item)
        raise
    for item in staged:  # evidence files move into place only after the commit
        uploads.promote(item)
    created = "，".join(f"{SEED_LABELS.get(k, k)} {v} 个" for k, v in report.created.items())
    click.echo(f"演示数据已就绪（本次新增：{created}）。")
    if not quiet:
        click.echo(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, role, org in report.accounts:
            if username in FEATURED_ACCOUNTS:
                click.echo(f"  {username:<12} {role}  {org}")
        click.echo(f"  另有 {len(report.accounts) - len(FEATURED_ACCOUNTS)} 个演示账号，见 seed_data/users.json。")


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="姓名")
@click.option("--role", type=click.Choice(["bureau", "admin"]), default="bureau", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user_command(username: str, display_name: str, role: str, password: str) -> None:
    """创建市科技局工作人员或系统管理员账号。"""
    problems = password_problems(password, username=username)
    if problems:
        raise click.ClickException(" ".join(problems))
    bureau = db.session.scalar(select(Organisation).where(Organisation.kind == OrgKind.BUREAU))
    if bureau is None:
        raise click.ClickException("尚未创建市科技局单位，请先执行 flask seed 或导入本市科技局信息。")
    try:
        accounts.create_staff_user(
            db.session,
            UserData(username=username, display_name=display_name, password=password),
            role=Role(role),
            bureau=bureau,
        )
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"已创建账号 {username}（{Role(role).label}）。")


listings_cli = click.Group("listings", help="科技成果与技术需求的维护命令。")


@listings_cli.command("expire")
def expire_command() -> None:
    """把已过有效期的已发布成果和需求标记为“已过期”（建议每天运行一次）。"""
    from datetime import date

    from techmarket.services.listings import expire_due

    count = expire_due(db.session, date.today())
    db.session.commit()
    click.echo(f"已将 {count} 条过期的发布标记为“已过期”。")


matching_cli = click.Group("matching", help="匹配引擎索引的维护命令。")


@matching_cli.command("rebuild")
def matching_rebuild_command() -> None:
    """用全部已发布的成果和需求重新训练匹配索引（所有进程随后都会使用新索引）。"""
    from datetime import date
    from pathlib import Path

    from flask import current_app

    from techmarket import matchindex
    from techmarket.models import Achievement, Need

    total = sum(db.session.scalar(select(func.count()).select_from(m)) or 0 for m in (Achievement, Need))
    with click.progressbar(length=total, label="重建匹配索引") as bar:
        index = matchindex.rebuild(db.session, Path(current_app.config["MATCHING_DIR"]), date.today(), bar.update)
    db.session.commit()
    sizes = {k: len(v) for k, v in index.stamps.items()}
    click.echo(f"完成：科技成果 {sizes.get('achievement', 0)} 条，技术需求 {sizes.get('need', 0)} 条。")


@matching_cli.command("ensure")
def matching_ensure_command() -> None:
    """启动时使用：已保存的索引与数据一致时直接使用，否则增量更新或重建。"""
    from datetime import date
    from pathlib import Path

    from flask import current_app

    from techmarket import matchindex

    index = matchindex.get(db.session, Path(current_app.config["MATCHING_DIR"]), date.today())
    db.session.commit()
    click.echo(f"匹配索引已就绪（版本 {index.version}）。")


def init_app(app: Flask) -> None:
    app.cli.add_command(matching_cli)
    app.cli.add_command(listings_cli)
    app.cli.add_command(seed_command)
    app.cli.add_command(create_user_command)

    from techmarket.backup import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
