"""Login, registration and password forms (Chinese labels and messages)."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from techmarket import forms_common as v
from techmarket.domain.accounts import ORG_KIND_LABELS, OrgKind

ACCOUNT_TYPES = [
    SelectChoice("enterprise", "企业（技术吸纳方）"),
    SelectChoice("seller", "高校、科研院所等（技术输出方）"),
    SelectChoice("broker", "技术经纪人"),
]
SELLER_KIND_CHOICES = [
    SelectChoice(k.value, ORG_KIND_LABELS[k])
    for k in (
        OrgKind.UNIVERSITY,
        OrgKind.INSTITUTE,
        OrgKind.ACADEMICIAN_WORKSTATION,
        OrgKind.NEW_RD_INSTITUTION,
        OrgKind.TRANSFER_INSTITUTION,
    )
]
REQUIRED = "此项为必填项。"


class LoginForm(v.BaseForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=v.PASSWORD_MAX)])
    submit = SubmitField("登录")


class OrgFieldsMixin:
    org_name = StringField(
        "单位名称", validators=[Optional(), Length(max=100, message="单位名称不能超过100个字。"), v.no_control_chars]
    )
    credit_code = StringField("统一社会信用代码", validators=[Optional()])
    local = BooleanField("本市单位（注册地在本市）", default=True)
    town = SelectField("所在镇/街道", choices=v.TOWN_CHOICES, validators=[Optional()], validate_choice=True)
    address = StringField(
        "地址", validators=[Optional(), Length(max=200, message="地址不能超过200个字。"), v.no_control_chars]
    )
    contact_name = StringField(
        "联系人", validators=[Optional(), Length(max=50, message="联系人不能超过50个字。"), v.no_control_chars]
    )
    contact_phone = StringField("联系电话", validators=[Optional(), v.phone])
    description = TextAreaField(
        "单位简介", validators=[Optional(), Length(max=2000, message="单位简介不能超过2000个字。"), v.no_control_chars]
    )


class RegistrationForm(OrgFieldsMixin, v.BaseForm):
    account_type = SelectField("注册类型", choices=ACCOUNT_TYPES, validators=[DataRequired(REQUIRED)])
    seller_kind = SelectField("单位类型", choices=SELLER_KIND_CHOICES, validators=[Optional()])
    broker_certificate = StringField("技术经纪人证书编号", validators=[Optional(), Length(max=60), v.no_control_chars])
    broker_with_org = BooleanField("我所在的技术转移机构也在本平台注册")

    username = StringField("用户名", validators=[DataRequired(REQUIRED), v.username])
    display_name = StringField(
        "姓名", validators=[DataRequired(REQUIRED), Length(max=50, message="姓名不能超过50个字。"), v.no_control_chars]
    )
    email = EmailField("电子邮箱", validators=[Optional(), Email("请输入有效的电子邮箱地址。"), Length(max=120)])
    phone = StringField("手机号码", validators=[Optional(), v.phone])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), v.password_strength])
    confirm = PasswordField(
        "确认密码", validators=[DataRequired(REQUIRED), EqualTo("password", "两次输入的密码不一致。")]
    )
    submit = SubmitField("提交注册")

    def needs_org(self) -> bool:
        return self.account_type.data != "broker" or bool(self.broker_with_org.data)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.account_type.data == "seller" and not self.seller_kind.data:
            self.seller_kind.errors.append("请选择单位类型。")
            ok = False
        if self.account_type.data == "broker" and not (self.broker_certificate.data or "").strip():
            self.broker_certificate.errors.append("技术经纪人请填写证书编号。")
            ok = False
        if self.needs_org():
            ok = _validate_org_fields(self) and ok
        return ok


class OrgProfileForm(OrgFieldsMixin, v.BaseForm):
    version = StringField(validators=[DataRequired()])
    submit = SubmitField("保存")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return _validate_org_fields(self) and ok


def _validate_org_fields(form: OrgFieldsMixin) -> bool:
    ok = True
    if not (form.org_name.data or "").strip():
        form.org_name.errors.append("请填写单位名称。")
        ok = False
    for validator, field in ((v.credit_code, form.credit_code), (v.local_town, form.town)):
        try:
            validator(form, field)
        except ValueError as exc:
            field.errors.append(str(exc))
            ok = False
    return ok


class PasswordChangeForm(v.BaseForm):
    current_password = PasswordField("当前密码", validators=[DataRequired(REQUIRED), Length(max=v.PASSWORD_MAX)])
    new_password = PasswordField("新密码", validators=[DataRequired(REQUIRED), v.password_strength])
    confirm = PasswordField(
        "确认新密码", validators=[DataRequired(REQUIRED), EqualTo("new_password", "两次输入的密码不一致。")]
    )
    submit = SubmitField("修改密码")
