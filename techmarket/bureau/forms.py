from __future__ import annotations

from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from techmarket.forms_common import BaseForm, no_control_chars


class DecisionForm(BaseForm):
    decision = RadioField(
        "审核结果",
        choices=[SelectChoice("approve", "通过"), SelectChoice("reject", "驳回")],
        validators=[DataRequired("请选择审核结果。")],
    )
    reason = TextAreaField(
        "驳回原因", validators=[Optional(), Length(max=500, message="驳回原因不能超过500个字。"), no_control_chars]
    )
