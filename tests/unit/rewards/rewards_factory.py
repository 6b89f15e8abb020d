"""Builders for reward-calculator inputs in the CLI's JSON shape, with sensible defaults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from techmarket.rewards import RewardResult, calculate, parse_input

BUYER = "91410381MA0000001A"  # a local buyer (偃师)
BUYER2 = "91410381MA0000002B"
SELLER = "91410381MA0000003C"  # a local seller
OUTSIDER = "12100000400000004D"  # a university outside the city


def party(code: str, local: bool = True, name: str | None = None) -> dict[str, Any]:
    return {"name": name or f"单位{code[-2:]}", "credit_code": code, "local": local}


def payment(paid_on: str, amount: str, technology_amount: str | None = None, evidence: bool = True) -> dict[str, Any]:
    return {"paid_on": paid_on, "amount": amount, "technology_amount": technology_amount, "evidence": evidence}


def contract(
    cid: str = "HT0001",
    *,
    payments: list[dict[str, Any]] | None = None,
    contract_amount: str = "1000000.00",
    technology_amount: str = "1000000.00",
    registered_on: str = "2021-03-10",
    status: str = "registered",
    subsidized: bool = False,
    type: str = "技术转让",
    buyer: dict[str, Any] | None = None,
    seller: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": cid,
        "type": type,
        "buyer": buyer or party(BUYER),
        "seller": seller or party(OUTSIDER, local=False),
        "contract_amount": contract_amount,
        "technology_amount": technology_amount,
        "registered_on": registered_on,
        "status": status,
        "subsidized": subsidized,
        "payments": payments if payments is not None else [],
    }


def institution(level: str, recognized_on: str, code: str = "52410381MJ0000005E", local: bool = True) -> dict[str, Any]:
    return {
        "name": "偃师技术转移中心",
        "credit_code": code,
        "local": local,
        "level": level,
        "recognized_on": recognized_on,
    }


def prior(
    kind: str, recipient: str, year: int, amount: str, source: str = "yanshi", contract_id: str | None = None
) -> dict[str, Any]:
    return {
        "recipient": recipient,
        "kind": kind,
        "contract_id": contract_id,
        "year": year,
        "source": source,
        "amount": amount,
    }


def run(
    year: int = 2021,
    contracts: list[dict[str, Any]] | None = None,
    institutions: list[dict[str, Any]] | None = None,
    prior_awards: list[dict[str, Any]] | None = None,
    policy: str | None = None,
) -> RewardResult:
    data: dict[str, Any] = {
        "year": year,
        "contracts": contracts or [],
        "institutions": institutions or [],
        "prior_awards": prior_awards or [],
    }
    if policy:
        data["policy"] = policy
    return calculate(parse_input(data))


def award(result: RewardResult, kind: str, recipient: str):
    matches = [a for a in result.awards if a.kind == kind and a.recipient == recipient]
    assert len(matches) == 1, f"expected one {kind} award for {recipient}, got {len(matches)}"
    return matches[0]


def D(text: str) -> Decimal:
    return Decimal(text)
