"""The portal database's schema: Alembic migrations, `tongji serve migrate`, an older schema refused, and the
models and the migrations one schema — on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect, select, text
from typer.testing import CliRunner

from tongji.cli import _register, app
from tongji.errors import TongjiError
from tongji.portal import create_app, database_url
from tongji.portal.db import Account, Audit, Base, Submission
from tongji.portal.migrate import MIGRATIONS, connect, head, revision, upgrade
from tongji.testing import load_plugin, make_city

LAST_NIGHT = datetime(2025, 12, 31, 16, 30)  # UTC: 1 January, 00:30 in Beijing


def run(*args: str):
    _register()
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def city(tmp_path):
    return make_city(tmp_path / "city", load_plugin(builtins_only=True), streets=(1,))


@pytest.fixture
def old(tmp_path, database):
    """A database of the first schema (revision 0001) holding an account, a submission and its audit line, as
    the portal's first release left them. PostgreSQL's sessions there read times in Beijing (the `database`
    fixture), as an office's server would: the migration must still read the stored times as UTC."""
    url = database_url(tmp_path / "data", database)
    (tmp_path / "data").mkdir()
    engine = create_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO account (login, role, unit, password_hash, must_change, failed_logins)"
                                " VALUES ('330106001001', 'unit', '330106001001', 'x', false, 0)"))
        connection.execute(text(
            "INSERT INTO submission (unit, period, version, sha256, suffix, size, filename, uploaded_at, account_id,"
            " verdict, errors, warnings, issues_json, review, reason) VALUES ('330106001001', '2025', 1, :sha,"
            " '.xlsx', 100, '报表.xlsx', :at, 1, '通过', 0, 0, '[]', '已审核', '')"),
            {"sha": "a" * 64, "at": LAST_NIGHT})
        connection.execute(text("INSERT INTO audit (at, login, action, unit, submission_id, detail, address)"
                                " VALUES (:at, '330106001', 'approve', '330106001001', 1, '', '127.0.0.1')"),
                           {"at": LAST_NIGHT})
    engine.dispose()
    return url


def options(url: str, tmp_path) -> list[str]:
    """The portal's data folder, always under tmp_path (the default is one in the working folder), and the
    database when it is not SQLite in that folder."""
    return ["--data", str(tmp_path / "data"), *([] if url.startswith("sqlite") else ["--database", url])]


def test_an_older_schema_is_refused_then_migrated_with_its_rows(old, city, tmp_path):
    with pytest.raises(TongjiError) as refused:
        create_app(city.registry, "2025", data=tmp_path / "data", database=None if old.startswith("sqlite") else old)
    assert refused.value.key == "database-old" and "tongji serve migrate" in str(refused.value)
    served = run("serve", "-r", str(city.registry), "-p", "2025", *options(old, tmp_path))
    assert served.exit_code == 2 and "结构是旧版本（0001），本版 tongji 需要 0002" in served.output

    result = run("serve", "migrate", *options(old, tmp_path))
    assert result.exit_code == 0 and "已从 0001 升级到最新结构 0002" in result.output, result.output
    again = run("--lang", "en", "serve", "migrate", *options(old, tmp_path))
    assert again.exit_code == 0 and "already has the newest schema 0002" in again.output

    portal = create_app(city.registry, "2025", data=tmp_path / "data",
                        database=None if old.startswith("sqlite") else old).state.portal
    with portal.db() as db:
        sub = db.scalar(select(Submission))
        assert (sub.unit, sub.version, sub.review, sub.filename) == ("330106001001", 1, "已审核", "报表.xlsx")
        assert sub.uploaded_at == LAST_NIGHT and db.scalar(select(Audit.at)) == LAST_NIGHT
        assert db.scalar(select(Account.login)) == "330106001001"
        found = inspect(db.connection())
        assert "submission_period" in {i["name"] for i in found.get_indexes("submission")}
        if db.bind.dialect.name == "postgresql":  # the same instant, whatever zone the session reads in
            assert db.execute(text("SHOW timezone")).scalar() == "Asia/Shanghai"
            assert db.execute(text("SELECT data_type FROM information_schema.columns WHERE table_name = 'audit'"
                                   " AND column_name = 'at'")).scalar() == "timestamp with time zone"
            assert db.execute(text("SELECT to_char(at, 'YYYY-MM-DD HH24:MI') FROM audit")).scalar() == \
                "2026-01-01 00:30"


