"""Form fields and validators shared by several areas."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import Form, SelectChoice, ValidationError
from wtforms.fields import Field

from techmarket.domain.credit_code import CreditCodeError, normalize_credit_code
from techmarket.domain.passwords import MAX_LENGTH, password_problems
from techmarket.domain.regions import TOWNS_AND_SUBDISTRICTS

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,31}$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

TOWN_CHOICES = [SelectChoice("", "（非本市单位或不适用）")] + [SelectChoice(t) for t in TOWNS_AND_SUBDISTRICTS]


def credit_code(form: Form, field: Field) -> None:
    try:
        field.data = normalize_credit_code(field.data or "")
    except CreditCodeError as exc:
        raise ValidationError(str(exc)) from exc


def phone(form: Form, field: Field) -> None:
    value = (field.data or "").strip().replace(" ", "")
    field.data = value
    if value and not PHONE_RE.match(value):
        raise ValidationError("请输入有效的手机号码或带区号的固定电话，例如 13812345678 或 0379-67712345。")


def username(form: Form, field: Field) -> None:
    value = (field.data or "").strip()
    field.data = value
    if not USERNAME_RE.match(value):
        raise ValidationError("用户名须以英文字母开头，3–32位，只能包含英文字母、数字、下划线、点和连字符。")


def no_control_chars(form: Form, field: Field) -> None:
    if field.data and CONTROL_RE.search(field.data):
        raise ValidationError("内容含有不可见的控制字符，请删除后重试。")


def password_strength(form: Form, field: Field) -> None:
    name = getattr(form, "username", None)
    problems = password_problems(field.data or "", username=(name.data or "") if name else "")
    if problems:
        raise ValidationError(" ".join(problems))


def local_town(form: Form, field: Field) -> None:
    """A local unit must name its town; a non-local unit must not."""
    local = form.local.data
    if local and not field.data:
        raise ValidationError("本市单位请选择所在镇/街道。")
    if not local and field.data:
        raise ValidationError("非本市单位无需选择镇/街道。")


PASSWORD_MAX = MAX_LENGTH


class BaseForm(FlaskForm):
    """Every form: CSRF-protected, WTForms' own messages in Simplified Chinese."""

    class Meta:
        locales = ("zh",)


def add_service_error(form: Form, exc: Exception) -> None:
    """Show a service's refusal on the field it names, or as a page message."""
    from flask import flash

    field = getattr(form, getattr(exc, "field", None) or "", None)
    message = getattr(exc, "message", str(exc))
    if isinstance(field, Field):
        field.errors = [*field.errors, message]
    else:
        flash(message, "danger")
