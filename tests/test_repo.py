"""The set-up contract: the README's two commands, and CI running exactly the test one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_readme_starts_with_demo_and_test_commands():
    demo, test = readme_commands()
    assert demo.strip().endswith("tongji demo")
    assert "pytest" in test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1].strip() in ci.splitlines()


def test_checks_doc_is_generated_from_the_code():
    from tongji.issues.catalog import Catalog
    from tongji.issues.checks_page import markdown
    from tongji.plugins import load_spec

    assert (ROOT / "docs" / "checks.md").read_text(encoding="utf-8") == markdown(Catalog.of(load_spec())), (
        "docs/checks.md is stale: run `python -m tongji.issues.checks_page > docs/checks.md`")


def test_no_module_extends_a_message_table_at_import():
    """Importing a module changes nothing: every UI string is written in i18n.MESSAGES itself."""
    pattern = re.compile(r"MESSAGES\s*(\.update|\.setdefault|\[[^\]]+\]\s*=)")
    found = [p.relative_to(ROOT).as_posix() for p in (ROOT / "src").rglob("*.py")
             if pattern.search(p.read_text(encoding="utf-8"))]
    assert not found, f"extend i18n.MESSAGES at import time: {found}"


def test_the_readme_names_every_option_of_the_library_calls():
    """The README's English section says it gives the library calls with every option by name."""
    import inspect

    import tongji

    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for call in (tongji.validate, tongji.rollup):
        shown = re.search(rf"`tongji\.{call.__name__}\(([^)]*)\)", text).group(1)
        named = {w.split("=")[0].strip() for w in shown.split(",")} - {"*"}
        assert named == set(inspect.signature(call).parameters), f"README's tongji.{call.__name__}: {shown}"