def test_a_database_made_before_migrations_is_recorded_as_the_first_schema(old, tmp_path):
    engine = connect(old)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))  # what create_all left: tables, no version
    with engine.connect() as connection:
        assert revision(connection) == "0001"
    assert upgrade(engine) == ("0001", head())
    with engine.connect() as connection:
        assert revision(connection) == head()
        assert connection.execute(text("SELECT count(*) FROM submission")).scalar() == 1
    engine.dispose()


def test_a_new_empty_database_gets_the_newest_schema_when_the_portal_opens(city, tmp_path, database):
    portal = create_app(city.registry, "2025", data=tmp_path / "data", database=database).state.portal
    with portal.db() as db:
        assert revision(db.connection()) == head() == "0002"


def test_a_schema_newer_than_this_tongji_is_refused(city, tmp_path, database):
    portal = create_app(city.registry, "2025", data=tmp_path / "data", database=database).state.portal
    with portal.db() as db:
        db.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        db.commit()
    with pytest.raises(TongjiError) as refused:
        create_app(city.registry, "2025", data=tmp_path / "data", database=database)
    assert refused.value.key == "database-newer" and "9999" in str(refused.value)


def test_migrating_a_schema_newer_than_this_tongji_is_refused_in_one_line(city, tmp_path, database):
    """After going back to an older tongji (deploy/tongji.service runs migrate before each start): no crash."""
    portal = create_app(city.registry, "2025", data=tmp_path / "data", database=database).state.portal
    with portal.db() as db:
        db.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        db.commit()
    url = database or database_url(tmp_path / "data", None)
    result = run("serve", "migrate", *options(url, tmp_path))
    assert result.exit_code == 2, result.output
    assert "的结构版本 9999 比本版 tongji 认识的 0002 新" in result.output and "内部出错" not in result.output
    with portal.db() as db:
        assert db.scalar(text("SELECT version_num FROM alembic_version")) == "9999"  # left as it was


