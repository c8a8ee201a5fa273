"""Everything a user reads but issues, in Chinese first and English with `--lang en` or TONGJI_LANG=en.

Issue messages are declared with their issue types in issues/catalog.py. The language of a run (`set_lang`, the
CLI's --lang) is for the terminal and for setup errors shown there; library calls never read it. Text that goes
into data (rollup's reasons, an indicator's note) is kept as a key of MESSAGES and its parameters, and rendered
in the reader's language when written (`render_column`), as issues are.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # polars is imported where frames are rendered: `tongji --help` needs none of it
    import polars as pl

_lang: str | None = None
MESSAGE_LANG = "zh"  # the language of the text made with the data (an issue's message, a reason), kept beside its key


def set_lang(lang: str | None) -> None:
    global _lang
    _lang = lang


def lang() -> str:
    value = (_lang or os.environ.get("TONGJI_LANG") or "zh").lower()
    return "en" if value.startswith("en") else "zh"


def chosen(language: str | None = None) -> str:
    """`language` ("zh" or "en") when a caller names one, else the language set for this run."""
    return language if language in ("zh", "en") else lang()


class Items:
    """A list put into a message, joined when the message is made: 甲、乙 in Chinese, "a, b" in English; past
    `few` items, how many there are in all. An item given as a (Chinese, English) pair is said in either."""

    def __init__(self, items: Iterable[object], few: int | None = None):
        self.items, self.few = list(items), few

    def text(self, lang: str) -> str:
        en = lang == "en"
        shown = self.items[:self.few] if self.few else self.items
        words = [str(i[1] if en else i[0]) if isinstance(i, tuple) else str(i) for i in shown]
        more = t("items-more", lang=lang, n=len(self.items)) if len(shown) < len(self.items) else ""
        return (", " if en else "、").join(words) + more

    def __str__(self) -> str:
        return self.text(lang())


class _Counted(string.Formatter):
    """A template's `{n:workbook|workbooks}` reads "1 workbook", "2 workbooks": an English noun (or phrase) after
    a count, singular for one. Chinese templates have no need of it."""

    def format_field(self, value: object, spec: str) -> str:
        if "|" not in spec:
            return super().format_field(value, spec)
        one, many = spec.split("|", 1)
        return f"{value} {one if str(value).strip() == '1' else many}"


_COUNTED = _Counted()


def formatted(template: str, /, **kw: object) -> str:
    """`template.format(**kw)`, with a count's English noun as `{n:workbook|workbooks}` asks."""
    return _COUNTED.format(template, **kw)


def t(key: str, /, lang: str | None = None, **kw: object) -> str:
    zh, en = MESSAGES[key]
    language = chosen(lang)
    kw = {k: v.text(language) if isinstance(v, Items) else v for k, v in kw.items()}
    return formatted(en if language == "en" else zh, **kw)


def render(key: str, lang: str, params: Mapping[str, object] | None = None) -> str:
    """MESSAGES[key] in `lang` ("zh" or "en"); an empty parameter reads （空）/(blank)."""
    blank = MESSAGES["blank"][1 if lang == "en" else 0]
    return t(key, lang=lang, **{k: blank if v is None or v == "" else v for k, v in (params or {}).items()})


def params_json(**params: object) -> str:
    """The parameters of a message kept with the data, as a JSON object of text (what `render_column` reads)."""
    return json.dumps({k: None if v is None else str(v) for k, v in params.items()}, ensure_ascii=False,
                      separators=(",", ":"))


def params_expr(**params: pl.Expr) -> pl.Expr:
    """`params_json`, column-wise."""
    import polars as pl

    return pl.struct([v.cast(pl.Utf8).alias(k) for k, v in params.items()]).struct.json_encode()


def render_column(df: pl.DataFrame, column: str, lang: str) -> pl.DataFrame:
    """`column` made in `lang` from `<column>_code` (a key of MESSAGES; "" for no text) and `<column>_params`
    (`params_json`). A frame without those columns (made by hand) keeps the text it has.

    One rendering per distinct key and parameters: a 市 lists 100,000 units but a handful of reasons."""
    code, params = f"{column}_code", f"{column}_params"
    if code not in df.columns or not df.height:
        return df
    pairs = df.select(code, params).unique().iter_rows()
    texts = {f"{c}\n{p}": render(c, lang, json.loads(p)) if c else "" for c, p in pairs}
    import polars as pl

    key = pl.concat_str(pl.col(code), pl.lit("\n"), pl.col(params))
    return df.with_columns(key.replace_strict(texts, return_dtype=pl.Utf8).alias(column))


def text_in(df: pl.DataFrame, column: str, lang: str) -> pl.DataFrame:
    """The frame as a writer shows it: `column` in `lang`, without its key and parameters."""
    if lang != MESSAGE_LANG:  # the text in MESSAGE_LANG was made with the data
        df = render_column(df, column, lang)
    return df.drop(f"{column}_code", f"{column}_params", strict=False)


SEVERITY = {"错误": "error", "警告": "warning", "提示": "notice"}
STATUS = {"通过": "passed", "有警告": "warnings", "退回": "returned"}


def severity(name: str, lang: str | None = None) -> str:
    return SEVERITY.get(name, name) if chosen(lang) == "en" else name


def status(name: str, lang: str | None = None) -> str:
    return STATUS.get(name, name) if chosen(lang) == "en" else name


