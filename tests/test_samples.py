"""The bundled samples: every seeded mistake is caught by the rule meant for it, and nothing else is."""

from __future__ import annotations

import tongji
from tongji.spec.forms import data_dir

EXPECTED = {  # file name part → (cell, rule) found there; see samples/make_samples.py
    "北山商圈联合工会": [["会员!D11", "hy04-le-hy03"], ["会员!D11", "hy04-le-hy02"]],
    "示例软件有限公司工会": [["经费!D8", "jf01-sum"]],
    "西溪医院工会": [["封面!C15", "required"]],
    "西溪物流园区联合工会": [["封面!C10", "wrong-parent"]],
    "示例市快递服务中心工会": [["会员!D8", "text-number"]],
    "西溪社区卫生服务中心工会": [["会员!D10", "hy03-le-hy01"]],
}


def test_seeded_mistakes_are_caught_by_their_rules():
    samples = data_dir("samples")
    report = tongji.validate(samples / "2025", registry=samples / "registry.csv", period="2025")
    found: dict[str, list] = {}
    for file, cell, rule in report.flatten(["file", "cell", "rule"]):
        key = next(k for k in EXPECTED if k in file)  # a file not in EXPECTED has no issue at all
        found.setdefault(key, []).append([cell, rule])
    assert found == EXPECTED
    explained = report.issues.filter(report.issues["rule"] == "hy03-le-hy01")["explained"].to_list()
    assert explained == ["含退休后保留会籍会员 10 人"]
