"""`tongji plugin new NAME`: a plugin project that installs with pip and passes its own test."""

from __future__ import annotations

import re
from pathlib import Path

from tongji.errors import TongjiError

PYPROJECT = '''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tongji-{name}"
version = "0.1.0"
description = "tongji 插件：{name}"
requires-python = ">=3.11"
dependencies = ["tongji"]

[project.entry-points.tongji]
{name} = "tongji_{name}.plugin"

[tool.setuptools.packages.find]
where = ["src"]
'''

PLUGIN = '''"""tongji 插件 {name}。每个钩子见 tongji 的 docs/plugins.md；钩子参数不要给默认值（pluggy 不会传）。"""

from tongji.hookspecs import hookimpl


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

TEST = '''from tongji.plugins import Host
from tongji_{name} import plugin


def test_the_indicator_is_registered_and_computed():
    host = Host(entry_points=False)
    host.add("{name}", plugin)
    assert host.errors == {{}}
    indicator = next(i for i in host.spec.indicators if i.id == "{name}_兼职工作人员占比")
    assert indicator.denominator.codes == ["HY13", "HY14"]
'''

README = '''# tongji-{name}

tongji 插件。安装：`pip install -e .`，之后 `tongji plugins` 可见；测试：`pytest`。
'''


def scaffold(name: str, out: Path) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise TongjiError("plugin-name-invalid", name=name)
    folder = Path(out) / f"tongji-{name}"
    if folder.exists():
        raise TongjiError("plugin-exists", path=folder)
    files = {
        "pyproject.toml": PYPROJECT, "README.md": README,
        f"src/tongji_{name}/__init__.py": "", f"src/tongji_{name}/plugin.py": PLUGIN,
        "tests/test_plugin.py": TEST,
    }
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(name=name), encoding="utf-8")
    return folder