# Everything but issues (issues/catalog.py declares those): rollup's reasons, setup errors, the terminal, the CLI.
MESSAGES: dict[str, tuple[str, str]] = {
    # rollup
    "previous-period": ("上期汇总表 {path} 的报告期是 {found}，应早于本期 {period}（同为年报、季报或月报）", "Previous summary {path} is for {found}; it must be an earlier period of the same kind than {period}"),
    "previous-folder": ("--previous 要给上期同一单位的汇总表文件（如 330106_2024_汇总.xlsx），不是文件夹：{path}", "--previous takes the file of the same unit's previous summary (such as 330106_2024_汇总.xlsx), not a folder: {path}"),
    "previous-missing": ("上期汇总表不存在：{path}", "Previous summary not found: {path}"),
    "previous-other-unit": ("上期汇总表 {path} 是 {found} 的汇总，不是 {unit} 或其上级的：请给出本单位（或上级）上一期的汇总表", "Last period's summary {path} is that of {found}, not of {unit} or a union above it: give this unit's (or a parent's) summary of last period"),
    "previous-not-xlsx": ("--previous 要给上期汇总表的 .xlsx 文件（如 330106_2024_汇总.xlsx），不是 {path}：上期数从其中的“明细”工作表读取", "--previous takes last period's summary as its .xlsx file (such as 330106_2024_汇总.xlsx), not {path}: last period's figures are read from its 明细 sheet"),
    "previous-not-summary": ("{path} 不是 tongji 汇总表（没有“明细”工作表）", "{path} is not a tongji summary (no 明细 sheet)"),
    "divides-by-zero": ("{formula} 中的除数为 0，不计算", "{formula} divides by 0: no value"),
    "zero-denominator": ("分母（{formula}）为 0，不计算", "Denominator ({formula}) is 0: no value"),
    "reason-missing": ("未报送", "not received"),
    "reason-pending": ("已报送，待审核", "received, awaiting review"),  # a portal's summary: uploaded, not yet reviewed
    "reason-superseded": ("同一单位有报出日期更新的报表（--prefer-latest）", "a newer workbook of the unit was used (--prefer-latest)"),
    "reason-included": ("有 {n} 个错误，按 --include-errors 汇总", "{n:error|errors}, summed as --include-errors asks"),
    "reason-errors": ("有 {n} 个错误，退回修改", "{n:error|errors}: returned"),
    "reason-summary": ("经下级汇总表报送", "received in the child's summary"),
    "reason-edited": ("汇总表与其明细不符", "summary does not match its 明细"),
    "reason-listed": ("{text}", "{text}"),  # as the child's summary gave it, in the language it was written in
    "reason-not-in-summary": ("下级汇总表中没有该单位（在下级被退回或缺报）", "not in the child's summary (returned or missing there)"),
    "reason-unknown": ("单位代码不在名册中", "unit not in the registry"),
    "reason-unreadable": ("工作簿无法读取或没有封面", "workbook unreadable or without a cover"),
    "reason-elsewhere": ("该单位属于 {parent}", "this unit belongs to {parent}"),
    "reason-revoked": ("该单位在名册中已撤销", "the unit is marked 撤销 in the registry"),
    "reason-covered": ("已由下级汇总表涵盖", "covered by a child summary"),
    "reason-missing-below": ("下级汇总表中该单位为缺报，这份工作簿未汇总：请下级将它汇总后重报汇总表", "missing in the child's summary, so this workbook is not summed: ask the child to include it and send its summary again"),
    "reason-not-used": ("本次汇总未用到，也没有下级汇总表涵盖", "not used by this rollup, nor covered by a child summary"),
    # setup and usage (exit 2)
    "no-inputs": ("没有找到任何工作簿：{paths}", "No workbooks found in: {paths}"),
    "no-inputs-other-formats": ("没有找到任何工作簿：{paths}；其中有 {n} 个文件是 tongji 不能读的格式：{files}（请另存为 .xlsx 后再试）", "No workbooks found in: {paths}; {n:file|files} in a format tongji does not read: {files} (save them as .xlsx and try again)"),
    "path-missing": ("路径不存在：{path}", "Path does not exist: {path}"),
    "dask-missing": ("未安装 Dask：请先安装 tongji[dask]（pip install \"tongji[dask]\"）", "Dask is not installed: install tongji[dask] first (pip install \"tongji[dask]\")"),
    "dask-address": ("Dask 调度器地址“{address}”格式不对：应为 tcp://主机:端口 或 主机:端口，如 tcp://10.0.0.5:8786", "Dask scheduler address '{address}' is malformed: use tcp://host:port or host:port, e.g. tcp://10.0.0.5:8786"),
    "dask-unreachable": ("连接不上 Dask 调度器 {address}：请确认调度器已启动、地址和端口无误（技术细节：{detail}）", "Cannot reach the Dask scheduler at {address}: check that it is running and its address and port are right ({detail})"),
    "dask-send-bytes-alone": ("--dask-send-bytes 需要同时给出 --dask 地址（或设置 TONGJI_DASK）", "--dask-send-bytes needs a --dask address (or TONGJI_DASK)"),
    "period-invalid": ("报告期“{period}”格式不对，应为 2025、2025Q2 或 2025-06", "Period '{period}' is malformed: use 2025, 2025Q2 or 2025-06"),
    "bad-deadline": ("报送截止日期“{value}”格式不对，应为 2026-01-20 这样的日期", "Deadline '{value}' is malformed: use a date like 2026-01-20"),
    "registry-missing": ("名册文件不存在：{path}", "Registry file not found: {path}"),
    "registry-folder": ("名册要给文件（xlsx 或 csv，如 名册.xlsx），不是文件夹：{path}", "The registry is a file (xlsx or csv, such as 名册.xlsx), not a folder: {path}"),
    "registry-unreadable": ("名册文件无法读取：{path}（技术细节：{detail}）", "Registry cannot be read: {path} ({detail})"),
    "registry-not-excel": ("名册文件 {path} 不是有效的 Excel 文件（可能已损坏、设有打开密码，或是改了扩展名的其他文件）；请在 Excel 或 WPS 中打开、另存为 .xlsx 后再用", "Registry {path} is not a valid Excel file (damaged, password-protected, or another kind of file renamed); open it in Excel or WPS and save it as .xlsx"),
    "registry-csv-fields": ("名册文件 {path} 第 {line} 行的列数比表头多：多半是某个名称中有英文逗号；请在 Excel 或 WPS 中打开、另存为 CSV 后再用", "Line {line} of registry {path} has more fields than its header: most likely a name holding a comma; open it in Excel or WPS and save it as CSV again"),
    "registry-csv-quotes": ("名册文件 {path} 第 {line} 行的英文引号（\"）不成对；请在 Excel 或 WPS 中打开、另存为 CSV 后再用", "Line {line} of registry {path} has a double quote (\") without its pair; open it in Excel or WPS and save it as CSV again"),
    "registry-blank": ("名册文件是空的：{path}", "The registry file is empty: {path}"),
    "registry-encoding": ("名册文件无法读取：{path}（编码无法识别）", "Registry cannot be read: {path} (its text encoding is neither UTF-8 nor GBK)"),
    "registry-empty": ("名册中没有任何单位（只有表头）：{path}", "The registry lists no units (only a header): {path}"),
    "registry-formula": ("名册 {path} 的 {cell} 是公式：公式未计算时读出为空，请把名册“粘贴为数值”后再用", "Cell {cell} of registry {path} is a formula: uncalculated, it reads as blank; paste the registry as values first"),
    "registry-no-parent": ("名册中这些单位不在最高层级，却没有上级代码：{items}", "These registry units are below the top level but have no parent code: {items}"),
    "output-in-inputs": ("输出位置 {output} 在输入 {input} 之内：会覆盖或混入要读取的工作簿，请换一个文件夹", "Output {output} lies within the input {input}: it would overwrite or mix with the workbooks being read; choose another folder"),
    "bad-lang": ("界面语言只能是 zh（中文）或 en（英文），不是 {value}", "The language must be zh (Chinese) or en (English), not {value}"),
    "bad-workers-env": ("环境变量 TONGJI_WORKERS 应为读取工作簿的进程数（正整数，1 为不另起进程），不是 {value}", "TONGJI_WORKERS must be the number of processes that read the workbooks (a whole number, 1 for none besides this one), not {value}"),
    "bad-lang-env": ("环境变量 TONGJI_LANG 只能是 zh（中文）或 en（英文），不是 {value}", "TONGJI_LANG must be zh (Chinese) or en (English), not {value}"),
    "template-exists": ("{path} 已存在（可能是单位交回的报表），未生成任何模板：请换一个文件夹，确需覆盖时加 --overwrite", "{path} already exists (perhaps a workbook a unit returned); no template was written: choose another folder, or add --overwrite to replace it"),
    "output-replaces-input": ("输入的 {input} 在输出文件夹 {output} 中，会被本次写出的汇总表覆盖，请换一个输出文件夹", "The input {input} is in the output folder {output} and would be replaced by a summary written now; choose another output folder"),
    "internal-error": ("tongji 内部出错（{kind}：{detail}）。这不是工作簿的问题；请把日志 {log} 交给维护人员。退出码 3", "tongji failed internally ({kind}: {detail}). This is not a problem with the workbooks; please send the log {log} to the maintainers. Exit code 3"),
    "demo-serve-database": ("  数据库 {url}：其中已有账号时沿用原状态，不重新填入演示数据", "  database {url}: one that already has accounts keeps its state; the demo data is not filled in again"),
    "demo-serve": ("在线报送门户演示：{url}\n  所有演示账号的密码都是 {password}：管理员 admin，街道统计员 {street}，区统计员 {district}，基层单位 {unit}\n  数据在 {data}（删除该文件夹即从头开始）；按 Ctrl+C 停止", "Portal demo at {url}\n  every demo account's password is {password}: administrator admin, 街道 statistician {street}, 区 statistician {district}, a unit {unit}\n  data in {data} (delete it to start over); Ctrl+C stops it"),
    "serve-workers-bad": ("--workers 须为正整数，而不是 {n}", "--workers must be a positive whole number, not {n}"),
    "serve-workers-sqlite": ("--workers {n} 需要 PostgreSQL：SQLite 同一时刻只能有一个进程写入，多个进程只会互相等待。请用 --database postgresql+psycopg://… 启动，或去掉 --workers", "--workers {n} needs PostgreSQL: SQLite lets one process write at a time, so several would only wait for each other. Start with --database postgresql+psycopg://… or without --workers"),
    "serve-needs": ("启动门户需要 --registry 和 --period", "The portal needs --registry and --period"),
    "deadline-invalid": ("截止日期“{deadline}”格式不对，应为 2026-01-20", "Deadline '{deadline}' is malformed: use 2026-01-20"),
    "deadline-implausible": ("截止日期“{deadline}”不在 2000 年至 2100 年之间，请检查年份", "Deadline '{deadline}' is not between the years 2000 and 2100: check its year"),
    "serve-port-busy": ("无法在 {address} 上启动门户：端口已被占用（门户可能已经在运行），可用 --port 换一个端口", "Cannot start the portal on {address}: the port is in use (is the portal running already?); choose another with --port"),
    "serve-port-range": ("无法在 {address} 上启动门户：端口应在 1 到 65535 之间，可用 --port 换一个端口", "Cannot start the portal on {address}: a port is between 1 and 65535; choose another with --port"),
    "serve-host": ("无法在 {address} 上启动门户：本机没有这个地址，请检查 --host（0.0.0.0 表示本机的所有地址）", "Cannot start the portal on {address}: this machine has no such address; check --host (0.0.0.0 is every address of this machine)"),
    "serve-port-privileged": ("无法在 {address} 上启动门户：1024 以下的端口要有管理员权限才能使用，可用 --port 换一个端口（如 8000）", "Cannot start the portal on {address}: a port below 1024 needs administrator rights; choose another with --port (such as 8000)"),
    "serve-address": ("无法在 {address} 上启动门户：系统拒绝（{code}）", "Cannot start the portal on {address}: {detail}"),
    "serve-listening": ("在线报送门户已启动：{url}（数据文件夹 {data}；按 Ctrl+C 停止）", "The portal is running at {url} (data in {data}; Ctrl+C stops it)"),
    "backup-no-data": ("{path} 不是门户的数据文件夹（其中没有 files 文件夹）", "{path} is not a portal data folder (it has no files folder)"),
    "backup-exists": ("备份文件 {path} 已存在，未覆盖：请换一个文件名", "The backup file {path} exists already; it was not replaced: choose another name"),
    "backup-missing-file": ("数据库记录的文件 {path} 不在数据文件夹中（共缺 {n} 个）：先用 tongji serve check 检查", "The file {path} named in the database is missing from the data folder ({n} missing): run tongji serve check"),
    "backup-written": ("已备份到 {path}：{submissions} 份上报、{rollups} 次汇总、{accounts} 个账号、{files} 个文件，均附 SHA-256 校验值", "Backed up to {path}: {submissions:upload|uploads}, {rollups:rollup|rollups}, {accounts:account|accounts}, {files:file|files}, each with its SHA-256"),
    "restore-missing": ("备份文件不存在：{path}", "Backup file not found: {path}"),
    "restore-not-zip": ("{path} 不是 tongji 门户的备份：它不是 zip 文件", "{path} is not a tongji portal backup: it is not a zip file"),
    "restore-no-manifest": ("{path} 不是 tongji 门户的备份：其中没有备份清单 {name}", "{path} is not a tongji portal backup: it has no {name}"),
    "restore-bad-archive": ("{path} 不是 tongji 门户的备份（{detail}）", "{path} is not a tongji portal backup ({detail})"),
    "restore-corrupt": ("备份 {path} 已损坏：{name} 的内容与清单中的 SHA-256 不符，未恢复任何数据", "The backup {path} is damaged: {name} does not match its SHA-256 in the manifest; nothing was restored"),
    "restore-other-schema": ("备份 {path} 的数据库结构是 {found}，本版 tongji 是 {head}：请用做备份的那一版 tongji 恢复，再运行 tongji serve migrate", "The backup {path} holds a database of schema {found}, this tongji has {head}: restore it with the tongji that made it, then run tongji serve migrate"),
    "restore-not-empty": ("恢复只能恢复到空的数据文件夹和空数据库：{path} 中已有数据", "A backup is restored only into an empty data folder and database: {path} holds data"),
    "restore-done": ("已恢复到 {path}：{submissions} 份上报、{rollups} 次汇总、{accounts} 个账号、{files} 个文件（所有人需重新登录）", "Restored into {path}: {submissions:upload|uploads}, {rollups:rollup|rollups}, {accounts:account|accounts}, {files:file|files} (everyone signs in again)"),
    "check-ok": ("数据文件夹 {path} 完好：每个文件与其 SHA-256 相符，数据库记录的文件都在", "The data folder {path} is sound: every file matches its SHA-256 and every file the database names is there"),
    "check-corrupt": ("文件 {path} 的内容与其 SHA-256 不符（已损坏或被改动）：请从备份恢复", "The file {path} does not match its SHA-256 (damaged or changed): restore it from a backup"),
    "check-missing": ("第 {id} 号上报（单位 {unit} 第 {version} 版）的文件缺失", "The file of upload {id} (unit {unit}, version {version}) is missing"),
    "check-missing-rollup": ("第 {id} 号汇总（{unit}）的文件夹缺失", "The folder of rollup {id} ({unit}) is missing"),
    "check-found": ("发现 {n} 个问题", "{n:problem|problems} found"),
    "portal-code-long": ("名册中这些单位代码超过 {n} 个字符，门户无法保存：{codes}", "These registry unit codes are longer than {n} characters, which the portal cannot keep: {codes}"),
    "database-url": ("数据库地址 {url} 无法使用（{detail}）：SQLite 写 sqlite:///路径，PostgreSQL 写 postgresql+psycopg://用户:密码@主机/库名", "Database URL {url} cannot be used ({detail}): write sqlite:///path for SQLite, postgresql+psycopg://user:password@host/name for PostgreSQL"),
    "database-unreachable": ("连不上数据库 {url}（{detail}）：请确认数据库服务已启动、地址和密码正确", "Cannot reach the database {url} ({detail}): check that its server is running and the address and password are right"),
    "database-old": ("数据库 {url} 的结构是旧版本（{found}），本版 tongji 需要 {head}：请停止门户、备份数据库，再运行 tongji serve migrate（带上启动门户时的 --data 或 --database）", "The database {url} has an older schema ({found}); this tongji needs {head}: stop the portal, back up the database, then run tongji serve migrate (with the --data or --database the portal was started with)"),
    "database-newer": ("数据库 {url} 的结构版本 {found} 比本版 tongji 认识的 {head} 新：它已被更新版本的 tongji 升级，请用那个版本启动门户", "The database {url} has schema {found}, newer than the {head} this tongji knows: a newer tongji upgraded it; run the portal with that version"),
    "database-missing": ("没有找到门户数据库 {path}：请检查 --data 是否写对（门户用 PostgreSQL 时还要给出 --database）；新建门户用 tongji serve accounts 或 tongji serve", "No portal database at {path}: check --data (and --database for a portal on PostgreSQL); tongji serve accounts or tongji serve makes a new portal"),
    "migrate-done": ("数据库 {url} 已从 {before} 升级到最新结构 {after}", "Database {url} upgraded from {before} to the newest schema {after}"),
    "migrate-current": ("数据库 {url} 已是最新结构 {after}，无需升级", "Database {url} already has the newest schema {after}; nothing to do"),
    "migrate-created": ("数据库 {url} 原是空库，已建立最新结构 {after}", "Database {url} was empty; it now has the newest schema {after}"),
    "accounts-written": ("已生成 {n} 个账号的一次性密码：{path}（请妥善分发后删除此文件）", "One-time passwords for {n:account|accounts} written to {path} (hand them out, then delete the file)"),
    "accounts-new-portal": ("这是一个新门户：{where} 中原来没有账号，清单列出了所有单位。如果要的是已在使用的门户，请检查 --data 或 --database，并删除这份清单", "This is a new portal: {where} held no accounts, so the list has every unit. If you meant the portal in use, check --data or --database, and delete this list"),
    "registry-columns": ("名册缺少列：{columns}", "Registry lacks columns: {columns}"),
    "registry-duplicate": ("名册中单位代码重复：{codes}", "Registry has duplicate unit codes: {codes}"),
    "registry-bad-uscc": ("名册中这些 18 位单位代码不是有效的统一社会信用代码（校验位不符），请按单位的登记证书改正：{codes}", "These 18-character registry unit codes are not valid unified social credit codes (check character wrong); correct them from the units' certificates: {codes}"),
    "registry-unknown-parent": ("名册中上级代码不存在：{items}", "Registry parents not found: {items}"),
    "registry-cycle": ("名册中上下级关系成环：{items}", "Registry hierarchy has a cycle: {items}"),
    "registry-leaf-children": ("基层单位不能有下级：{items}", "Grassroots units cannot have children: {items}"),
    "registry-level-skip": ("名册层级跳级：{items}", "Registry skips a level: {items}"),
    "registry-revoked-parent": ("名册中这些单位未撤销，其上级却已撤销：{items}", "These registry units are active but their parent is marked 撤销 (revoked): {items}"),
    "registry-bad-state": ("名册中状态应为“正常”或“撤销”（空白按正常）：{items}", "A registry unit's 状态 is 正常 (active) or 撤销 (revoked; blank is 正常): {items}"),
    "registry-bad-type": ("名册 {path} 中组织类型应为 1（单独基层工会）、2（联合基层工会）、3（基层工会联合会）、9（本级）或空白：{items}", "In registry {path}, 组织类型 must be 1 (单独基层工会), 2 (联合基层工会), 3 (基层工会联合会), 9 (本级) or blank: {items}"),
    "registry-bad-level": ("名册中有未知层级：{items}（层级设置为 {levels}，可用 --levels 或 TONGJI_LEVELS 修改）", "Registry has unknown levels: {items} (levels are {levels}; set them with --levels or TONGJI_LEVELS)"),
    "levels-invalid": ("层级设置“{levels}”无效：至少两级、名称不重复，如 县,乡镇,基层", "Levels '{levels}' are invalid: at least two distinct names, e.g. 县,乡镇,基层"),
    "unit-not-in-registry": ("名册中没有单位 {unit}", "Unit {unit} is not in the registry"),
    "unit-revoked": ("名册中单位 {unit} 已撤销", "Unit {unit} is marked 撤销 (revoked) in the registry"),
    "unit-is-grassroots": ("单位 {unit}（{name}）是基层工会，下面没有单位可汇总；请指定它上面的一级工会", "Unit {unit} ({name}) is a grassroots union: there is nothing below it to roll up; name a union above it"),
    "output-unwritable": ("无法写入 {path}：{detail}", "Cannot write {path}: {detail}"),
    "output-not-folder": ("无法写入 {path}：那里已有一个同名的文件，不能当作文件夹，请换一个名字", "Cannot write {path}: a file of that name is in the way where a folder is needed; choose another name"),
    "output-disk-full": ("无法写入 {path}：磁盘已满", "Cannot write {path}: the disk is full"),
    "output-no-permission": ("无法写入 {path}：没有写权限", "Cannot write {path}: no permission to write there"),
    "output-is-folder": ("无法写入 {path}：那里是一个文件夹，请给出文件名", "Cannot write {path}: it is a folder; give a file name"),
    "output-read-only": ("无法写入 {path}：那里是只读的（如写保护的U盘或光盘），请换一个位置", "Cannot write {path}: it is read-only (a write-protected drive, say); choose another place"),
    "output-refused": ("无法写入 {path}：系统拒绝写入（{code}）", "Cannot write {path}: {detail}"),  # the system's words are English
    "report-format": ("报告格式只支持 .xlsx、.csv、.json：{path}", "Report must be .xlsx, .csv or .json: {path}"),
    "plugin-rule-clash": ("插件 {plugin} 的审核关系 id“{code}”与内置问题代码重名{where}，请给这条审核关系另起一个 id", "Plugin {plugin}: rule id '{code}' is a built-in issue code{where_en}; give the rule another id"),
    "plugin-conflict": ("“{what}”被两个插件重复注册：{first} 和 {second}", "'{what}' is registered twice: by {first} and by {second}"),
    "plugin-said": ("插件 {name}：{message}", "Plugin {name}: {message}"),
    "plugin-error": ("{message}", "{message}"),
    "plugin-bad-return": ("插件 {name} 的检查 {check} 返回的问题有误：{detail}", "Check {check} of plugin {name} returned a bad issue: {detail_en}"),
    "plugin-failed": ("插件 {name} 在 {hook} 中出错：{error}", "Plugin {name} failed in {hook_en}: {error}"),
    "plugin-failed-at": ("插件 {name} 在 {hook} 中出错（{file} 第 {line} 行）：{error}", "Plugin {name} failed in {hook_en} ({file} line {line}): {error}"),
    "plugin-missing-name": ("模块 {module} 中没有 {name}：请核对插件入口点写的名称", "The module {module} has no {name}: check the name its entry point gives"),
    "plugin-not-loaded": ("插件 {name} 无法加载：{error}", "Plugin {name} cannot be loaded: {error}"),
    "plugin-broken": ("插件 {name} 无法加载：{error}（用 tongji plugins 查看；TONGJI_LOAD_PLUGINS 可只加载指定插件）", "Plugin {name} cannot be loaded: {error} (see tongji plugins; TONGJI_LOAD_PLUGINS restricts loading)"),
    "plugin-bad-hook": ("未知的钩子（可能拼写错误）：{detail}", "Unknown hook (misspelt?): {detail}"),
    "plugin-bad-output": ("插件 {name} 的输出格式 {format} 应返回它写进输出文件夹 out_dir 的文件的路径（pathlib.Path）列表，而不是 {value}", "Output format {format} of plugin {name} should return a list of the paths (pathlib.Path) of the files it wrote into out_dir, not {value}"),
    "plugin-output-not-written": ("插件 {name} 的输出格式 {format} 返回的 {file} 不是它写进输出文件夹 out_dir 的文件（没有写出，或不在 out_dir 中）", "Output format {format} of plugin {name} returned {file}, which is not a file it wrote into out_dir (not written, or outside out_dir)"),
    "plugin-output-clash": ("插件 {name} 的输出格式 {format} 写出的 {file} 与 {other} 写出的文件重名，没有写出任何文件", "Output format {format} of plugin {name} writes {file}, as {other} does; nothing was written"),
    "plugin-command-taken": ("命令 {command} 已由 {owner} 提供，插件 {name} 不能再注册它", "The command {command} is {owner}'s already; plugin {name} cannot register it too"),
    "plugin-missing-module": ("导入的模块 {module} 没有安装（{where}）：请在运行 tongji 的同一环境中安装它", "The module {module} it imports is not installed ({where}): install it in the environment tongji runs in"),
    "plugin-syntax-error": ("{file} 第 {line} 行有语法错误：“{text}”", "{file} line {line} has a syntax error: '{text}'"),
    "plugin-syntax-error-at": ("{file} 第 {line} 行有语法错误", "{file} line {line} has a syntax error"),
    "plugin-missing-module-named": ("导入的模块 {module} 没有安装：请在运行 tongji 的同一环境中安装它", "The module {module} it imports is not installed: install it in the environment tongji runs in"),
    "plugin-load-failed": ("{error}（{where}）", "{error} ({where})"),
    "plugin-where": ("{file} 第 {line} 行", "{file} line {line}"),
    "plugin-duplicate-name": ("插件名 {name} 重复，未加载", "Plugin name {name} is taken; not loaded"),
    "plugin-not-found": ("TONGJI_LOAD_PLUGINS 中的插件 {name} 没有找到：已安装的插件和插件文件夹中都没有这个名字", "Plugin {name} named in TONGJI_LOAD_PLUGINS was not found: no installed plugin and nothing in the plugins folder has that name"),
    "plugins-dir-missing": ("插件文件夹不存在：{path}", "Plugins folder not found: {path}"),
    "plugins-dir-file": ("插件文件夹 {path} 是一个文件：请把插件文件放进一个文件夹，再用 --plugins-dir（或 TONGJI_PLUGINS_DIR）指向该文件夹", "The plugins folder {path} is a file: put the plugin file in a folder and give that folder to --plugins-dir (or TONGJI_PLUGINS_DIR)"),
    "unknown-format": ("没有名为 {name} 的输出格式（可用：{known}）", "No output format named {name} (available: {known})"),
    "plugin-invalid": ("插件 {name} 注册的内容有误：{detail}", "Plugin {name} registered something wrong: {detail_en}"),
    "spec-invalid": ("定义文件 {file} 第 {line} 行有误：{detail}", "Definition file {file} line {line}: {detail_en}"),
    "needs-registry": ("未提供名册（--registry），已跳过名册相关检查", "No registry (--registry): registry checks skipped"),
    "needs-period": ("未提供报告期（--period），已跳过报告期检查", "No period (--period): period check skipped"),
    "error-prefix": ("错误：", "Error: "),
    "blank": ("（空）", "(blank)"),
    "usage-error": ("用法错误：{detail}（用 --help 查看用法）", "Usage error: {detail} (see --help)"),
    "usage-missing-argument": ("缺少参数：{what}", "Missing argument: {what}"),
    "usage-root-option": ("{option} 要写在命令名之前：tongji {option} {value} {command} …", "{option} goes before the command: tongji {option} {value} {command} …"),
    # the terminal
    "cli-reading": ("读取工作簿", "Reading workbooks"),
    "cli-annotating": ("写出标注副本", "Writing annotated copies"),
    "demo-progress": ("审核、标注、逐级汇总", "Checking, annotating, rolling up"),
    "accounts-making": ("生成账号和一次性密码", "Making accounts and one-time passwords"),
    "template-making": ("生成填报模板", "Making templates"),
    "samples-making": ("生成示例数据", "Making sample data"),
    "backup-making": ("写出备份", "Writing the backup"),
    "restore-making": ("核对并恢复备份", "Checking and restoring the backup"),
    "check-making": ("核对上报的文件", "Checking the stored files"),
    "cli-writing": ("写出汇总表", "Writing summaries"),
    "cli-summary": ("共 {n} 份工作簿：通过 {ok}，有警告 {warn}，退回 {bad}", "{n:workbook|workbooks}: {ok} passed, {warn} with warnings, {bad} returned"),
    "cli-issues": ("问题清单", "Issues"),
    "cli-more-books": ("另有 {n} 份工作簿通过，未逐一列出", "{n:more workbook passed and is|more workbooks passed and are} not listed"),
    "cli-more-issues": ("另有 {n} 条问题未显示，请用 --report 导出完整清单", "{n:more issue|more issues} not shown; use --report for the full list"),
    "cli-report-written": ("问题清单已写入 {path}", "Issue list written to {path}"),
    "cli-annotated": ("已为 {n} 份工作簿写出标注副本：{path}", "{n:annotated copy|annotated copies} written to {path}"),
    "annotate-failed": ("{path} 的标注副本未能写出（{detail}）", "The annotated copy of {path} could not be written ({detail})"),
    "annotate-some-failed": (
        "已写出 {n} 份标注副本到 {folder}；{m} 份未能写出：{items}",
        "{n:annotated copy|annotated copies} written to {folder}; {m} could not be written: {items}",
    ),
    "annotate-more": ("等，另有 {n} 份", " and {n} more"),
    "demo-inputs": ("示例数据：{path}", "Sample data: {path}"),
    "demo-outputs": (
        "输出：问题清单 {report}；{n} 份需退回或有警告的工作簿的标注副本在 {folder}",
        "Outputs: issue list {report}; annotated copies of {n:workbook|workbooks} to return in {folder}",
    ),
    "rollup-needs-unit": ("请用 --unit 指定汇总哪个单位，或用 --all 汇总每一级", "Name the node with --unit, or use --all"),
    "rollup-title": ("{name}（{unit}）{period} 汇总", "Summary of {name} ({unit}), {period}"),
    "rollup-figures": (
        "基层工会 {units} 个，职工 {staff} 人，会员 {members} 人，入会率 {rate}；经费收入 {income} 元，支出 {spend} 元",
        "{units:grassroots union|grassroots unions}, {staff:employee|employees}, {members:member|members} ({rate}); income {income}, expenditure {spend}",
    ),
    "rollup-issues": ("校验：错误 {errors} 条，警告 {warnings} 条（详见汇总表“校验”工作表）", "Checks: {errors:error|errors}, {warnings:warning|warnings} (see the 校验 sheet)"),
    "rollup-issues-explained": ("校验：错误 {errors} 条，警告 {warnings} 条，已说明的警告 {explained} 条（详见汇总表“校验”工作表）", "Checks: {errors:error|errors}, {warnings:warning|warnings}, {explained:explained warning|explained warnings} (see the 校验 sheet)"),
    "rollup-written": ("已写出 {n} 个单位的汇总（{files} 个文件）：{path}", "Wrote summaries of {n:unit|units} ({files:file|files}) to {path}"),
    "col-child": ("下级单位", "Child"), "col-expected": ("应报", "Expected"), "col-received": ("已报", "Received"),
    "col-accepted": ("采用", "Accepted"), "col-returned": ("退回", "Returned"), "col-missing": ("缺报", "Missing"),
    "col-late": ("迟报", "Late"), "col-reported-rate": ("报送率", "Reported"), "col-timely-rate": ("及时率", "On time"),
    "demo-summary": (
        "{level}汇总 {name}：采用 {accepted}/{expected} 份，及时率 {timely}，基层工会 {units} 个，会员 {members} 人，入会率 {rate} → {path}",
        "{level} summary {name}: {accepted}/{expected} accepted, {timely} on time, {units:grassroots union|grassroots unions}, {members:member|members} ({rate}) → {path}",
    ),
    "and-more": (" 等共 {n} 项", " … {n} in all"),
    "cli-passed-over": ("提示：输入文件夹中有 {n} 个文件不是 tongji 能读的工作簿格式，未读取：{files}（请另存为 .xlsx 后再审核）", "Notice: {n:file|files} in the input folders not read, in a format tongji does not read: {files} (save them as .xlsx and check again)"),
    "cli-covered": ("提示：{n} 份工作簿未采用：输入中有其上级（街道等）的汇总表，汇总的是汇总表，这些工作簿的问题也不计入本次校验：{files}", "Notice: {n:workbook|workbooks} not used, as the summary of a union above is among the inputs and is summed instead; issues in the files listed do not count in this rollup's checks: {files}"),
    "items-more": (" 等 {n} 项", " … {n} in all"),  # after the first few of a list (i18n.Items)
    "col-plugin": ("插件", "Plugin"), "col-source": ("来源", "Source"), "col-registered": ("注册内容", "Registered"),
    "col-state": ("状态", "State"), "plugin-ok": ("正常", "ok"),
    "plugin-created": ("已创建插件项目 {path}：pip install --no-deps -e {path} 后由 tongji 自动加载（不重装本机已有的 tongji）；pytest {path} 运行其测试", "Created plugin project {path}: pip install --no-deps -e {path} and tongji loads it (the tongji installed here stays); pytest {path} runs its test"),
    "plugin-name-invalid": ("插件名“{name}”只能含小写字母、数字和下划线，且以字母开头", "Plugin name '{name}' must be lowercase letters, digits and underscores, starting with a letter"),
    "plugin-name-builtin": ("插件名“{name}”是 tongji 内置插件的名字，请换一个", "Plugin name '{name}' is the name of tongji's own built-in plugin; choose another"),
    "plugin-package-taken": ("已有名为 {package} 的 Python 包，插件 {name} 的包装上后会遮住它，请换一个名字", "A Python package named {package} exists already: plugin {name}'s package would shadow it once installed; choose another name"),
    "plugin-exists": ("{path} 已存在，未覆盖", "{path} exists; not overwritten"),
    "col-file": ("文件", "File"), "col-unit": ("单位代码", "Unit"), "col-name": ("单位名称", "Unit name"),
    "col-status": ("状态", "Status"), "col-errors": ("错误", "Errors"), "col-warnings": ("警告", "Warnings"),
    "col-explained": ("已说明", "Explained"), "col-notices": ("提示", "Notices"),
    "col-severity": ("严重程度", "Severity"), "col-cell": ("单元格", "Cell"), "col-code": ("指标", "Indicator"),
    "col-message": ("问题说明", "Message"), "col-diff": ("差额", "Imbalance"),
    "explained": ("已说明：{note}", "explained: {note}"),
    "explained-mark": ("（已说明）", " (explained)"),  # after a warning's severity, as the portal shows it
    # demo
    "demo-summary-previous": (
        "{level}汇总 {name}：采用 {accepted}/{expected} 份，及时率 {timely}，基层工会 {units} 个，会员 {members} 人（同比 {change}），"
        "入会率 {rate} → {path}",
        "{level} summary {name}: {accepted}/{expected} accepted, {timely} on time, {units:grassroots union|grassroots unions}, {members:member|members} "
        "({change} year on year; {rate}) → {path}",
    ),
    # template
    "template-written": ("已生成 {count} 个模板，保存在 {out}", "Wrote {count:template|templates} to {out}"),
    # samples
    "samples-needs-extra": (
        '生成示例城市需要 numpy，当前环境没有安装。请运行 pip install "tongji[samples]" 后再试',
        'Making a sample city needs numpy, which is not installed: run pip install "tongji[samples]" and try again',
    ),
    "samples-written": (
        "已生成示例城市：{units} 个基层工会、{levels} 份本级报表（市、区、街道），共 {files} 个工作簿\n"
        "名册：{registry}\n工作簿：{folder}\n埋设问题 {seeded} 个文件、缺报 {missing} 个单位，答案见 {answers}",
        "Wrote a sample city: {units:grassroots union|grassroots unions} and {levels:本级 workbook|本级 workbooks}, "
        "{files:workbook|workbooks} in all\n"
        "Registry: {registry}\nWorkbooks: {folder}\nSeeded mistakes in {seeded:file|files}, {missing:unit|units} "
        "missing; the answers are in {answers}",
    ),
    "samples-previous-written": (
        "上期（{period}）各级汇总表：{folder}（汇总时用 --previous 给出其中最上一级的一份，如 --previous {top}，"
        "得到上期数、同比和跨期审核）；埋设跨期问题 {seeded} 个文件，只有加 --previous 汇总才能检出",
        "Last period's ({period}) summaries: {folder} (give the top one to rollup, as --previous {top}, for 上期数, "
        "同比 and the cross-period checks); {seeded:file carries|files carry} a cross-period mistake that only "
        "rollup --previous finds",
    ),
    # sample data
    "samples-bad-option": ("示例数据参数有误：{detail}", "Invalid sample option: {detail_en}"),
    "samples-exists": ("{path} 已有文件；换一个目录，或加 --force 覆盖",
                       "{path} is not empty; choose another folder or add --force"),
}
