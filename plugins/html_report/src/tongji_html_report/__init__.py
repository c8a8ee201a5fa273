"""tongji 插件 html_report：输出格式 `html`，每个汇总单位一个自包含的 HTML 报告。

An example of a Python plugin (pluggy hooks): it only registers a writer; the work is in report.py.
"""

from tongji.plugin import hookimpl
from tongji_html_report.report import write_html

__all__ = ["register_output_formats", "write_html"]


@hookimpl
def register_output_formats(register):
    register("html", write_html, "自包含 HTML 报告：合计、指标同比、分组、完整性、问题清单与图表")
