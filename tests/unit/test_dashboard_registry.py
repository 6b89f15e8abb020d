"""The registry's import sheet: every bad row is reported in Chinese with its row number."""

from __future__ import annotations

from datetime import date

import pytest

from techmarket.domain.registry import SHEET_HEADERS, EntryCategory, EntryError, Level, check_entry, parse_sheet

TODAY = date(2026, 11, 26)
CODE = "91410381MA43DB7HRT"  # a valid 统一社会信用代码 (seed data)


def row(**kw):
    values = {
        "名称": "偃师市示例精密机械有限公司",
        "依托单位": "",
        "统一社会信用代码": "",
        "类别": "高新技术企业",
        "认定级别": "国家级",
        "认定年度": 2023,
        "认定日期": None,
        "证书或文件编号": "",
        "所在镇/街道": "首阳山街道",
        "是否本市单位": "是",
        "备注": "",
    }
    values.update(kw)
    return tuple(values[h] for h in SHEET_HEADERS)


def test_a_good_sheet_parses_every_row():
    result = parse_sheet(
        [SHEET_HEADERS, row(), row(名称="偃师市另一家有限公司", 认定年度="2024年", 统一社会信用代码=CODE)], TODAY
    )
    assert result.ok and len(result.entries) == 2
    number, entry = result.entries[1]
    assert number == 3 and entry.credit_code == CODE and entry.recognized_year == 2024
    assert entry.category is EntryCategory.HIGH_TECH_ENTERPRISE and entry.level is Level.NATIONAL


def test_bad_rows_are_reported_with_their_sheet_row_numbers():
    rows = [
        SHEET_HEADERS,
        row(),  # 2: fine
        row(类别="高企"),  # 3
        row(名称=""),  # 4
        (None,) * len(SHEET_HEADERS),  # 5: blank, skipped
        row(认定年度="二〇二三"),  # 6
        row(统一社会信用代码="91410381MA43DB7HRX"),  # 7: wrong check character
        row(认定级别="县级"),  # 8
        row(**{"所在镇/街道": "中关村街道"}),  # 9
        row(),  # 10: repeats row 2
        row(认定年度=2030),  # 11: future
        row(认定日期="2022-05-01"),  # 12: date outside the year
        row(是否本市单位="也许"),  # 13
    ]
    result = parse_sheet(rows, TODAY)
    assert not result.ok
    by_row = {e.row: e.message for e in result.errors}
    assert sorted(by_row) == [3, 4, 6, 7, 8, 9, 10, 11, 12, 13]
    assert "类别“高企”不在名录类别中" in by_row[3]
    assert by_row[4] == "请填写名称。"
    assert "四位数字年份" in by_row[6]
    assert "校验" in by_row[7] or "信用代码" in by_row[7]
    assert "认定级别“县级”无效" in by_row[8]
    assert "不是本市的镇或街道" in by_row[9]
    assert by_row[10] == "与第2行重复。"
    assert "2026年之间" in by_row[11]
    assert "认定日期应在认定年度之内" in by_row[12]
    assert "是否本市单位" in by_row[13]
    assert [n for n, _ in result.entries] == [2]
    assert str(result.errors[0]).startswith("第3行：")


def test_a_row_already_in_the_registry_is_an_error():
    existing = {("偃师市示例精密机械有限公司", "high_tech_enterprise", "national", 2023)}
    result = parse_sheet([SHEET_HEADERS, row()], TODAY, existing)
    assert [e.row for e in result.errors] == [2] and "已在名录中" in result.errors[0].message


def test_columns_may_come_in_any_order_and_optional_ones_may_be_missing():
    header = ("认定年度", "类别", "认定级别", "名称")
    result = parse_sheet([header, (2021, "众创空间", "洛阳市", "偃师市某某众创空间")], TODAY)
    assert result.ok and result.entries[0][1].level is Level.LUOYANG


@pytest.mark.parametrize(
    ("rows", "message"),
    [([], "文件是空的"), ([("名称", "类别")], "表头缺少“认定级别”列"), ([SHEET_HEADERS], "没有数据行")],
)
def test_header_problems(rows, message):
    result = parse_sheet(rows, TODAY)
    assert result.header_error and message in result.header_error and not result.entries


def test_form_values_checked_the_same_way():
    with pytest.raises(EntryError) as err:
        check_entry({"name": "某平台", "category": EntryCategory.MAKERSPACE, "level": Level.CITY,
                     "recognized_year": "2021", "town": "商城街道", "local": "否"}, TODAY)  # fmt: skip
    assert err.value.field == "town"
    entry = check_entry({"name": "  某平台 ", "category": EntryCategory.MAKERSPACE, "level": Level.CITY,
                         "recognized_year": "2021", "recognized_on": date(2021, 3, 1)}, TODAY)  # fmt: skip
    assert entry.name == "某平台" and entry.identity == ("某平台", "makerspace", "city", 2021)
