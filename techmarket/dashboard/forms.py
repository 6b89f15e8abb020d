"""Forms of the dashboard area (bureau staff only)."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import BooleanField, DateField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from techmarket.domain.registry import EntryCategory, Level
from techmarket.forms_common import TOWN_CHOICES, BaseForm, no_control_chars

REQUIRED = "此项为必填项。"


def _text(label: str, max_length: int, *, required: bool = False) -> StringField:
    checks = [DataRequired(REQUIRED)] if required else [Optional()]
    return StringField(
        label,
        validators=[*checks, Length(max=max_length, message=f"{label}不能超过{max_length}个字。"), no_control_chars],
    )


class TargetForm(BaseForm):
    version = HiddenField()
    name = _text("目标名称", 100, required=True)
    target_value = StringField("目标数值", validators=[DataRequired(REQUIRED)])
    period_start = DateField("统计起始日期", validators=[DataRequired("请填写日期，格式如 2021-01-01。")])
    deadline = DateField("目标期限", validators=[DataRequired("请填写日期，格式如 2025-12-31。")])
    note = TextAreaField(
        "说明", validators=[Optional(), Length(max=500, message="说明不能超过500个字。"), no_control_chars]
    )


CATEGORY_CHOICES = [SelectChoice("", "请选择")] + [SelectChoice(c.value, c.label) for c in EntryCategory]
LEVEL_CHOICES = [SelectChoice("", "请选择")] + [SelectChoice(lv.value, lv.label) for lv in Level]


class EntryForm(BaseForm):
    name = _text("名称", 100, required=True)
    unit_name = _text("依托单位（平台填写）", 100)
    credit_code = _text("统一社会信用代码", 18)
    category = SelectField("类别", choices=CATEGORY_CHOICES, validators=[DataRequired(REQUIRED)])
    level = SelectField("认定级别", choices=LEVEL_CHOICES, validators=[DataRequired(REQUIRED)])
    recognized_year = StringField("认定年度", validators=[DataRequired(REQUIRED), Length(max=4)])
    recognized_on = DateField("认定日期", validators=[Optional()])
    certificate_no = _text("证书或文件编号", 60)
    local = BooleanField("本市单位", default=True)
    town = SelectField("所在镇/街道", choices=TOWN_CHOICES, validators=[Optional()])
    note = _text("备注", 500)


class ImportForm(BaseForm):
    file = FileField("Excel文件（.xlsx）", validators=[FileRequired("请选择要导入的Excel文件。")])
    valid_only = BooleanField("仅导入无误的行（跳过有错误的行）")


class RevokeForm(BaseForm):
    revoked_on = DateField("撤销或失效日期", validators=[DataRequired("请填写日期，格式如 2024-12-31。")])


class ReportForm(BaseForm):
    form_token = HiddenField()
    reported_on = DateField("报告日期", validators=[DataRequired("请填写日期，格式如 2026-03-31。")])
    department = _text("报告单位", 60)
    text = TextAreaField(
        "工作进展",
        validators=[
            DataRequired("请填写工作进展。"),
            Length(max=5000, message="工作进展不能超过5000个字。"),
            no_control_chars,
        ],
    )
    files = MultipleFileField("附件（PDF、JPEG或PNG，每个不超过20 MB，可多选）")
