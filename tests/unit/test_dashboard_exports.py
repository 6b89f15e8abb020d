"""Exports: the .xlsx opens with openpyxl and holds the same exact numbers; no formulas from user text."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from techmarket import exports
from techmarket.domain.registry import SHEET_HEADERS, parse_sheet
from techmarket.domain.stats import FIGURE_COLUMNS, Column, Table


def sample() -> Table:
    return Table(
        "top_sellers",
        "成交额前10名卖方（技术输出方）",
        [Column("name", "单位名称"), *FIGURE_COLUMNS],
        rows=[
            ['=HYPERLINK("http://evil","点我")', 2, Decimal("123456789012.34"), Decimal("0.01")],
            ["河南科技大学", 1, Decimal("1000000.00"), Decimal("800000.00")],
        ],
        note="说明文字",
    )


def test_xlsx_has_chinese_headers_exact_numbers_and_no_formula():
    wb = load_workbook(io.BytesIO(exports.tables_to_xlsx([sample()])))
    ws = wb.worksheets[0]
    assert ws.title == "成交额前10名卖方（技术输出方）"
    assert [c.value for c in ws[1]] == ["单位名称", "合同数（份）", "成交额（元）", "技术交易额（元）"]
    assert ws["A2"].data_type == "s" and ws["A2"].value.startswith("=HYPERLINK")
    assert Decimal(str(ws["C2"].value)) == Decimal("123456789012.34")
    assert ws["C2"].number_format == "#,##0.00"
    assert ws["B3"].value == 1 and Decimal(str(ws["D3"].value)) == Decimal("800000.00")
    assert ws["A5"].value == "说明：说明文字"


def test_xlsx_sheet_titles_are_valid_and_unique():
    t = sample()
    t.title = "a/b:c*d?e[f]" + "长" * 40
    wb = load_workbook(io.BytesIO(exports.tables_to_xlsx([t, t])))
    titles = wb.sheetnames
    assert len(titles) == 2 and len(set(titles)) == 2 and all(len(x) <= 31 for x in titles)
    assert not any(ch in "".join(titles) for ch in "/:*?[]")


def test_csv_is_utf8_with_bom_and_neutralises_formulas():
    data = exports.table_to_csv(sample())
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["单位名称", "合同数（份）", "成交额（元）", "技术交易额（元）"]
    assert rows[1][0].startswith("'=") and rows[1][2] == "123456789012.34"


def test_the_template_parses_as_a_valid_sheet():
    rows = exports.read_xlsx_rows(io.BytesIO(exports.registry_template()))
    assert tuple(rows[0]) == SHEET_HEADERS
    from datetime import date

    result = parse_sheet(rows, date(2026, 11, 26))
    assert result.ok and len(result.entries) == 1


@pytest.mark.parametrize("data", [b"", b"name,category\n", b"PK\x03\x04garbage"])
def test_unreadable_files_are_refused_in_chinese(data):
    with pytest.raises(exports.SheetReadError) as err:
        exports.read_xlsx_rows(io.BytesIO(data))
    assert ".xlsx" in err.value.message
