"""Render the pictures of docs/guide.md from the real output of `tongji demo`. Never draw them by hand.

    python docs/make_screenshots.py            # writes docs/img/*.png

Needs LibreOffice (`libreoffice`), poppler (`pdftoppm`, `pdftotext`) and Chromium (`chromium`);
on Debian/Ubuntu: `apt-get install -y libreoffice-calc poppler-utils chromium fonts-noto-cjk`.

What it does:
1. runs the demo (the bundled sample city) into a temporary folder, exactly as `tongji demo` does, and
   `tongji template` for one unit of the same registry;
2. for each workbook picture, writes a temporary copy that shows only the sheet wanted (the others are
   hidden, nothing else is changed except print settings: A3 landscape, one page wide), converts it to
   PDF with LibreOffice headless, finds the printed area from the words on the page (`pdftotext -bbox`) and
   crops that area to PNG with `pdftoppm`;
3. screenshots the 街道 HTML report (the html_report example plugin) with headless Chromium.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
from openpyxl.worksheet.properties import PageSetupProperties

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
MAX_BYTES = 300_000

# The workbook pictures: (output name, workbook relative to the demo folder, sheet). The templates are written
# into the demo folder by `tongji template` for one grassroots union of the same sample registry.
STREET = "330106004"  # 翠苑街道总工会, the guide's example: one returned workbook, one notice, one cross-period error
TEMPLATE_UNIT = "81330106MM4426490Q"  # 翠苑门诊部工会
TEMPLATE = f"模板/{TEMPLATE_UNIT}_翠苑门诊部工会_2025.xlsx"
RETURNED = "退回工作簿/望江街道总工会/81330106MC56695267_望江中心小学工会_2025.xlsx"  # one error and one warning
RETURNED_STREET = "退回工作簿/翠苑街道总工会/81330106ME0351201G_示例市云帆文化艺术中心工会_2025.xlsx"  # 收入合计
SUMMARY = f"汇总/{STREET}_2025_汇总.xlsx"
WORKBOOK_SHOTS = [
    ("template-cover.png", TEMPLATE, "封面"),
    ("template-form.png", TEMPLATE, "建会"),
    ("issues.png", "问题清单.xlsx", "问题清单"),
    ("annotated-list.png", RETURNED, "问题清单"),
    ("annotated-cells.png", RETURNED, "会员"),
    ("annotated-income.png", RETURNED_STREET, "经费"),
    ("summary.png", SUMMARY, "会员"),
    ("summary-indicators.png", SUMMARY, "指标"),
]
# Print areas (top-left and bottom-right cells). issues.png: 单位名称 … 差额 (the file path is long and says the
# same) of the header and the first seven issues (the two rows after them, the duplicate workbooks, run off the page).
PRINT_AREAS = {"issues.png": "C1:L8"}
REPORT = f"汇总/{STREET}_2025_报告.html"
# The HTML pictures: (output name, sections of the report hidden, window size). The 完整性 table is shown from
# the report: the same numbers as the summary workbook's 完整性 sheet.
HTML_SHOTS = [
    ("report.png", (), "1280,1600"),
    ("report-completeness.png", ("key", "charts", "indicators", "issues"), "1280,1090"),
]


def main() -> None:
    missing = [tool for tool in ("libreoffice", "pdftoppm", "pdftotext", "chromium") if not shutil.which(tool)]
    if missing:
        sys.exit(f"missing tools: {', '.join(missing)} (see the docstring)")
    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tongji-shots-") as tmp:
        work = Path(tmp)
        demo = run_demo(work / "demo")
        for name, workbook, sheet in WORKBOOK_SHOTS:
            shot_sheet(demo / workbook, sheet, IMG / name, work, PRINT_AREAS.get(name))
        for name, hidden, size in HTML_SHOTS:
            shot_html(demo / REPORT, IMG / name, work, hidden, size)
    for png in sorted(IMG.glob("*.png")):
        size = png.stat().st_size
        print(f"{png.relative_to(ROOT)}  {size // 1024} KB")
        if size > MAX_BYTES:
            sys.exit(f"{png.name} is larger than {MAX_BYTES // 1000} KB")


def run_demo(out: Path) -> Path:
    """The same run as `tongji demo OUT`: validation, issue list, annotated copies, rollup (with last year's
    summaries) and HTML reports."""
    from tongji.demo import run_demo as demo

    demo(out)
    template(out / "模板", TEMPLATE_UNIT)
    return out


def template(out: Path, unit: str) -> None:
    """`tongji template --registry samples/registry.csv --period 2025 -o OUT --unit UNIT`."""
    from tongji.definitions.forms import data_dir
    from tongji.definitions.registry import load_registry
    from tongji.writing.template import make_templates

    make_templates(load_registry(data_dir("samples") / "registry.csv"), "2025", out, unit=unit)


# --- workbooks -----------------------------------------------------------------------------------------


def shot_sheet(workbook: Path, sheet: str, png: Path, work: Path, area: str | None = None) -> None:
    pdf = to_pdf(one_sheet(workbook, sheet, work / png.stem, area), work / png.stem)
    crop_to_png(pdf, 1, png)


def one_sheet(workbook: Path, sheet: str, folder: Path, area: str | None) -> Path:
    """A copy of `workbook` that prints only `sheet`, on one A3 landscape page width; values and colours untouched.

    A3 so that a wide sheet (the issue list) is hardly shrunk and its text stays readable."""
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.load_workbook(workbook)
    ws = wb[sheet]
    wb.active = wb.sheetnames.index(sheet)
    for other in wb.worksheets:
        if other is not ws:
            other.sheet_state = "hidden"
            other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = None
    if area:
        ws.print_area = area
    copy = folder / f"{png_safe(workbook.stem)}.xlsx"
    wb.save(copy)
    return copy


def png_safe(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]", "_", text)[:40] or "book"


def to_pdf(xlsx: Path, outdir: Path) -> Path:
    profile = (outdir.parent / "lo-profile").as_uri()
    subprocess.run(["libreoffice", "--headless", f"-env:UserInstallation={profile}", "--convert-to", "pdf",
                    "--outdir", str(outdir), str(xlsx)], check=True, capture_output=True, timeout=180)
    pdf = outdir / f"{xlsx.stem}.pdf"
    if not pdf.is_file():
        raise RuntimeError(f"LibreOffice wrote no PDF for {xlsx}")
    return pdf


def text_box(pdf: Path, page: int) -> tuple[float, float, float, float]:
    """The box around every word printed on `page`, in points: (x0, y0, x1, y1)."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         check=True, capture_output=True, text=True).stdout
    boxes = [tuple(float(v) for v in m) for m in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">', out)]
    if not boxes:
        raise RuntimeError(f"page {page} of {pdf} is empty")
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def crop_to_png(pdf: Path, page: int, png: Path, dpi: int = 96, max_px: int = 1400, margin: float = 8.0) -> None:
    """Crop `page` to its printed words (plus a margin for the cell borders): screen size, at most `max_px` wide."""
    x0, y0, x1, y1 = text_box(pdf, page)
    x0, y0, x1, y1 = max(x0 - margin, 0), max(y0 - margin, 0), x1 + margin, y1 + margin
    dpi = min(dpi, int(max_px * 72 / (x1 - x0)))
    scale = dpi / 72
    prefix = png.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    "-x", str(int(x0 * scale)), "-y", str(int(y0 * scale)),
                    "-W", str(int((x1 - x0) * scale)), "-H", str(int((y1 - y0) * scale)),
                    str(pdf), str(prefix)], check=True, timeout=60)


# --- the HTML report -----------------------------------------------------------------------------------


def shot_html(report: Path, png: Path, work: Path, hidden: tuple[str, ...], size: str) -> None:
    """Screenshot the top of the report; `hidden` sections (by id) are left out of a temporary copy."""
    if not report.is_file():
        raise RuntimeError(f"no HTML report at {report}: is plugins/html_report there?")
    if hidden:
        style = "<style>" + ",".join(f"#{h}" for h in hidden) + "{display:none}</style></head>"
        copy = work / f"{png.stem}.html"
        copy.write_text(report.read_text(encoding="utf-8").replace("</head>", style, 1), encoding="utf-8")
        report = copy
    png.unlink(missing_ok=True)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--hide-scrollbars", f"--user-data-dir={work / 'chromium'}", "--virtual-time-budget=5000",
                    f"--window-size={size}", f"--screenshot={png}", report.as_uri()],
                   check=True, capture_output=True, timeout=120)
    if not png.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot of {report}")


if __name__ == "__main__":
    main()
