"""Forms for achievements and needs; every field validated with a Chinese message."""

from __future__ import annotations

import re
from datetime import date

from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from techmarket.domain.listings import AmountError, Cooperation, IPType, Maturity, TechField, parse_amount
from techmarket.forms_common import BaseForm, SelectChoice, no_control_chars, phone

REQUIRED = "此项为必填项。"
PATENT_RE = re.compile(r"^(ZL)?\s?\d{4}\s?\d\s?\d{7}\.?[\dX]$", re.IGNORECASE)


def choices(enum_cls, blank: str | None = None) -> list[SelectChoice]:
    options = [SelectChoice(m.value, m.label) for m in enum_cls]
    return ([SelectChoice("", blank)] if blank is not None else []) + options


def text(label: str, max_len: int, required: bool = True, area: bool = False):
    field_cls = TextAreaField if area else StringField
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    validators += [Length(max=max_len, message=f"{label}不能超过{max_len}个字。"), no_control_chars]
    return field_cls(label, validators=validators)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def amount(label: str):
    def check(form, field) -> None:
        try:
            field.amount = parse_amount(field.data, label)
        except AmountError as exc:
            raise ValidationError(str(exc)) from exc

    field = StringField(label, validators=[Optional(), Length(max=20, message=f"{label}格式不正确。"), check])
    return field


class ListingForm(BaseForm):
    version = StringField()
    field = SelectField(
        "技术领域", choices=choices(TechField, "请选择技术领域"), validators=[DataRequired("请选择技术领域。")]
    )
    cooperation = MultiCheckboxField(
        "合作方式", choices=choices(Cooperation), validators=[DataRequired("请至少选择一种合作方式。")]
    )

    def amount_of(self, name: str):
        return getattr(getattr(self, name), "amount", None) if getattr(self, name).data else None


class AchievementForm(ListingForm):
    title = text("成果名称", 100)
    summary = text("成果简介", 300, area=True)
    description = text("详细介绍", 5000, area=True)
    keywords = text("关键词", 200, required=False)
    maturity = SelectField(
        "成熟度", choices=choices(Maturity, "请选择成熟度"), validators=[DataRequired("请选择成熟度。")]
    )
    trl = IntegerField(
        "技术就绪度（TRL 1–9）",
        validators=[Optional(), NumberRange(min=1, max=9, message="技术就绪度应为1到9之间的整数。")],
    )
    ip_type = SelectField(
        "知识产权", choices=choices(IPType, "请选择知识产权类型"), validators=[DataRequired("请选择知识产权类型。")]
    )
    patent_numbers = text("专利号", 1000, required=False, area=True)
    price = amount("参考价格")
    team = text("团队介绍", 2000, required=False, area=True)
    contact_name = text("联系人", 50, required=False)
    contact_phone = StringField("联系电话", validators=[Optional(), phone])
    pilot_base = BooleanField("具备中试/熟化基地能力，可为企业提供中试服务")

    def keyword_list(self) -> list[str]:
        parts = re.split(r"[,，、;；\s]+", self.keywords.data or "")
        return [p for p in dict.fromkeys(p.strip() for p in parts) if p][:10]

    def patent_list(self) -> list[str]:
        return [p.strip() for p in re.split(r"[\n,，;；]+", self.patent_numbers.data or "") if p.strip()]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        patents = self.patent_list()
        if self.ip_type.data == IPType.PATENT.value and not patents:
            self.patent_numbers.errors.append("知识产权为专利时，请填写至少一个专利号。")
            ok = False
        bad = [p for p in patents if not PATENT_RE.match(p)]
        if bad:
            self.patent_numbers.errors.append(f"专利号格式不正确：{bad[0]}（示例：ZL2023 1 0182457.8）。")
            ok = False
        if len(self.keyword_list()) > 0 and any(len(k) > 20 for k in self.keyword_list()):
            self.keywords.errors.append("每个关键词不能超过20个字，多个关键词请用逗号或空格分开。")
            ok = False
        return ok


class NeedForm(ListingForm):
    title = text("需求名称", 100)
    description = text("问题描述", 5000, area=True)
    expected_outcome = text("预期效果", 2000, area=True)
    budget_min = amount("预算下限")
    budget_max = amount("预算上限")
    deadline = DateField("截止日期", validators=[DataRequired("请填写有效的截止日期（年-月-日）。")])
    confidential_details = text("保密信息", 5000, required=False, area=True)
    anonymous = BooleanField("匿名发布（公开页面不显示本企业名称）")

    def __init__(self, *args, today: date | None = None, check_deadline: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._today = today or date.today()
        self._check_deadline = check_deadline

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        low, high = self.amount_of("budget_min"), self.amount_of("budget_max")
        if low is not None and high is not None and low > high:
            self.budget_max.errors.append("预算上限不能低于预算下限。")
            ok = False
        if self._check_deadline and self.deadline.data and self.deadline.data < self._today:
            self.deadline.errors.append("截止日期不能早于今天。")
            ok = False
        if self.deadline.data and self.deadline.data.year > self._today.year + 5:
            self.deadline.errors.append("截止日期不能晚于5年之后。")
            ok = False
        return ok


class ReasonForm(BaseForm):
    decision = SelectField(
        "审核结果",
        choices=[SelectChoice("approve", "通过"), SelectChoice("reject", "驳回")],
        validators=[DataRequired("请选择审核结果。")],
    )
    reason = text("驳回原因", 500, required=False, area=True)


class RenewForm(BaseForm):
    deadline = DateField("新的截止日期", validators=[Optional()])


class GrantForm(BaseForm):
    credit_code = StringField("对方单位统一社会信用代码", validators=[DataRequired(REQUIRED), Length(max=30)])
