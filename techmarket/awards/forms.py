from __future__ import annotations

from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from techmarket.forms_common import BaseForm, SelectChoice, no_control_chars
from techmarket.rewards import DEFAULT_POLICY_ID, available_policies, load_policy


def policy_choices() -> list[SelectChoice]:
    """The default policy (this city's) first, then the others."""
    ids = sorted(available_policies(), key=lambda p: (p != DEFAULT_POLICY_ID, p))
    return [SelectChoice(p, f"{load_policy(p).title}（{p}）") for p in ids]


class OpenRoundForm(BaseForm):
    year = IntegerField(
        "奖励年度（上年度）",
        validators=[DataRequired("请填写奖励年度。"), NumberRange(min=2000, max=2100, message="年度不正确。")],
    )
    policy_id = SelectField("奖励政策", validators=[DataRequired("请选择奖励政策。")])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.policy_id.choices = policy_choices()


class ExcludeForm(BaseForm):
    contract_id = StringField("合同登记编号", validators=[DataRequired("请填写合同登记编号。"), Length(max=40)])
    award_kind = SelectField(
        "排除的奖励",
        choices=[SelectChoice("buyer", "买方奖励"), SelectChoice("seller", "卖方奖励")],
        validators=[DataRequired()],
    )
    reason = TextAreaField("排除理由", validators=[DataRequired("请填写排除理由。"), Length(max=500), no_control_chars])


class PriorAwardForm(BaseForm):
    award_kind = SelectField(
        "奖励类型",
        choices=[
            SelectChoice("buyer", "买方奖励（按合同）"),
            SelectChoice("seller", "卖方奖励（按单位年度）"),
            SelectChoice("institution", "示范机构奖励"),
        ],
        validators=[DataRequired()],
    )
    recipient = StringField(
        "单位统一社会信用代码", validators=[DataRequired("请填写统一社会信用代码。"), Length(max=18)]
    )
    contract_id = StringField("合同登记编号（买方奖励必填）", validators=[Optional(), Length(max=40)])
    prior_year = IntegerField("所属年度", validators=[DataRequired("请填写年度。"), NumberRange(min=2000, max=2100)])
    amount = StringField("金额（元）", validators=[DataRequired("请填写金额。"), Length(max=20)])
    reason = TextAreaField(
        "依据（文件或说明）", validators=[DataRequired("请填写依据。"), Length(max=500), no_control_chars]
    )
