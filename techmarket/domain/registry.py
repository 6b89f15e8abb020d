"""The innovation registry (创新主体与创新平台名录): vocabularies and the checks of an imported sheet, as pure rules.

One registry entry is one recognition: a unit (or a platform it runs) recognised in a category, at a level,
in a year. The bureau keeps the same list in an Excel sheet; :func:`parse_sheet` checks that sheet's rows
(plain tuples of cell values) and reports every problem in Chinese with the sheet's row number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from techmarket.domain.credit_code import CreditCodeError, normalize_credit_code
from techmarket.domain.regions import TOWNS_AND_SUBDISTRICTS


class EntryGroup(StrEnum):
    ENTITY = "entity"  # 创新主体
    PLATFORM = "platform"  # 创新平台
    INSTITUTION = "institution"  # 机构与联盟

    @property
    def label(self) -> str:
        return {"entity": "创新主体", "platform": "创新平台", "institution": "机构与联盟"}[self.value]


class EntryCategory(StrEnum):
    LEADING_ENTERPRISE = "leading_enterprise"
    HIGH_TECH_ENTERPRISE = "high_tech_enterprise"
    TECH_SME = "tech_sme"
    INCUBATOR = "incubator"
    MAKERSPACE = "makerspace"
    RD_PLATFORM = "rd_platform"
    KEY_LAB = "key_lab"
    ENGINEERING_CENTER = "engineering_center"
    ALLIANCE = "alliance"
    ACADEMICIAN_WORKSTATION = "academician_workstation"
    NEW_RD_INSTITUTION = "new_rd_institution"
    TRANSFER_DEMO = "transfer_demo"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self][0]

    @property
    def group(self) -> EntryGroup:
        return CATEGORY_LABELS[self][1]

    @classmethod
    def from_label(cls, text: str) -> EntryCategory:
        for member, (label, _) in CATEGORY_LABELS.items():
            if label == text:
                return member
        raise ValueError(text)


CATEGORY_LABELS: dict[EntryCategory, tuple[str, EntryGroup]] = {
    EntryCategory.LEADING_ENTERPRISE: ("创新龙头企业", EntryGroup.ENTITY),
    EntryCategory.HIGH_TECH_ENTERPRISE: ("高新技术企业", EntryGroup.ENTITY),
    EntryCategory.TECH_SME: ("科技型中小企业", EntryGroup.ENTITY),
    EntryCategory.INCUBATOR: ("科技企业孵化器", EntryGroup.PLATFORM),
    EntryCategory.MAKERSPACE: ("众创空间", EntryGroup.PLATFORM),
    EntryCategory.RD_PLATFORM: ("研发平台", EntryGroup.PLATFORM),
    EntryCategory.KEY_LAB: ("重点实验室", EntryGroup.PLATFORM),
    EntryCategory.ENGINEERING_CENTER: ("工程技术研究中心", EntryGroup.PLATFORM),
    EntryCategory.ACADEMICIAN_WORKSTATION: ("院士工作站", EntryGroup.PLATFORM),
    EntryCategory.NEW_RD_INSTITUTION: ("新型研发机构", EntryGroup.PLATFORM),
    EntryCategory.ALLIANCE: ("产业技术创新战略联盟", EntryGroup.INSTITUTION),
    EntryCategory.TRANSFER_DEMO: ("技术转移示范机构", EntryGroup.INSTITUTION),
}
ENTITY_CATEGORIES = frozenset(c for c in EntryCategory if c.group is EntryGroup.ENTITY)
PLATFORM_CATEGORIES = frozenset(c for c in EntryCategory if c.group is EntryGroup.PLATFORM)


class Level(StrEnum):
    """认定级别, highest first (the order the reward calculator reads too)."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    LUOYANG = "luoyang"
    CITY = "city"

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    @classmethod
    def from_label(cls, text: str) -> Level:
        for member, label in LEVEL_LABELS.items():
            if text in (label, label.removesuffix("级")):
                return member
        raise ValueError(text)


