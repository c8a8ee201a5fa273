"""The codes a sample union writes on its cover (domain v2): its legal-person 统一社会信用代码, its host unit's,
the host's 行业 — each valid, so that the deeper code checks pass on every clean workbook."""

from __future__ import annotations

from tongji.definitions.codes import USCC_CHARS, make_uscc
from tongji_samples.dice import Dice
from tongji_samples.tree import Unit

# 登记管理部门 and 机构类别 of the host unit, by 单位性质: 9 工商 (1 企业, 2 个体), 1 机构编制 (1 机关, 2 事业),
# 5 民政 (2 民办非企业)
HOST_PREFIX = {"400": "12", "500": "11", "600": "92", "700": "52"}
# 国民经济行业分类 门类 from words of the unit's name; else by its kind
INDUSTRY_WORDS = (
    ("软件", "I"), ("网络", "I"), ("信息", "I"), ("文化", "R"), ("传媒", "R"), ("艺术", "R"), ("餐饮", "H"),
    ("物业", "K"), ("建筑", "E"), ("城建", "E"), ("商贸", "F"), ("市场", "F"), ("商圈", "F"), ("粮食", "F"),
    ("咨询", "L"), ("广告", "L"), ("商会", "S"), ("楼宇", "L"), ("科技园", "M"), ("能源", "D"), ("水务", "D"),
    ("燃气", "D"), ("公交", "G"), ("地铁", "G"), ("交通", "G"), ("物流", "G"), ("快递", "G"), ("配送", "G"),
    ("货运", "G"), ("供应链", "G"), ("网约车", "G"), ("旅游", "N"), ("环境", "N"), ("资本", "J"), ("养老", "Q"),
    ("康复", "Q"), ("社会工作", "Q"), ("培训", "P"), ("社区", "S"),
)
KIND_INDUSTRY = {"制造": "C", "外资": "C", "学校": "P", "医疗": "Q", "机关": "S", "民非": "O", "物流": "G",
                 "科技服务": "I", "国企": "D", "联合": "F"}


def cover_codes(dice: Dice, unit: Unit) -> dict[str, str | None]:
    """FM13–FM15 of a grassroots union (a 联合 union has no single host unit); nothing for a 本级 office."""
    if unit.level != "基层":
        return {}
    county = unit.area[:6]
    out: dict[str, str | None] = {"FM13": make_uscc("81", county, _org_body(dice))}
    if unit.org == "2":
        return out | {"FM14": None, "FM15": _industry(unit)}
    return out | {"FM14": make_uscc(HOST_PREFIX.get(unit.nature, "91"), county, _org_body(dice)),
                  "FM15": _industry(unit)}


def _org_body(dice: Dice) -> str:
    """The 8 characters of an organisation code as issued since 2015: MA, then six of the code's characters."""
    return "MA" + "".join(dice.pick(USCC_CHARS) for _ in range(6))


def _industry(unit: Unit) -> str:
    for word, letter in INDUSTRY_WORDS:
        if word in unit.name:
            return letter
    return KIND_INDUSTRY.get(unit.kind.key if unit.kind else "", "S")
