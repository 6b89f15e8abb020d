"""Contract, payment, evidence and review forms (Chinese labels and messages; allow-lists of fields)."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    Form,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields import Field
from wtforms.validators import DataRequired, Length, Optional

from techmarket import forms_common as v
from techmarket.domain import contracts as rules
from techmarket.domain.contracts import ContractType, EvidenceKind, PlanCategory
from techmarket.domain.listings import IPType, TechField

REQUIRED = "此项为必填项。"
DATE_INVALID = "请输入有效的日期，格式为 YYYY-MM-DD。"

CONTRACT_TYPE_CHOICES = [SelectChoice(t.value, t.label) for t in ContractType]
TECH_FIELD_CHOICES = [SelectChoice(f.value, f.label) for f in TechField]
IP_TYPE_CHOICES = [SelectChoice(t.value, t.label) for t in IPType]
PLAN_CHOICES = [SelectChoice(c.value, c.label) for c in PlanCategory]
EVIDENCE_CHOICES = [SelectChoice(k.value, k.label) for k in EvidenceKind]


def money(what: str, *, required: bool = True):
    """Parse yuan with the domain rules; the Decimal goes to ``field.amount``, the text stays for redisplay."""

    def validator(form: Form, field: Field) -> None:
        field.amount = None
        raw = (field.data or "").strip()
        if not raw and not required:
            return
        try:
            field.amount = rules.require_amount(raw, what)
        except rules.ActionError as exc:
            raise ValidationError(exc.message) from exc

    return validator


def text(label: str, max_length: int, *, required: bool = False) -> StringField:
    checks = [DataRequired(REQUIRED)] if required else [Optional()]
    too_long = Length(max=max_length, message=f"{label}不能超过{max_length}个字。")
    return StringField(label, validators=[*checks, too_long, v.no_control_chars])


def date_field(label: str, *, required: bool = False) -> DateField:
    return DateField(label, validators=[DataRequired(DATE_INVALID) if required else Optional()])


class ContractForm(v.BaseForm):
    form_token = HiddenField()
    version = HiddenField()
    match_case = HiddenField()  # the 对接项目 the deal came from, re-checked on save
    title = text("合同名称", 200, required=True)
    contract_type = SelectField("合同类型", choices=CONTRACT_TYPE_CHOICES, validators=[DataRequired(REQUIRED)])

    buyer_name = text("买方名称", 100, required=True)
    buyer_credit_code = StringField("买方统一社会信用代码", validators=[DataRequired(REQUIRED), v.credit_code])
    buyer_region = text("买方所在地区", 60)
    buyer_local = BooleanField("买方为本市单位")
    seller_name = text("卖方名称", 100, required=True)
    seller_credit_code = StringField("卖方统一社会信用代码", validators=[DataRequired(REQUIRED), v.credit_code])
    seller_region = text("卖方所在地区", 60)
    seller_local = BooleanField("卖方为本市单位")
    institution_name = text("技术转移机构", 100)
    institution_credit_code = StringField("技术转移机构统一社会信用代码", validators=[Optional(), v.credit_code])

    signed_on = date_field("签订日期", required=True)
    valid_from = date_field("有效期起")
    valid_until = date_field("有效期止")
    contract_amount = StringField("合同成交额（元）", validators=[money("合同成交额")])
    technology_amount = StringField("技术交易额（元）", validators=[money("技术交易额")])
    tech_field = SelectField("技术领域", choices=TECH_FIELD_CHOICES, validators=[DataRequired(REQUIRED)])
    ip_type = SelectField("知识产权类别", choices=IP_TYPE_CHOICES, validators=[DataRequired(REQUIRED)])
    plan_category = SelectField("计划类别", choices=PLAN_CHOICES, validators=[DataRequired(REQUIRED)])
    subsidized = BooleanField("已享受财政资金补贴")

    registered_elsewhere = BooleanField("已在外地登记（卖方所在地技术合同登记机构）")
    external_registry = text("登记机构", 100)
    external_registration_no = text("外地登记编号", 40)
    external_registered_on = date_field("外地登记日期")

    def validate_technology_amount(self, field: Field) -> None:
        total = getattr(self.contract_amount, "amount", None)
        amount = getattr(field, "amount", None)
        if total is not None and amount is not None:
            try:
                rules.check_contract_amounts(total, amount)
            except rules.ActionError as exc:
                raise ValidationError(exc.message) from exc

    def validate_external_registration_no(self, field: Field) -> None:
        if self.registered_elsewhere.data:
            try:
                field.data = rules.normalize_registration_no(field.data)
            except rules.ActionError as exc:
                raise ValidationError(exc.message) from exc

    def validate_external_registered_on(self, field: Field) -> None:
        if self.registered_elsewhere.data and field.data is None:
            raise ValidationError("请填写外地登记日期。")


class PaymentForm(v.BaseForm):
    form_token = HiddenField()
    paid_on = date_field("付款日期", required=True)
    amount = StringField("付款金额（元）", validators=[money("付款金额")])
    technology_amount = StringField(
        "本次实现技术交易额（元，选填）", validators=[money("本次实现技术交易额", required=False)]
    )
    note = text("备注", 200)
    confirm_over_total = BooleanField("确认超出成交额（累计付款超过合同成交额时勾选，将标记供科技局核查）")
    voucher = FileField("转账凭证（PDF、JPEG或PNG，不超过20 MB）")
    invoice = FileField("发票（PDF、JPEG或PNG，不超过20 MB）")


class EvidenceForm(v.BaseForm):
    kind = SelectField("材料类型", choices=EVIDENCE_CHOICES, validators=[DataRequired(REQUIRED)])
    payment_id = SelectField(
        "对应付款（转账凭证和发票必选）", choices=[], validators=[Optional()], validate_choice=True
    )
    file = FileField("文件（PDF、JPEG或PNG，不超过20 MB）", validators=[FileRequired("请选择要上传的文件。")])


class ReviewForm(v.BaseForm):
    decision = RadioField(
        "审核结果",
        choices=[SelectChoice("register", "予以登记"), SelectChoice("return", "退回")],
        validators=[DataRequired("请选择审核结果。")],
    )
    registration_no = text("登记编号", 40)
    registered_on = date_field("登记日期")
    technology_amount = StringField(
        "认定技术交易额（元，只能等于或低于申报额）", validators=[money("认定技术交易额", required=False)]
    )
    reason = TextAreaField(
        "退回原因", validators=[Optional(), Length(max=500, message="退回原因不能超过500个字。"), v.no_control_chars]
    )

    def validate_registration_no(self, field: Field) -> None:
        if self.decision.data == "register" and not (field.data or "").strip():
            raise ValidationError("请填写登记编号。")

    def validate_registered_on(self, field: Field) -> None:
        if self.decision.data == "register" and field.data is None:
            raise ValidationError("请填写登记日期。")


class StatusForm(v.BaseForm):
    action = RadioField(
        "操作",
        choices=[SelectChoice("terminate", "终止（已付部分仍计入）"), SelectChoice("revoke", "撤销登记（全部不计）")],
        validators=[DataRequired("请选择操作。")],
    )
    terminated_on = date_field("终止日期（终止时必填）")
    reason = TextAreaField(
        "原因",
        validators=[DataRequired("请填写原因。"), Length(max=500, message="原因不能超过500个字。"), v.no_control_chars],
    )


class ConfirmForm(v.BaseForm):
    """A button that changes state: CSRF only."""


def amount_of(field: Field) -> Decimal | None:
    return getattr(field, "amount", None)