def differences(url: str, metadata: MetaData) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = connect(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()


def test_the_models_and_the_migrations_are_one_schema(tmp_path, database):
    """`alembic check`: the newest migration's schema, compared with the models, differs in nothing; a model the
    migrations do not make (a column more) is found."""
    url = database_url(tmp_path, database)
    engine = connect(url)
    upgrade(engine)
    engine.dispose()
    assert differences(url, Base.metadata) == []
    more = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(more)
    more.tables["setting"].append_column(Column("note", Integer))
    assert [(d[0], d[3].name) for d in differences(url, more)] == [("add_column", "note")]


def test_a_wrong_or_unreachable_database_is_one_clear_line(tmp_path):
    result = run("serve", "migrate", "--database", "postgresql+psycopg://tongji:secret@/portal?host=/nonexistent")
    assert result.exit_code == 2 and "连不上数据库 postgresql+psycopg://tongji:***@/portal" in result.output
    assert "secret" not in result.output
    result = run("serve", "migrate", "--database", "oracle+nothing://x")
    assert result.exit_code == 2 and "数据库地址 oracle+nothing://x 无法使用" in result.output


def test_times_are_kept_as_utc_whatever_zone_the_session_reads_in(city, tmp_path, database):
    from tongji.portal.db import now

    portal = create_app(city.registry, "2025", data=tmp_path / "data", database=database).state.portal
    moment = now()
    with portal.db() as db:
        db.add(Audit(at=moment, login="admin", action="period"))
        db.commit()
    with portal.db() as db:
        assert db.scalar(select(Audit.at)) == moment
        if database:  # PostgreSQL: the stored instant itself, read in UTC by the server
            assert db.execute(text("SELECT at AT TIME ZONE 'UTC' FROM audit")).scalar() == moment


@pytest.mark.slow
def test_the_wheel_carries_the_migrations(tmp_path):
    """Installed from a wheel, `tongji serve migrate` finds its scripts inside the package, not beside src/."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    from tongji.portal.migrate import MIGRATIONS

    root = Path(__file__).resolve().parent.parent
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
                            "-w", str(tmp_path), str(root)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    names = set(zipfile.ZipFile(next(tmp_path.glob("tongji-*.whl"))).namelist())
    shipped = {f"tongji/portal/{p.relative_to(MIGRATIONS.parent).as_posix()}" for p in MIGRATIONS.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert {"tongji/portal/migrations/env.py", "tongji/portal/migrations/versions/0002_utc_times_and_period_index.py"
            } <= shipped <= names


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite has no server to drop them
def test_the_portal_answers_after_the_database_server_dropped_its_connections(tmp_path, database):
    """A PostgreSQL restart (or an idle timeout) closes the pooled connections: the next page still answers."""
    from portal_kit import make_world

    world = make_world(tmp_path, database)
    unit = world.unit()
    me = world.client(unit)
    admin = create_engine(database, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        dropped = connection.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                          " WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    assert dropped >= 1
    page = me.get(f"/units/{unit}")
    assert page.status_code == 200 and unit in page.text


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # several processes share PostgreSQL only
def test_two_migrations_at_once_on_a_new_database_make_its_tables_once(database):
    """Two servers started together on a new database: one makes the tables, the other finds them made."""
    import subprocess
    import sys

    command = [sys.executable, "-c", "from tongji.cli import main; main()", "serve", "migrate", "--database", database]
    both = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    said = sorted(p.communicate(timeout=120)[0] for p in both)
    assert [p.returncode for p in both] == [0, 0], said
    assert "原是空库，已建立最新结构 0002" in said[0] and "已是最新结构 0002，无需升级" in said[1]


RETYPE_ROLE = '''
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade():
    with op.batch_alter_table("account") as batch:  # SQLite: a copy; PostgreSQL: ALTER COLUMN
        batch.alter_column("role", type_=sa.String(16), existing_type=sa.String(8))
'''


def test_a_migration_that_copies_a_table_others_refer_to_keeps_their_rows(old, tmp_path):
    """SQLite alters `account` by copying it and dropping the old one, which submissions refer to."""
    import shutil

    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0003_wider_role.py").write_text(RETYPE_ROLE, encoding="utf-8")
    engine = connect(old)
    assert upgrade(engine, scripts=scripts) == ("0001", "0003")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM submission JOIN account ON account.id = account_id")
                                  ).scalar() == 1
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # on again for the portal
    engine.dispose()


def test_the_default_database_is_named_by_its_path_as_typed(city, tmp_path):
    """`tongji serve migrate --data 门户数据` (guide section 13): the message names the SQLite file by its path, not
    by a URL with the folder's Chinese %-quoted (sqlite:////…/%E9%97%A8%E6%88%B7%E6%95%B0%E6%8D%AE/portal.db)."""
    data = tmp_path / "2025 年报" / "门户数据"
    create_app(city.registry, "2025", data=data).state.portal.dispose()
    result = run("serve", "migrate", "--data", str(data))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"数据库 sqlite:///{data / 'portal.db'} 已是最新结构 {head()}，无需升级"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_mistyped_data_folder_is_said_to_hold_no_portal_not_given_a_new_one(city, tmp_path, lang):
    """A statistician who mistypes --data is told so; migrate, backup and check make no empty portal there (only
    `tongji serve` and `tongji serve accounts` make one). A data folder of a PostgreSQL portal, given without its
    --database, is no SQLite portal either."""
    create_app(city.registry, "2025", data=tmp_path / "门户数据").state.portal.dispose()
    typo, files_only = tmp_path / "门户数剧", tmp_path / "pg"
    (files_only / "files").mkdir(parents=True)
    said = {"zh": "没有找到门户数据库 {path}：请检查 --data 是否写对（门户用 PostgreSQL 时还要给出 --database）；"
                  "新建门户用 tongji serve accounts 或 tongji serve",
            "en": "No portal database at {path}: check --data (and --database for a portal on PostgreSQL); "
                  "tongji serve accounts or tongji serve makes a new portal"}[lang]
    for args in (["migrate", "--data", typo], ["migrate", "--data", files_only], ["check", "--data", files_only],
                 ["backup", tmp_path / "备份.zip", "--data", files_only]):
        result = run("--lang", lang, "serve", *map(str, args))
        folder = Path(args[-1])
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [f"{'错误：' if lang == 'zh' else 'Error: '}"
                                                      + said.format(path=folder / "portal.db")], result.output
        assert not (folder / "portal.db").exists()
    assert not typo.exists() and not (tmp_path / "备份.zip").exists()
