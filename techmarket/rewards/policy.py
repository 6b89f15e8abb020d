"""Reward policies as versioned data: techmarket/rewards/policies/<id>.json, checked on load.

Adding a city's policy means adding a JSON file there; docs/rewards.md describes every field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from .model import INSTITUTION_LEVELS, MAIN_CONTRACT_TYPES

FORMAT_VERSION = 1
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class PolicyError(ValueError):
    """A policy file is missing, unknown or malformed; the message is Chinese and names the field."""


@dataclass(frozen=True)
class BuyerRule:
    rate: Decimal
    contract_types: tuple[str, ...] | None  # main types in the canonical order; None: all five
    per_contract_cap: Decimal  # over the contract's whole life, across years
    per_unit_annual_cap: Decimal


@dataclass(frozen=True)
class SellerRule:
    rate: Decimal
    contract_types: tuple[str, ...] | None
    annual_cap: Decimal
    high_volume_threshold: Decimal  # strictly greater than this ...
    high_volume_award: Decimal  # ... pays this fixed amount


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    # number, issuer, issued_on, sections: shown, never computed on.
    document: dict[str, Any]
    payer: str  # code of the city that pays, as used in prior_awards.source
    payer_name: str
    # code -> name of the levels whose same-kind award excludes ours.
    exclusive_with: dict[str, str]
    registration_years_before: int  # contracts registered in Y - n ... Y count
    buyer: BuyerRule
    seller: SellerRule
    institution_awards: dict[str, Decimal]  # level -> amount

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.payer, *self.exclusive_with)


def available_policies() -> list[str]:
    folder = resources.files(__package__).joinpath("policies")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_policy(policy_id: str) -> Policy:
    """Load a shipped policy by id; PolicyError names the available ones when it is unknown."""
    known = available_policies()
    if policy_id not in known:
        raise PolicyError(f"未知的奖励政策“{policy_id}”，可用的政策：{'、'.join(known)}")
    text = resources.files(__package__).joinpath("policies", f"{policy_id}.json").read_text("utf-8")
    policy = policy_from_dict(_json(text, f"{policy_id}.json"), source=f"{policy_id}.json")
    if policy.id != policy_id:
        raise PolicyError(f"政策文件 {policy_id}.json：id 应与文件名一致，实际为“{policy.id}”")
    return policy


def load_policy_file(path: str | Path) -> Policy:
    """Load a policy from any file, e.g. a new city's draft before it is shipped."""
    try:
        text = Path(path).read_text("utf-8-sig")
    except OSError as exc:
        raise PolicyError(f"无法读取政策文件 {path}：{exc.strerror or exc}") from None
    return policy_from_dict(_json(text, str(path)), source=str(path))


def _json(text: str, source: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"政策文件 {source} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）") from None


