"""What users declare: forms, rules, indicators, the registry. Nothing here reads workbooks."""

from tongji.definitions.forms import Form, Indicator, Row, Rule, Spec

__all__ = ["Form", "Indicator", "Row", "Rule", "Spec"]
