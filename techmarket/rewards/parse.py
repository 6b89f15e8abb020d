"""JSON-shaped dicts <-> the calculator's dataclasses, with precise Chinese errors for bad input."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .model import (
    AWARD_KINDS,
    CONTRACT_STATUSES,
    DEFAULT_POLICY_ID,
    INSTITUTION_LEVELS,
    MAIN_CONTRACT_TYPES,
    Contract,
    Institution,
    Party,
    Payment,
    PriorAward,
    RewardInput,
    RewardResult,
    main_contract_type,
)
from .money import FEN, plain
from .policy import Policy, PolicyError, load_policy

LABELS = {
    "policy": "奖励政策",
    "year": "奖励年度",
    "contracts": "技术合同列表",
    "id": "合同编号",
    "type": "合同类型",
    "buyer": "技术吸纳方（买方）",
    "seller": "技术输出方（卖方）",
    "name": "单位名称",
    "credit_code": "统一社会信用代码",
    "local": "是否本市单位",
    "contract_amount": "成交额",
    "technology_amount": "技术交易额",
    "registered_on": "登记日期",
    "status": "合同状态",
    "subsidized": "是否已享受财政资金补贴",
    "payments": "付款记录",
    "paid_on": "付款日期",
    "amount": "金额",
    "evidence": "是否有转账凭证和发票",
    "institutions": "技术转移示范机构列表",
    "level": "认定级别",
    "recognized_on": "认定日期",
    "prior_awards": "已发放奖励列表",
    "recipient": "受奖单位统一社会信用代码",
    "kind": "奖励类别",
    "contract_id": "合同编号",
    "source": "发放方",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RewardInputError(ValueError):
    """The input cannot be calculated on; the message is Chinese and names the field precisely."""


def parse_input(data: Any, policy: Policy | None = None) -> RewardInput:
    """Check and convert the CLI's JSON (parsed with parse_float=Decimal) into a RewardInput.

    `policy` overrides data["policy"] (e.g. a policy file given on the command line); it is used to
    know which prior_awards sources are valid.
    """
    r = _Reader()
    root = r.obj(data, "")
    if policy is None:
        policy_id = r.opt(root, "policy", "", DEFAULT_POLICY_ID, r.text)
        try:
            policy = load_policy(policy_id)
        except PolicyError as exc:
            raise RewardInputError(f"policy（{LABELS['policy']}）：{exc}") from None
    year = r.field(root, "year", "", r.year)
    contracts = tuple(r.items(root, "contracts", "", r.contract))
    seen: dict[str, str] = {}
    for i, c in enumerate(contracts):
        if c.id in seen:
            raise RewardInputError(f"contracts[{i}].id（合同编号）：与 {seen[c.id]} 重复：{c.id}")
        seen[c.id] = f"contracts[{i}]"
    institutions = tuple(r.items(root, "institutions", "", r.institution))
    prior = tuple(r.items(root, "prior_awards", "", lambda v, p: r.prior_award(v, p, policy.sources)))
    _check_parties(contracts, institutions)
    return RewardInput(year, contracts, institutions, prior, policy.id)


def _check_parties(contracts: tuple[Contract, ...], institutions: tuple[Institution, ...]) -> None:
    local: dict[str, tuple[bool, str]] = {}
    entries = [
        (f"contracts[{i}].{side}", getattr(c, side)) for i, c in enumerate(contracts) for side in ("buyer", "seller")
    ]
    entries += [(f"institutions[{i}]", inst) for i, inst in enumerate(institutions)]
    for path, party in entries:
        first = local.setdefault(party.credit_code, (party.local, path))
        if first[0] != party.local:
            raise RewardInputError(
                f"{path}.local（{LABELS['local']}）：统一社会信用代码 {party.credit_code} 在 {first[1]} 中为 "
                f"{str(first[0]).lower()}，此处为 {str(party.local).lower()}，前后不一致"
            )


class _Reader:
    def fail(self, path: str, problem: str) -> RewardInputError:
        key = path.rsplit(".", 1)[-1].split("[")[0]
        label = f"（{LABELS[key]}）" if key in LABELS else ""
        return RewardInputError(f"{path or '输入'}{label}：{problem}")

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"应为 JSON 对象，实际为 {_show(value)}")
        return value

    def field(self, parent: dict[str, Any], key: str, path: str, convert: Any) -> Any:
        full = f"{path}.{key}" if path else key
        value = parent.get(key)
        if value is None:  # absent or null
            label = f"（{LABELS[key]}）" if key in LABELS else ""
            raise RewardInputError(f"缺少必填字段 {full}{label}")
        return convert(value, full)

    def opt(self, parent: dict[str, Any], key: str, path: str, default: Any, convert: Any) -> Any:
        value = parent.get(key)
        return default if value is None else convert(value, f"{path}.{key}" if path else key)

    def items(self, parent: dict[str, Any], key: str, path: str, convert: Any) -> list[Any]:
        full = f"{path}.{key}" if path else key
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(full, f"应为列表，实际为 {_show(value)}")
        return [convert(item, f"{full}[{i}]") for i, item in enumerate(value)]

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"应为非空字符串，实际为 {_show(value)}")
        return value.strip()

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"应为 true 或 false，实际为 {_show(value)}")
        return value

    def year(self, value: Any, path: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 1990 <= value <= 2100:
            raise self.fail(path, f"应为 1990 到 2100 之间的整数年份，实际为 {_show(value)}")
        return value

    def date(self, value: Any, path: str) -> date:
        if isinstance(value, str) and _DATE.match(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(path, f"日期无效：{_show(value)}，应为 YYYY-MM-DD 格式的真实日期")

    def money(self, value: Any, path: str) -> Decimal:
        # A caller that did not use parse_float: take the float's shortest text.
        if isinstance(value, float):
            value = repr(value)
        amount = None
        if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
            try:
                amount = Decimal(value.strip() if isinstance(value, str) else value)
            except InvalidOperation:
                amount = None
        if amount is None or not amount.is_finite():
            raise self.fail(path, f"应为以元为单位的金额（字符串或数字），实际为 {_show(value)}")
        if amount < 0:
            raise self.fail(path, f"金额不能为负数，实际为 {_show(value)}")
        if amount != amount.quantize(FEN):
            raise self.fail(path, f"金额最多两位小数（到分），实际为 {_show(value)}")
        return amount.quantize(FEN)

    def choice(self, value: Any, path: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(path, f"应为 {' | '.join(allowed)} 之一，实际为 {_show(value)}")
        return value

    def party(self, value: Any, path: str) -> Party:
        obj = self.obj(value, path)
        return Party(
            name=self.field(obj, "name", path, self.text),
            credit_code=self.field(obj, "credit_code", path, self.text).upper(),
            local=self.field(obj, "local", path, self.boolean),
        )

    def payment(self, value: Any, path: str) -> Payment:
        obj = self.obj(value, path)
        amount = self.field(obj, "amount", path, self.money)
        tech = self.opt(obj, "technology_amount", path, None, self.money)
        if tech is not None and tech > amount:
            raise RewardInputError(
                f"{path}.technology_amount（本次实现技术交易额）：{plain(tech)} 大于本次付款金额 {plain(amount)}"
            )
        return Payment(
            paid_on=self.field(obj, "paid_on", path, self.date),
            amount=amount,
            technology_amount=tech,
            evidence=self.field(obj, "evidence", path, self.boolean),
        )

    def contract(self, value: Any, path: str) -> Contract:
        obj = self.obj(value, path)
        contract_type = self.field(obj, "type", path, self.text)
        if main_contract_type(contract_type) is None:
            raise self.fail(
                f"{path}.type", f"应以 {'、'.join(MAIN_CONTRACT_TYPES)} 之一开头，实际为 {_show(contract_type)}"
            )
        total = self.field(obj, "contract_amount", path, self.money)
        tech = self.field(obj, "technology_amount", path, self.money)
        if total == 0:
            raise self.fail(f"{path}.contract_amount", "成交额应大于 0")
        if tech > total:
            raise self.fail(f"{path}.technology_amount", f"技术交易额 {plain(tech)} 大于成交额 {plain(total)}")
        return Contract(
            id=self.field(obj, "id", path, self.text),
            type=contract_type,
            buyer=self.field(obj, "buyer", path, self.party),
            seller=self.field(obj, "seller", path, self.party),
            contract_amount=total,
            technology_amount=tech,
            registered_on=self.field(obj, "registered_on", path, self.date),
            status=self.field(obj, "status", path, lambda v, p: self.choice(v, p, CONTRACT_STATUSES)),
            subsidized=self.opt(obj, "subsidized", path, False, self.boolean),
            payments=tuple(self.items(obj, "payments", path, self.payment)),
        )

    def institution(self, value: Any, path: str) -> Institution:
        obj = self.obj(value, path)
        party = self.party(obj, path)
        return Institution(
            name=party.name,
            credit_code=party.credit_code,
            local=party.local,
            level=self.field(obj, "level", path, lambda v, p: self.choice(v, p, INSTITUTION_LEVELS)),
            recognized_on=self.field(obj, "recognized_on", path, self.date),
        )

    def prior_award(self, value: Any, path: str, sources: tuple[str, ...]) -> PriorAward:
        obj = self.obj(value, path)
        kind = self.field(obj, "kind", path, lambda v, p: self.choice(v, p, AWARD_KINDS))
        contract_id = self.opt(obj, "contract_id", path, None, self.text)
        if kind == "buyer" and contract_id is None:
            raise RewardInputError(f"缺少必填字段 {path}.contract_id（合同编号）：买方奖励须注明合同编号")
        return PriorAward(
            recipient=self.field(obj, "recipient", path, self.text).upper(),
            kind=kind,
            contract_id=contract_id,
            year=self.field(obj, "year", path, self.year),
            source=self.field(obj, "source", path, lambda v, p: self.choice(v, p, sources)),
            amount=self.field(obj, "amount", path, self.money),
        )


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"“{value}”"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return "对象" if isinstance(value, dict) else "列表"
    return str(value)


def result_to_dict(result: RewardResult) -> dict[str, Any]:
    """The CLI's output shape: amounts as strings with two decimals, rates as strings."""
    return {
        "policy": result.policy,
        "year": result.year,
        "awards": [
            {
                "recipient": a.recipient,
                "name": a.name,
                "kind": a.kind,
                "amount": plain(a.amount),
                "lines": [
                    {
                        "contract_id": line.contract_id,
                        "kind": line.kind,
                        "base": None if line.base is None else plain(line.base),
                        "rate": None if line.rate is None else str(line.rate),
                        "computed": plain(line.computed),
                        "amount": plain(line.amount),
                        "note": line.note,
                    }
                    for line in a.lines
                ],
                "explanation": a.explanation,
            }
            for a in result.awards
        ],
        "total": plain(result.total),
    }