def policy_from_dict(data: Any, source: str = "政策") -> Policy:
    """Check a policy's fields and build it; PolicyError says which field is wrong and why."""
    c = _Checker(source)
    root = c.obj(data, "")
    if c.get(root, "format", "") != FORMAT_VERSION:
        raise c.error("format", f"应为 {FORMAT_VERSION}")
    policy_id = c.text(root, "id", "")
    if not _ID.match(policy_id):
        raise c.error("id", "只能由小写字母、数字和连字符组成")
    document = c.obj(c.get(root, "document", ""), "document")
    for key in ("number", "issuer"):
        c.text(document, key, "document")
    if c.get(document, "issued_on", "document") is not None:
        c.date(document, "issued_on", "document")
    payer = c.obj(c.get(root, "payer", ""), "payer")
    exclusive = c.get(root, "exclusive_with", "")
    if not isinstance(exclusive, list):
        raise c.error("exclusive_with", "应为列表")
    exclusive_with = {}
    for i, item in enumerate(exclusive):
        entry = c.obj(item, f"exclusive_with[{i}]")
        exclusive_with[c.text(entry, "code", f"exclusive_with[{i}]")] = c.text(entry, "name", f"exclusive_with[{i}]")
    payer_code = c.text(payer, "code", "payer")
    if payer_code in exclusive_with:
        raise c.error("exclusive_with", f"不能包含本级发放方“{payer_code}”")
    years_before = c.get(root, "registration_years_before", "")
    if not isinstance(years_before, int) or isinstance(years_before, bool) or years_before < 0:
        raise c.error("registration_years_before", "应为非负整数")

    b = c.obj(c.get(root, "buyer", ""), "buyer")
    s = c.obj(c.get(root, "seller", ""), "seller")
    inst = c.obj(c.get(root, "institution", ""), "institution")
    return Policy(
        id=policy_id,
        title=c.text(root, "title", ""),
        document=dict(document),
        payer=payer_code,
        payer_name=c.text(payer, "name", "payer"),
        exclusive_with=exclusive_with,
        registration_years_before=years_before,
        buyer=BuyerRule(
            rate=c.rate(b, "rate", "buyer"),
            contract_types=c.types(b, "contract_types", "buyer"),
            per_contract_cap=c.money(b, "per_contract_cap", "buyer"),
            per_unit_annual_cap=c.money(b, "per_unit_annual_cap", "buyer"),
        ),
        seller=SellerRule(
            rate=c.rate(s, "rate", "seller"),
            contract_types=c.types(s, "contract_types", "seller"),
            annual_cap=c.money(s, "annual_cap", "seller"),
            high_volume_threshold=c.money(s, "high_volume_threshold", "seller"),
            high_volume_award=c.money(s, "high_volume_award", "seller"),
        ),
        institution_awards={level: c.money(inst, level, "institution") for level in INSTITUTION_LEVELS},
    )


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, path: str, problem: str) -> PolicyError:
        return PolicyError(f"政策文件 {self.source}：字段 {path} {problem}")

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path or "（根）", "应为对象")
        return value

    def get(self, parent: dict[str, Any], key: str, path: str) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in parent:
            raise PolicyError(f"政策文件 {self.source}：缺少字段 {full}")
        return parent[key]

    def text(self, parent: dict[str, Any], key: str, path: str) -> str:
        value = self.get(parent, key, path)
        if not isinstance(value, str) or not value.strip():
            raise self.error(_join(path, key), "应为非空字符串")
        return value.strip()

    def date(self, parent: dict[str, Any], key: str, path: str) -> date:
        value = self.text(parent, key, path)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.error(_join(path, key), f"不是 YYYY-MM-DD 格式的日期：{value}") from None

    def money(self, parent: dict[str, Any], key: str, path: str) -> Decimal:
        value = self.get(parent, key, path)
        try:
            amount = Decimal(value) if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise self.error(_join(path, key), f"应为不小于 0、最多两位小数的金额（字符串），实际为 {value!r}")
        return amount.quantize(Decimal("0.01"))

    def rate(self, parent: dict[str, Any], key: str, path: str) -> Decimal:
        value = self.get(parent, key, path)
        try:
            rate = Decimal(value) if isinstance(value, (str, Decimal)) else None
        except InvalidOperation:
            rate = None
        if rate is None or not rate.is_finite() or not 0 <= rate <= 1:
            raise self.error(_join(path, key), f'应为 0 到 1 之间的比例（字符串，如 "0.05"），实际为 {value!r}')
        return rate

    def types(self, parent: dict[str, Any], key: str, path: str) -> tuple[str, ...] | None:
        value = self.get(parent, key, path)
        if value == "all":
            return None
        if not isinstance(value, list) or not value or any(t not in MAIN_CONTRACT_TYPES for t in value):
            raise self.error(
                _join(path, key), f'应为 "all" 或由 {"、".join(MAIN_CONTRACT_TYPES)} 组成的非空列表，实际为 {value!r}'
            )
        return tuple(t for t in MAIN_CONTRACT_TYPES if t in value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