LEVEL_LABELS = {
    Level.NATIONAL: "国家级",
    Level.PROVINCIAL: "省级",
    Level.LUOYANG: "洛阳市级",
    Level.CITY: "偃师市级",
}

# --- the import sheet ----------------------------------------------------------------------------

#: Columns of the template, in order: (key, header, required).
SHEET_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("name", "名称", True),
    ("unit_name", "依托单位", False),
    ("credit_code", "统一社会信用代码", False),
    ("category", "类别", True),
    ("level", "认定级别", True),
    ("recognized_year", "认定年度", True),
    ("recognized_on", "认定日期", False),
    ("certificate_no", "证书或文件编号", False),
    ("town", "所在镇/街道", False),
    ("local", "是否本市单位", False),
    ("note", "备注", False),
)
SHEET_HEADERS = tuple(header for _, header, _ in SHEET_COLUMNS)
MIN_YEAR = 1985
MAX_ROWS = 5000


@dataclass(frozen=True)
class EntryData:
    """One checked recognition, ready for the service."""

    name: str
    category: EntryCategory
    level: Level
    recognized_year: int
    unit_name: str = ""
    credit_code: str | None = None
    recognized_on: date | None = None
    certificate_no: str = ""
    town: str | None = None
    local: bool = True
    note: str = ""

    @property
    def identity(self) -> tuple[str, str, str, int]:
        """What makes two rows the same recognition: the unit (code, else name), category, level, year."""
        return (self.credit_code or self.name, self.category.value, self.level.value, self.recognized_year)


@dataclass(frozen=True)
class RowError:
    row: int  # the sheet's row number (the header is row 1)
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行：{self.message}"


@dataclass(frozen=True)
class SheetResult:
    entries: tuple[tuple[int, EntryData], ...]  # (row number, entry) of every valid row
    errors: tuple[RowError, ...]
    header_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.header_error is None and not self.errors


