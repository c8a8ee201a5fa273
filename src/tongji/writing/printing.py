"""How every sheet we write prints: A4, one page wide (明细 excepted), in Excel, WPS and LibreOffice alike.

A statistician prints the forms to sign and file them, and the tables to check them on paper; a sheet that
prints in vertical strips or cuts its right edge is of no use. Height is left free (fitToHeight 0): a
long table runs to as many pages as it needs, its header repeated on each. Only 明细, a column per indicator,
is too wide for any page one could read: it runs across pages, each row's unit repeated on each.
"""

from __future__ import annotations

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

WIDE_SCALE = 60  # percent: eight-point type still reads on paper; the built-in forms' 明细 is about 7 pages across
FOOTER = "第 &P 页，共 &N 页"  # Excel's codes for this page and the page count


def form_pages(ws: Worksheet, header_row: int) -> None:
    """A form sheet (封面, 会员, 建会, 帮扶, 经费): portrait, its header row repeated, and a print area
    from the title and the form mark at the top right down to the signature block."""
    _a4(ws, "portrait")
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{get_column_letter(ws.max_column)}{ws.max_row}"
    ws.print_options.horizontalCentered = True


def table_pages(ws: Worksheet, title_rows: str = "1:1") -> None:
    """A table (明细, 完整性, 校验, 指标, the report's sheets): landscape, header rows repeated, grid lines
    printed so that a row can be followed across a wide page."""
    _a4(ws, "landscape")
    ws.print_title_rows = title_rows
    ws.print_options.gridLines = True


def wide_table_pages(ws: Worksheet, title_rows: str, title_cols: str) -> None:
    """A table far wider than a page (明细: a column per indicator): at a size one can read, pages across
    first, each page repeating the header rows and the columns that say whose row it is. Squeezed one page
    wide, 明细's ninety columns printed at 10 %, a grey block."""
    table_pages(ws, title_rows)
    ws.print_title_cols = title_cols
    ws.page_setup.fitToWidth = None
    ws.page_setup.fitToHeight = None
    ws.page_setup.scale = WIDE_SCALE
    ws.page_setup.pageOrder = "overThenDown"  # a unit's strips one after another, not every unit's first strip
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=False)


def text_pages(ws: Worksheet) -> None:
    """A sheet of text (填表说明): portrait; its column is narrow enough, and wraps, to fit at full size."""
    _a4(ws, "portrait")


def _a4(ws: Worksheet, orientation: str) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = orientation
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)  # without it the fit is ignored
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    ws.oddFooter.center.text = FOOTER
