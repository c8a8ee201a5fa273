"""`--help` in English (`--lang en`, TONGJI_LANG=en): the commands' help is written in Chinese beside their options;
this is its English, keyed by the Chinese text. A help text not here (a plugin's command) is shown as written."""

from __future__ import annotations

ENGLISH = {
    "工会统计报表：生成模板、审核、汇总 (trade-union statistics: templates, validation, rollup)":
        "Trade-union statistics: templates, validation, rollup",
    "界面语言 zh 或 en（也可设 TONGJI_LANG）": "Language: zh or en (or set TONGJI_LANG)",
    "插件文件夹（也可设 TONGJI_PLUGINS_DIR）": "Plugins folder (or set TONGJI_PLUGINS_DIR)",
    # template
    "生成填报模板：每个基层工会一份，街道及以上每个工会各一份本级报表。":
        "Make the workbooks to fill in: one per grassroots union, and a 本级 workbook for each union of a 街道 "
        "and above.",
    "名册文件（xlsx 或 csv）": "Registry file (xlsx or csv)",
    "报告期：2025、2025Q2 或 2025-06": "Period: 2025, 2025Q2 or 2025-06",
    "模板输出目录": "Folder to write the templates to",
    "只生成这一个单位的模板（单位代码）": "Only this unit's template (its unit code)",
    "层级名称自上而下，逗号分隔（默认 市,区,街道,基层；也可设 TONGJI_LEVELS）":
        "Level names from the top down, separated by commas (default 市,区,街道,基层; or set TONGJI_LEVELS)",
    "覆盖输出目录中同名的文件（默认拒绝：可能是交回的报表）":
        "Replace files of the same name in the output folder (refused by default: they may be returned workbooks)",
    # validate
    "审核工作簿：退出码 0 无错误，1 有工作簿需退回，2 用法或设置错误。":
        "Check workbooks. Exit code 0: no errors; 1: workbooks to return; 2: a usage or setup mistake.",
    "工作簿文件或文件夹（递归查找 .xlsx/.xls）": "Workbook files or folders (searched for .xlsx/.xls, subfolders too)",
    "单位名册（xlsx 或 csv）": "Registry of units (xlsx or csv)",
    "把完整问题清单写入 .xlsx / .csv / .json": "Write the full list of issues to a .xlsx / .csv / .json file",
    "为有问题的工作簿写出标注副本到此文件夹": "Write annotated copies of the workbooks with issues to this folder",
    "Dask 集群调度器地址（如 tcp://10.0.0.5:8786；也可设 TONGJI_DASK）：在集群各节点上读取并审核工作簿":
        "Dask scheduler address (such as tcp://10.0.0.5:8786; or set TONGJI_DASK): read and check the workbooks "
        "on the cluster's nodes",
    "把工作簿内容发给 Dask 各节点（各节点看不到同一共享路径时用）":
        "Send the workbooks' contents to the Dask nodes (when they do not see the same shared path)",
    # rollup
    "汇总：退出码 0 无错误，1 有退回或错误，2 用法或设置错误。":
        "Sum up. Exit code 0: no errors; 1: workbooks returned or errors; 2: a usage or setup mistake.",
    "基层、本级工作簿和下级汇总表（文件或文件夹）":
        "Grassroots and 本级 workbooks and the summaries of unions below (files or folders)",
    "汇总表输出文件夹": "Folder to write the summaries to",
    "汇总哪个单位（名册中的单位代码）；与 --all 同用时汇总其下每一级":
        "The unit to sum up (its code in the registry); with --all, every level below it",
    "自下而上汇总名册中的每一级": "Sum up every level of the registry, from the bottom up",
    "有错误的工作簿也汇总（默认退回不汇总）":
        "Sum workbooks with errors too (by default they are returned, not summed)",
    "同一单位多份报表时采用报出日期最新的一份":
        "Of several workbooks of one unit, use the one with the latest 报出日期",
    "上期同一单位的汇总表，用于上期数、同比和跨期审核":
        "The same unit's summary of last period, for 上期数, 同比 and the cross-period checks",
    "报送截止日期（如 2026-01-20）：报出日期晚于它的单位为迟报，完整性给出及时率；默认取配置中的报送截止日期":
        "Deadline (such as 2026-01-20): a unit whose 报出日期 is later is late, and completeness gives the share "
        "on time; by default the deadline of the configuration",
    "输出格式，可重复或用逗号分隔：xlsx、csv、json、parquet 及插件注册的格式":
        "Output format, repeated or separated by commas: xlsx, csv, json, parquet and the formats of plugins",
    # demo
    "演示：审核示例城市的工作簿，写出问题清单和退回工作簿的标注副本，再逐级汇总街道、区、市。":
        "Demo: check a sample city's workbooks, write the issue list and annotated copies of the returned "
        "workbooks, then sum up 街道, 区 and 市.",
    "输出文件夹（默认 ./tongji-demo）": "Output folder (default ./tongji-demo)",
    "不用自带样例，按此数量新生成一个示例城市": "Instead of the bundled samples, make a sample city of this many units",
    "生成示例城市的随机种子": "Random seed of the sample city",
    "改为启动在线报送门户的演示（示例城市，已有部分单位上报）":
        "Start a demo of the collection portal instead (a sample city, some units already uploaded)",
    "与 --serve 同用：监听地址": "With --serve: the address to listen on",
    "与 --serve 同用：端口": "With --serve: the port",
    "与 --serve 同用：数据库地址（SQLAlchemy URL），默认是输出文件夹中的 SQLite；库中已有账号时保留原状态":
        "With --serve: database URL (SQLAlchemy), by default SQLite in the output folder; a database that has "
        "accounts already keeps its state",
    # plugins
    "列出已加载的插件及每个插件注册的内容（表、指标行、审核关系、派生指标、配置、输出格式、命令）。":
        "List the plugins loaded and what each registered (forms, rows, rules, indicators, configuration, "
        "output formats, commands).",
    "插件开发工具": "Tools for writing plugins",
    "生成一个插件项目：pyproject（含入口点）、一个钩子、一个测试；pip install 后即被 tongji 加载。":
        "Make a plugin project: a pyproject (with its entry point), a hook and a test; tongji loads it once "
        "pip-installed.",
    "插件名（字母、数字、下划线），如 my_region": "Plugin name (letters, digits, underscores), such as my_region",
    "在此文件夹下创建插件项目": "Make the plugin project in this folder",
    # samples
    "示例数据 (sample data)": "Sample data",
    "生成一个虚构城市：名册、各基层工会和各级本级的已填报工作簿，部分带有常见错误。":
        "Make a fictional city: a registry and filled-in workbooks of its grassroots unions and of each level's "
        "本级, some with common mistakes.",
    "输出目录：写入 registry.csv 和 <报告期>/ 下的工作簿": "Output folder: registry.csv and the workbooks in <period>/",
    "基层工会数": "Number of grassroots unions",
    "随机种子：同一种子生成完全相同的文件": "Random seed: the same seed makes the very same files",
    "带一处错误的基层工会比例（0–1）": "Share of grassroots unions with one mistake (0–1)",
    "区数（默认约 基层数/40，至多 99）": "Number of 区 (default about grassroots unions/40, at most 99)",
    "街道数（默认约 基层数/15，每区至多 999）":
        "Number of 街道 (default about grassroots unions/15, at most 999 per 区)",
    "同时生成上年同期的各级汇总表（用于同比和跨期审核）":
        "Also make each level's summaries of the same period a year before (for 同比 and the cross-period checks)",
    "覆盖已有的同一报告期工作簿": "Replace existing workbooks of the same period",
    # serve
    "在线报送门户：各单位上传、即时审核，统计员审核、退回、汇总、上报":
        "Collection portal: units upload and are checked at once; statisticians review, return, sum up, report",
    "数据文件夹：上传的文件、汇总表和数据库": "Data folder: the uploaded files, the summaries and the database",
    "数据库地址（SQLAlchemy URL），默认是数据文件夹中的 SQLite":
        "Database URL (SQLAlchemy), by default SQLite in the data folder",
    "监听地址（默认只允许本机访问；0.0.0.0 允许局域网访问）":
        "Address to listen on (by default this machine only; 0.0.0.0 lets the local network in)",
    "端口": "Port",
    "报送截止日期 YYYY-MM-DD，用于迟报和及时率": "Deadline YYYY-MM-DD, for late units and the share on time",
    "服务进程数；大于 1 时须用 PostgreSQL（--database）": "Server processes; more than 1 needs PostgreSQL (--database)",
    "生成账号清单：每个单位一个账号（账号即单位代码）和一次性密码，首次登录须改密码。":
        "Make the account list: an account per unit (named by its unit code) with a one-time password, changed "
        "at the first login.",
    "报告期": "Period",
    "账号清单 xlsx（含一次性密码，请妥善分发后删除）":
        "Account list, xlsx (it holds one-time passwords: hand them out with care, then delete it)",
    "数据文件夹": "Data folder",
    "数据库地址（SQLAlchemy URL）": "Database URL (SQLAlchemy)",
    "为所有账号重新生成一次性密码": "Make new one-time passwords for every account",
    "备份：数据库、上传的文件和汇总表，连同每个文件的 SHA-256，写成一个 zip；门户运行时也可备份。":
        "Back up the database, the uploaded files and the summaries, each with its SHA-256, into one zip; the "
        "portal may be running.",
    "备份文件（.zip）": "Backup file (.zip)",
    "恢复：先核对备份中每个文件的 SHA-256，再恢复到空的数据文件夹和数据库。":
        "Restore: check every file of the backup against its SHA-256, then restore into an empty data folder "
        "and database.",
    "tongji serve backup 写出的备份文件": "A backup file written by tongji serve backup",
    "恢复到的数据文件夹（须为空）": "Data folder to restore into (it must be empty)",
    "恢复到的数据库（须为空），默认是数据文件夹中的 SQLite":
        "Database to restore into (it must be empty), by default SQLite in the data folder",
    "检查数据文件夹：每个文件与其 SHA-256 是否相符，数据库记录的文件是否都在。退出码 0 完好，1 有问题。":
        "Check the data folder: does every file match its SHA-256, is every file the database names there. "
        "Exit code 0: intact; 1: problems.",
    "把门户数据库升级到本版 tongji 的结构（先停止门户、备份数据库）。":
        "Bring the portal's database to this tongji's schema (stop the portal and back up the database first).",
    "数据文件夹（默认数据库在其中）": "Data folder (the default database is in it)",
}


def in_english(command) -> None:
    """The help of a click command, its options and its subcommands, in English where it is known; a value's label
    as a user names it, not as Python does (<list[Path]>)."""
    from tongji.cli.help_zh import BRACES, reframed

    for text in ("help", "short_help"):
        value = getattr(command, text, None)
        if value:
            setattr(command, text, ENGLISH.get(value.strip(), value))
    for param in command.params:
        if getattr(param, "help", None):
            param.help = ENGLISH.get(param.help, param.help)
    original = command.get_help
    command.get_help = lambda ctx: reframed(original(ctx), [BRACES], LABELS)
    for sub in getattr(command, "commands", {}).values():
        in_english(sub)


LABELS = {"<list[Path]>": "<path>", "<list[str]>": "<text>", "<str>": "<text>"}
