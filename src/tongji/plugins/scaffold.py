"""`tongji plugin new NAME`: a plugin project that installs with pip and passes its own test.

tongji is not on the package index: the project depends on the tongji that made it, by its path
(`tongji @ file:///…`) when that tongji was installed from a local folder or file, else on its version.
tests/test_scaffold.py installs the project in a fresh venv and runs its test there."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
from pathlib import Path

from tongji.definitions.builder import BUILTIN
from tongji.errors import TongjiError
from tongji.writing.files import ensure_dir, unwritable

PYPROJECT = '''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tongji-{name}"
version = "0.1.0"
description = "tongji 插件：{name}"
requires-python = ">=3.11"
dependencies = ["{requirement}"]

[project.entry-points.tongji]
{name} = "tongji_{name}.plugin"

[tool.setuptools.packages.find]
where = ["src"]
'''

PLUGIN = '''"""tongji 插件 {name}。每个钩子见 tongji 的 docs/plugins.md；钩子参数不要给默认值（pluggy 不会传）。"""

from tongji.plugin import hookimpl


@hookimpl
def register_indicators(register):
    # 派生指标：汇总时由分子、分母的合计重新计算，分母为 0 时不计算
    register({{
        "id": "{name}_兼职工作人员占比",
        "name": "兼职工会工作人员占比",
        "numerator": "HY14",
        "denominator": "HY13 + HY14",
        "unit": "%",
    }})
'''

TEST = '''from tongji.testing import load_plugin, make_city, rollup, validate
from tongji_{name} import plugin


def test_the_plugin_loads_and_good_workbooks_pass(tmp_path):
    # 换掉 plugin.py 中的例子后这个测试仍然适用；每个钩子的断言见 docs/plugins.md 的完整例子
    host = load_plugin(plugin, name="{name}")
    assert host.errors == {{}}  # 钩子名没有拼错，注册的内容都被接受
    city = make_city(tmp_path, host)  # 一个小市：每个单位的工作簿都填了通过内置审核的数值
    assert validate(host, city).flatten(["rule", "cell"], severity="错误") == []
    summaries = rollup(host, city)
    assert not summaries[city.top].has_errors
'''

README = '''# tongji-{name}

tongji 插件。安装：`pip install -e .`（依赖 `{requirement}`），之后 `tongji plugins` 可见；测试：`pytest`。
已装好 tongji 的环境（如用 `pip install -e` 装的）里改用 `pip install --no-deps -e .`：
否则 pip 按依赖重装一份不可编辑的 tongji 替换它。
tongji 不在软件包索引上：若依赖写的是版本号，先 `pip install -e /tongji/所在/文件夹`。
'''


def scaffold(name: str, out: Path) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise TongjiError("plugin-name-invalid", name=name)
    if name == BUILTIN:  # its test would find the name taken by tongji's own forms and rules
        raise TongjiError("plugin-name-builtin", name=name)
    if importlib.util.find_spec(f"tongji_{name}") is not None:  # installed, it would shadow that package
        raise TongjiError("plugin-package-taken", name=name, package=f"tongji_{name}")
    folder = Path(out) / f"tongji-{name}"
    if folder.exists():
        raise TongjiError("plugin-exists", path=folder)
    files = {
        "pyproject.toml": PYPROJECT, "README.md": README,
        f"src/tongji_{name}/__init__.py": "", f"src/tongji_{name}/plugin.py": PLUGIN,
        "tests/test_plugin.py": TEST,
    }
    requirement = tongji_requirement()
    for rel, text in files.items():
        path = folder / rel
        ensure_dir(path.parent)  # --out naming a file, say: one line, not tongji's crash
        try:
            path.write_text(text.format(name=name, requirement=requirement), encoding="utf-8")
        except OSError as exc:
            raise unwritable(path, exc) from None
    return folder


def tongji_requirement() -> str:
    """`tongji @ file:///path` for a tongji installed from a local path (pip install -e ., pip install . or a
    wheel file), else `tongji>=VERSION` (installed from an index or a remote URL: the docs say to install the
    same one first)."""
    try:
        dist = importlib.metadata.distribution("tongji")
    except importlib.metadata.PackageNotFoundError:
        return "tongji"
    url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
    return f"tongji @ {url}" if url.startswith("file://") else f"tongji>={dist.version}"
