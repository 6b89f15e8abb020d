from __future__ import annotations

from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from techmarket.domain.cases import CaseStatus, EventKind
from techmarket.forms_common import BaseForm, SelectChoice, no_control_chars

REQUIRED = "此项为必填项。"


class PairForm(BaseForm):
    need_id = IntegerField(validators=[DataRequired("缺少技术需求。")])
    achievement_id = IntegerField(validators=[DataRequired("缺少科技成果。")])


class AnswerForm(BaseForm):
    decision = SelectField(
        "答复",
        choices=[SelectChoice("accept", "确认对接意向"), SelectChoice("decline", "拒绝")],
        validators=[DataRequired("请选择答复。")],
    )
    reason = TextAreaField(
        "拒绝原因", validators=[Optional(), Length(max=500, message="原因不能超过500个字。"), no_control_chars]
    )


class EntryForm(BaseForm):
    kind = SelectField(
        "类型",
        choices=[SelectChoice(EventKind.NOTE.value, "备注"), SelectChoice(EventKind.MEETING.value, "会谈记录")],
        validators=[DataRequired("请选择类型。")],
    )
    text = TextAreaField(
        "内容",
        validators=[DataRequired(REQUIRED), Length(max=2000, message="内容不能超过2000个字。"), no_control_chars],
    )
    occurred_on = DateField("会谈日期", validators=[Optional()])
    next_action = StringField(
        "下一步工作", validators=[Optional(), Length(max=200, message="下一步工作不能超过200个字。"), no_control_chars]
    )
    next_action_due = DateField("完成期限", validators=[Optional()])


class MessageForm(BaseForm):
    text = TextAreaField(
        "留言",
        validators=[
            DataRequired("请填写留言内容。"),
            Length(max=2000, message="留言不能超过2000个字。"),
            no_control_chars,
        ],
    )


class StatusForm(BaseForm):
    status = SelectField(
        "新状态",
        choices=[
            SelectChoice(s.value, s.label) for s in (CaseStatus.NEGOTIATING, CaseStatus.SIGNED, CaseStatus.FAILED)
        ],
        validators=[DataRequired("请选择新状态。")],
    )
    reason = TextAreaField(
        "未成交原因", validators=[Optional(), Length(max=500, message="原因不能超过500个字。"), no_control_chars]
    )


class InviteForm(BaseForm):
    broker_id = IntegerField("技术经纪人", validators=[DataRequired("请选择技术经纪人。")])


class ReadForm(BaseForm):
    back = HiddenField()
