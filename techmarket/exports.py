"""Tables to .xlsx and .csv, and the registry's import sheet from .xlsx (openpyxl; no Flask, no database).

Text that a spreadsheet would run as a formula (starting with = + - @) is written as plain text: in the
.xlsx as a string cell, in the .csv with a leading apostrophe. Money is written as exact numbers (Decimal),
formatted with two decimals; the CSV is UTF-8 with a BOM so that Excel shows the Chinese headers.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from techmarket.domain.regions import TOWNS_AND_SUBDISTRICTS
from techmarket.domain.registry import LEVEL_LABELS, SHEET_COLUMNS, EntryCategory
from techmarket.domain.stats import Table

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
MAX_SHEET_TITLE = 31
_BAD_TITLE_CHARS = str.maketrans({c: "" for c in "[]:*?/\\"})


class SheetReadError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _sheet_title(title: str, used: set[str]) -> str:
    base = title.translate(_BAD_TITLE_CHARS)[:MAX_SHEET_TITLE] or "表"
    name, n = base, 2
    while name in used:
        suffix = f"({n})"
        name, n = base[: MAX_SHEET_TITLE - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _write_cell(ws, row: int, col: int, value: Any, kind: str) -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        cell.value = value
        if kind == "money":
            cell.number_format = MONEY_FORMAT
    else:
        cell.value = "" if value is None else str(value)
        cell.data_type = "s"  # never a formula, whatever the text starts with


def tables_to_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table: title, Chinese headers, rows; a note under the table when it has one."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for table in tables:
        ws = wb.create_sheet(_sheet_title(table.title, used))
        for col, column in enumerate(table.columns, start=1):
            _write_cell(ws, 1, col, column.label, "text")
            ws.cell(row=1, column=col).font = Font(bold=True)
            width = max([len(column.label)] + [len(str(r[col - 1])) for r in table.rows[:200]])
            ws.column_dimensions[get_column_letter(col)].width = min(60, 4 + 2 * width)
        for r, row in enumerate(table.rows, start=2):
            for col, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
                _write_cell(ws, r, col, value, column.kind)
        if table.note:
            _write_cell(ws, len(table.rows) + 3, 1, "说明：" + table.note, "text")
        ws.freeze_panes = "A2"
    if not tables:
        wb.create_sheet("无数据")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def table_to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow(
            [v if isinstance(v, Decimal | int) and not isinstance(v, bool) else _safe_text(str(v)) for v in row]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- the registry's import sheet ------------------------------------------------------------------


def registry_template() -> bytes:
    """The import template: the header row, one example, and a sheet listing the accepted values."""
    wb = Workbook()
    ws = wb.active
    ws.title = "创新主体与平台名录"
    example = {
        "name": "偃师市示例精密机械有限公司",
        "unit_name": "",
        "credit_code": "",
        "category": "高新技术企业",
        "level": "国家级",
        "recognized_year": 2023,
        "recognized_on": "2023-12-08",
        "certificate_no": "GR202341001234",
        "town": "首阳山街道",
        "local": "是",
        "note": "示例行，导入前请删除",
    }
    for col, (key, header, required) in enumerate(SHEET_COLUMNS, start=1):
        cell = ws.cell(row=1, column=col, value=header)
        cell.font = Font(bold=True, color="C00000" if required else "000000")  # required columns in red
        ws.cell(row=2, column=col, value=example[key])
        ws.column_dimensions[get_column_letter(col)].width = 18 if key not in ("name", "note") else 32
    ws.freeze_panes = "A2"
    help_ws = wb.create_sheet("填写说明")
    lines = [
        ["列", "说明"],
        ["名称", "必填：单位或平台的名称（平台填平台名称，依托单位填在“依托单位”列）"],
        ["类别", "必填，只能是：" + "、".join(c.label for c in EntryCategory)],
        ["认定级别", "必填，只能是：" + "、".join(LEVEL_LABELS.values())],
        ["认定年度", "必填：四位年份，例如 2023"],
        ["认定日期", "选填：2023-12-08"],
        ["统一社会信用代码", "选填：填写后自动关联平台上的同一单位；技术转移示范机构需填写才能计算奖励"],
        ["所在镇/街道", "选填，本市单位可填：" + "、".join(TOWNS_AND_SUBDISTRICTS)],
        ["是否本市单位", "选填：是 / 否（不填视为“是”）"],
        ["", "第1行为表头，请勿修改；从第2行起每行一条认定记录。同一单位同一类别同一级别同一年度只登记一次。"],
    ]
    for row in lines:
        help_ws.append(row)
    help_ws.column_dimensions["A"].width = 18
    help_ws.column_dimensions["B"].width = 100
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_xlsx_rows(stream: BinaryIO, max_rows: int = 5001) -> list[tuple[Any, ...]]:
    """The first sheet's rows as tuples of cell values (formulas as their cached values)."""
    data = stream.read()
    if not data.startswith(b"PK\x03\x04"):
        raise SheetReadError("只能导入Excel工作簿（.xlsx）。如为.xls或.csv文件，请在Excel中“另存为”.xlsx后再导入。")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SheetReadError("文件无法作为Excel工作簿读取，请确认文件未损坏并保存为.xlsx格式。") from exc
    try:
        ws = wb.worksheets[0]
        rows = []
        for row in ws.iter_rows(values_only=True):
            rows.append(tuple(row))
            if len(rows) > max_rows:
                break
        return rows
    finally:
        wb.close()
