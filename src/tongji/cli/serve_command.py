"""`tongji serve`: the collection portal on this machine; `tongji serve accounts`: the account list to hand out;
`tongji serve migrate`: the database brought to the newest schema."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from tongji.cli.common import check_address, console, friendly, progress, shown
from tongji.errors import TongjiError
from tongji.i18n import lang, t

serve_app = typer.Typer(help="在线报送门户：各单位上传、即时审核，统计员审核、退回、汇总、上报", no_args_is_help=False,
                        invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.add_typer(serve_app, name="serve")
    serve_app.callback(invoke_without_command=True)(friendly(serve_command))
    serve_app.command("accounts")(friendly(accounts_command))
    serve_app.command("backup")(friendly(backup_command))
    serve_app.command("restore")(friendly(restore_command))
    serve_app.command("check")(friendly(check_command))
    serve_app.command("migrate")(friendly(migrate_command))


def serve_command(
    ctx: typer.Context,
    registry: Path = typer.Option(None, "--registry", "-r", help="单位名册（xlsx 或 csv）"),
    period: str = typer.Option(None, "--period", "-p", help="报告期：2025、2025Q2 或 2025-06"),
    data: Path = typer.Option(Path("tongji-portal"), "--data", help="数据文件夹：上传的文件、汇总表和数据库"),
    database: str = typer.Option(None, "--database", help="数据库地址（SQLAlchemy URL），默认是数据文件夹中的 SQLite"),
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（默认只允许本机访问；0.0.0.0 允许局域网访问）"),
    port: int = typer.Option(8000, "--port", help="端口"),
    deadline: str = typer.Option(None, "--deadline", help="报送截止日期 YYYY-MM-DD，用于迟报和及时率"),
    workers: int = typer.Option(1, "--workers", help="服务进程数；大于 1 时须用 PostgreSQL（--database）"),
) -> None:
    """启动在线报送门户（浏览器打开 http://HOST:PORT）。"""
    if ctx.invoked_subcommand is not None:
        return
    if registry is None or period is None:
        raise TongjiError("serve-needs")
    from tongji.portal import create_app, database_url
    from tongji.portal.processes import check_workers, serve

    check_workers(workers, database_url(data, database))
    check_address(host, port)
    # made here first even with workers: the database is migrated once and a setup mistake is one line
    app = create_app(registry, period, data=data, database=database, deadline=deadline, lang=lang(),
                     check_process=workers == 1 and (os.cpu_count() or 1) > 1)
    console().print(shown("serve-listening", url=f"http://{host}:{port}", data=data))
    if workers > 1:
        app.state.portal.dispose()
        serve({"registry": str(registry), "period": period, "data": str(data), "database": database,
               "deadline": deadline, "lang": lang()}, workers, host, port)
        return
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning")


def accounts_command(
    registry: Path = typer.Option(..., "--registry", "-r", help="单位名册（xlsx 或 csv）"),
    period: str = typer.Option(..., "--period", "-p", help="报告期"),
    out: Path = typer.Option(..., "--out", "-o", help="账号清单 xlsx（含一次性密码，请妥善分发后删除）"),
    data: Path = typer.Option(Path("tongji-portal"), "--data", help="数据文件夹"),
    database: str = typer.Option(None, "--database", help="数据库地址（SQLAlchemy URL）"),
    reset: bool = typer.Option(False, "--reset", help="为所有账号重新生成一次性密码"),
) -> None:
    """生成账号清单：每个单位一个账号（账号即单位代码）和一次性密码，首次登录须改密码。"""
    from sqlalchemy import func, select

    from tongji.portal import create_app
    from tongji.portal.accounts import create_accounts
    from tongji.portal.board import account_list
    from tongji.portal.db import Account
    from tongji.portal.migrate import shown_url
    from tongji.writing.paths import refuse_overlap, refuse_unwritable

    refuse_overlap([registry], [out])  # a list written over the registry would lose it
    # before any password is kept: a list not written would leave them with nobody, and the next run makes none
    if out.is_dir():
        raise TongjiError("output-is-folder", path=out)
    refuse_unwritable(out.parent)
    app = create_app(registry, period, data=data, database=database, lang=lang())
    portal = app.state.portal
    con = console()
    with portal.db() as db, progress(con, t("accounts-making")) as (on_total, tick):
        new = not db.scalar(select(func.count()).select_from(Account))
        made = create_accounts(db, portal.registry, reset=reset, tick=tick, on_total=on_total)
    account_list(made, out, lang())
    con.print(shown("accounts-written", n=len(made), path=out))
    if new:  # the first list of a portal, or a mistyped --data: the list holds every unit, which only the first should
        con.print(shown("accounts-new-portal", where=shown_url(database) if database else data))


def backup_command(
    out: Path = typer.Argument(..., help="备份文件（.zip）"),
    data: Path = typer.Option(Path("tongji-portal"), "--data", help="数据文件夹"),
    database: str = typer.Option(None, "--database", help="数据库地址（SQLAlchemy URL）"),
) -> None:
    """备份：数据库、上传的文件和汇总表，连同每个文件的 SHA-256，写成一个 zip；门户运行时也可备份。"""
    from tongji.portal.backup import backup

    with progress(console(), t("backup-making")) as (on_total, tick):
        made = backup(data, out, database, tick, on_total)
    _said("backup-written", made)


def restore_command(
    archive: Path = typer.Argument(..., help="tongji serve backup 写出的备份文件"),
    data: Path = typer.Option(Path("tongji-portal"), "--data", help="恢复到的数据文件夹（须为空）"),
    database: str = typer.Option(None, "--database", help="恢复到的数据库（须为空），默认是数据文件夹中的 SQLite"),
) -> None:
    """恢复：先核对备份中每个文件的 SHA-256，再恢复到空的数据文件夹和数据库。"""
    from tongji.portal.backup import restore

    with progress(console(), t("restore-making")) as (on_total, tick):
        made = restore(archive, data, database, tick, on_total)
    _said("restore-done", made)


def _said(key: str, made) -> None:
    """What a backup or a restore moved: the same counts for both."""
    console().print(shown(key, path=made.path, submissions=made.rows["submission"], rollups=made.rows["rollup"],
                          accounts=made.rows["account"], files=made.files))


def check_command(
    data: Path = typer.Option(Path("tongji-portal"), "--data", help="数据文件夹"),
    database: str = typer.Option(None, "--database", help="数据库地址（SQLAlchemy URL）"),
) -> None:
    """检查数据文件夹：每个文件与其 SHA-256 是否相符，数据库记录的文件是否都在。退出码 0 完好，1 有问题。"""
    from tongji.portal.backup import check

    con = console()
    with progress(con, t("check-making")) as (on_total, tick):
        found = check(data, database, tick, on_total)
    for key, params in found:
        con.print(shown(key, **params))
    con.print(shown("check-found", n=len(found)) if found else shown("check-ok", path=data))
    raise typer.Exit(1 if found else 0)


def migrate_command(
    data: Path = typer.Option(Path("tongji-portal"), "--data", help="数据文件夹（默认数据库在其中）"),
    database: str = typer.Option(None, "--database", help="数据库地址（SQLAlchemy URL），默认是数据文件夹中的 SQLite"),
) -> None:
    """把门户数据库升级到本版 tongji 的结构（先停止门户、备份数据库）。"""
    from tongji.portal import migrate_database

    url, before, after = migrate_database(data=data, database=database)
    key = "migrate-created" if before is None else "migrate-current" if before == after else "migrate-done"
    console().print(shown(key, url=url, before=before, after=after))