class EntryError(ValueError):
    """A refused value (Chinese message); ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _year(value: Any, today: date) -> int:
    text = _text(value).removesuffix("年")
    if isinstance(value, datetime | date):
        return value.year
    if not text.isdigit():
        raise EntryError("认定年度应为四位数字年份，例如 2023。", "recognized_year")
    year = int(text)
    if not MIN_YEAR <= year <= today.year:
        raise EntryError(f"认定年度应在{MIN_YEAR}年至{today.year}年之间。", "recognized_year")
    return year


def _date(value: Any) -> date | None:
    if value is None or _text(value) == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        parts = text.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                pass
        raise EntryError("认定日期格式应为 2023-06-30。", "recognized_on") from None


def _local(value: Any) -> bool:
    text = _text(value)
    if text in ("", "是", "本市", "Y", "y", "1", "True", "TRUE"):
        return True
    if text in ("否", "外地", "N", "n", "0", "False", "FALSE"):
        return False
    raise EntryError("“是否本市单位”请填写“是”或“否”。", "local")


def check_entry(values: dict[str, Any], today: date) -> EntryData:
    """Check one entry (from the form or one sheet row); raises EntryError with the first problem."""
    name = _text(values.get("name"))
    if not name:
        raise EntryError("请填写名称。", "name")
    if len(name) > 100:
        raise EntryError("名称不能超过100个字。", "name")
    try:
        raw = values.get("category")
        category = raw if isinstance(raw, EntryCategory) else EntryCategory.from_label(_text(raw))
    except ValueError:
        choices = "、".join(c.label for c in EntryCategory)
        raise EntryError(f"类别“{_text(values.get('category'))}”不在名录类别中（{choices}）。", "category") from None
    try:
        raw = values.get("level")
        level = raw if isinstance(raw, Level) else Level.from_label(_text(raw))
    except ValueError:
        choices = "、".join(LEVEL_LABELS.values())
        raise EntryError(f"认定级别“{_text(values.get('level'))}”无效，应为{choices}之一。", "level") from None
    year = _year(values.get("recognized_year"), today)
    recognized_on = _date(values.get("recognized_on"))
    if recognized_on is not None and (recognized_on.year != year or recognized_on > today):
        raise EntryError("认定日期应在认定年度之内，且不能晚于今天。", "recognized_on")
    code_text = _text(values.get("credit_code"))
    credit_code = None
    if code_text:
        try:
            credit_code = normalize_credit_code(code_text)
        except CreditCodeError as exc:
            raise EntryError(str(exc), "credit_code") from exc
    local = _local(values.get("local"))
    town = _text(values.get("town")) or None
    if town is not None and town not in TOWNS_AND_SUBDISTRICTS:
        raise EntryError(f"“{town}”不是本市的镇或街道。", "town")
    if town is not None and not local:
        raise EntryError("外地单位无需填写镇/街道。", "town")
    unit_name = _text(values.get("unit_name"))
    certificate_no = _text(values.get("certificate_no"))
    note = _text(values.get("note"))
    for text, limit, what, field in (
        (unit_name, 100, "依托单位", "unit_name"),
        (certificate_no, 60, "证书或文件编号", "certificate_no"),
        (note, 500, "备注", "note"),
    ):
        if len(text) > limit:
            raise EntryError(f"{what}不能超过{limit}个字。", field)
    return EntryData(
        name=name,
        category=category,
        level=level,
        recognized_year=year,
        unit_name=unit_name,
        credit_code=credit_code,
        recognized_on=recognized_on,
        certificate_no=certificate_no,
        town=town,
        local=local,
        note=note,
    )


def _header_map(header: Sequence[Any]) -> dict[str, int] | str:
    names = [_text(h) for h in header]
    positions: dict[str, int] = {}
    for key, title, required in SHEET_COLUMNS:
        if title in names:
            positions[key] = names.index(title)
        elif required:
            return f"表头缺少“{title}”列。请使用页面上提供的导入模板（第1行为表头）。"
    return positions


def parse_sheet(
    rows: Iterable[Sequence[Any]], today: date, existing: Iterable[tuple[str, str, str, int]] = ()
) -> SheetResult:
    """Check the sheet's rows (the first is the header); blank rows are skipped.

    ``existing`` are the identities (see :attr:`EntryData.identity`) already in the registry: a row that
    repeats one, or repeats an earlier row of the same sheet, is an error.
    """
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        return SheetResult((), (), "文件是空的：第1行应为表头，从第2行起每行一条认定记录。")
    positions = _header_map(header)
    if isinstance(positions, str):
        return SheetResult((), (), positions)
    seen = {tuple(x) for x in existing}
    first_row: dict[tuple, int] = {}
    entries: list[tuple[int, EntryData]] = []
    errors: list[RowError] = []
    for number, row in enumerate(iterator, start=2):
        if number - 1 > MAX_ROWS:
            return SheetResult((), (), f"一次最多导入{MAX_ROWS}行，请分批导入。")
        values = {key: (row[i] if i < len(row) else None) for key, i in positions.items()}
        if all(_text(v) == "" for v in values.values()):
            continue
        try:
            entry = check_entry(values, today)
        except EntryError as exc:
            errors.append(RowError(number, exc.message))
            continue
        if entry.identity in seen:
            errors.append(
                RowError(
                    number,
                    f"“{entry.name}”的{entry.level.label}{entry.category.label}"
                    f"（{entry.recognized_year}年）已在名录中。",
                )
            )
            continue
        if entry.identity in first_row:
            errors.append(RowError(number, f"与第{first_row[entry.identity]}行重复。"))
            continue
        first_row[entry.identity] = number
        entries.append((number, entry))
    if not entries and not errors:
        return SheetResult((), (), "文件中没有数据行：请从第2行起填写认定记录。")
    return SheetResult(tuple(entries), tuple(errors))
