"""The pure calculator of sections (四) and (五): RewardInput + Policy -> RewardResult.

Every amount is exact (Decimal) and rounded half-up to the fen only where the rules say: a
payment's pro-rata technical portion, and rate × base. Every award carries its lines and a Chinese
explanation a clerk can redo by hand, including why anything was capped or excluded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .model import (
    AWARD_KINDS,
    INSTITUTION_LEVELS,
    LEVEL_NAMES,
    Award,
    AwardLine,
    Contract,
    Institution,
    Party,
    PriorAward,
    RewardInput,
    RewardResult,
    main_contract_type,
)
from .money import ZERO, percent, pro_rata, times_rate, yuan
from .policy import Policy, load_policy


@dataclass(frozen=True)
class ContractBase:
    """A contract's technology base for the reward year, with how it was found."""

    amount: Decimal
    detail: str


def contract_base(contract: Contract, year: int) -> ContractBase:
    """Rule 2: technical portions of evidenced payments dated in `year`, kept within 技术交易额 over life.

    base(Y) = min(reg, cumulative through Y) − min(reg, cumulative before Y), where only payments with
    both a voucher and an invoice count, and a payment's portion is its stated 本次实现技术交易额 or
    payment × 技术交易额 ÷ 成交额 rounded to the fen.
    """
    reg = contract.technology_amount
    before = in_year = ZERO
    parts: list[str] = []
    for p in sorted(contract.payments, key=lambda p: p.paid_on):
        if p.paid_on.year > year:
            continue
        if not p.evidence:
            if p.paid_on.year == year:
                parts.append(f"{p.paid_on} 付款 {yuan(p.amount)} 元缺转账凭证或发票，不计入")
            continue
        if p.technology_amount is not None:
            portion = p.technology_amount
            how = f"本次实现技术交易额 {yuan(portion)} 元"
        else:
            portion = pro_rata(p.amount, reg, contract.contract_amount)
            how = (
                f"按技术交易额占成交额比例折算 {yuan(p.amount)} × {yuan(reg)} ÷ {yuan(contract.contract_amount)}"
                f" = {yuan(portion)} 元"
            )
        if p.paid_on.year < year:
            before += portion
        else:
            in_year += portion
            parts.append(f"{p.paid_on} 付款 {yuan(p.amount)} 元，{how}")
    base = min(reg, before + in_year) - min(reg, before)
    if in_year and base != in_year:
        parts.append(
            f"以前年度已计 {yuan(before)} 元，累计不超过登记技术交易额 {yuan(reg)} 元，本年度只计 {yuan(base)} 元"
        )
    if not parts:
        parts.append(f"{year} 年无付款")
    return ContractBase(base, "；".join(parts))


def calculate(data: RewardInput, policy: Policy | None = None) -> RewardResult:
    """Compute every award for the reward year. `policy` defaults to the one named in `data`."""
    policy = policy or load_policy(data.policy)
    calc = _Calculation(data, policy)
    awards = [*calc.buyer_awards(), *calc.seller_awards(), *calc.institution_awards()]
    awards.sort(key=lambda a: (AWARD_KINDS.index(a.kind), a.recipient))
    return RewardResult(policy.id, data.year, tuple(awards), sum((a.amount for a in awards), ZERO))


class _Calculation:
    def __init__(self, data: RewardInput, policy: Policy) -> None:
        self.year = data.year
        self.data = data
        self.policy = policy
        self.bases = {c.id: contract_base(c, data.year) for c in data.contracts}
        self.prior: dict[tuple[str, str], list[PriorAward]] = defaultdict(list)
        for award in data.prior_awards:
            self.prior[(award.source, award.kind)].append(award)

    # ---- shared --------------------------------------------------------------------------------
    def not_eligible(self, c: Contract) -> str | None:
        """Rules 1 and 5 (subsidy): why a contract counts for neither side, or None."""
        y, first = self.year, self.year - self.policy.registration_years_before
        if c.status == "revoked":
            return "合同已撤销，不计入"
        if not first <= c.registered_on.year <= y:
            window = f"{first}—{y} 年" if first < y else f"{y} 年"
            return f"合同登记日期 {c.registered_on} 不在 {window}内，不计入"
        if c.subsidized:
            return "该项目已享受财政资金补贴，不参与奖励"
        return None

    def bureau_excluded(self, kind: str, c: Contract) -> str | None:
        for exclusion in self.data.exclusions:
            if exclusion.kind == kind and exclusion.contract_id == c.id:
                return f"经科技局审核排除（{exclusion.reason}）"
        return None

    def type_excluded(self, c: Contract, types: tuple[str, ...] | None, side: str) -> str | None:
        main = main_contract_type(c.type)
        if types is None or main in types:
            return None
        return f"合同类型 {c.type} 不在本政策{side}奖励范围（仅限 {'、'.join(types)}）"

    def higher_level(self, kind: str, recipient: str, contract_id: str | None = None) -> str | None:
        """Rule 5: a same-kind award already paid by a level this policy is exclusive with."""
        for source, name in self.policy.exclusive_with.items():
            for a in self.prior[(source, kind)]:
                same = (
                    a.contract_id == contract_id
                    if kind == "buyer"
                    else (a.recipient == recipient and a.year == self.year)
                )
                if same:
                    return (
                        f"{name}已发放同类奖励（{a.year} 年，{yuan(a.amount)} 元），{self.policy.payer_name}不重复奖励"
                    )
        return None

    def not_local(self, party: Party | Institution, kind: str) -> Award:
        return Award(party.credit_code, party.name, kind, ZERO, (), f"非{self.policy.payer_name}本地单位，不予奖励。")

    def parties(self, side: str) -> dict[str, tuple[Party, list[Contract]]]:
        grouped: dict[str, tuple[Party, list[Contract]]] = {}
        for c in self.data.contracts:
            party = getattr(c, side)
            grouped.setdefault(party.credit_code, (party, []))[1].append(c)
        return grouped

    def line(self, kind: str, c: Contract, rate: Decimal, computed: Decimal, amount: Decimal, text: str) -> AwardLine:
        """A contract's line: its base for the year, what the rate gives, what is kept, and why."""
        base = self.bases[c.id]
        return AwardLine(kind, c.id, base.amount, rate, computed, amount, f"{text}。明细：{base.detail}。")

    def head(self, c: Contract) -> str:
        """'合同HT0007：本年度实现技术交易额 750,000.00 元': how every contract line starts."""
        status = "（已终止，按实际支付计算）" if c.status == "terminated" else ""
        return f"合同{c.id}{status}：本年度实现技术交易额 {yuan(self.bases[c.id].amount)} 元"

    # ---- rule 3: buyer -------------------------------------------------------------------------
    def buyer_awards(self) -> list[Award]:
        rule = self.policy.buyer
        awards = []
        for code, (party, contracts) in self.parties("buyer").items():
            if not party.local:
                awards.append(self.not_local(party, "buyer"))
                continue
            lines = [self.buyer_line(c) for c in sorted(contracts, key=lambda c: c.id)]
            subtotal = sum((line.amount for line in lines), ZERO)
            text = [line.note for line in lines]
            if subtotal > rule.per_unit_annual_cap:
                amount = rule.per_unit_annual_cap
                text.append(
                    f"各合同合计 {yuan(subtotal)} 元，超过同一单位年度最高奖励 {yuan(amount)} 元，"
                    f"按 {yuan(amount)} 元奖励。"
                )
            else:
                amount = subtotal
                text.append(f"合计 {yuan(amount)} 元。")
            awards.append(Award(code, party.name, "buyer", amount, tuple(lines), "\n".join(text)))
        return awards

    def buyer_line(self, c: Contract) -> AwardLine:
        rule = self.policy.buyer
        base = self.bases[c.id]
        reason = (
            self.not_eligible(c)
            or self.type_excluded(c, rule.contract_types, "买方")
            or self.higher_level("buyer", c.buyer.credit_code, c.id)
            or self.bureau_excluded("buyer", c)
        )
        if reason:
            return self.line("buyer", c, rule.rate, ZERO, ZERO, f"{self.head(c)}，{reason}，奖励 0.00 元")
        computed = times_rate(base.amount, rule.rate)
        note = f"{self.head(c)} × {percent(rule.rate)} = {yuan(computed)} 元"
        paid = sum(
            (
                a.amount
                for a in self.prior[(self.policy.payer, "buyer")]
                if a.contract_id == c.id and a.year < self.year
            ),
            ZERO,
        )
        room = max(ZERO, rule.per_contract_cap - paid)
        amount = min(computed, room)
        if amount < computed:
            note += (
                f"；单个技术合同累计奖励不超过 {yuan(rule.per_contract_cap)} 元，以前年度已奖励 {yuan(paid)} 元，"
                f"本年度按 {yuan(amount)} 元计"
            )
        elif paid:
            note += f"（以前年度已奖励 {yuan(paid)} 元，累计未超过 {yuan(rule.per_contract_cap)} 元）"
        return self.line("buyer", c, rule.rate, computed, amount, note)

    # ---- rule 4: seller ------------------------------------------------------------------------
    def seller_awards(self) -> list[Award]:
        rule = self.policy.seller
        awards = []
        for code, (party, contracts) in self.parties("seller").items():
            if not party.local:
                awards.append(self.not_local(party, "seller"))
                continue
            lines, total = [], ZERO
            for c in sorted(contracts, key=lambda c: c.id):
                reason = (
                    self.not_eligible(c)
                    or self.type_excluded(c, rule.contract_types, "卖方")
                    or self.bureau_excluded("seller", c)
                )
                if reason:
                    lines.append(self.line("seller", c, rule.rate, ZERO, ZERO, f"{self.head(c)}，{reason}"))
                    continue
                base = self.bases[c.id].amount
                total += base
                share = times_rate(base, rule.rate)
                lines.append(self.line("seller", c, rule.rate, share, share, f"{self.head(c)}，计入合计"))
            text = [line.note for line in lines]
            excluded = self.higher_level("seller", code)
            if excluded:
                amount = ZERO
                text.append(f"{excluded}，奖励 0.00 元。")
            elif total > rule.high_volume_threshold:
                amount = rule.high_volume_award
                text.append(
                    f"年度技术交易额合计 {yuan(total)} 元，超过 {yuan(rule.high_volume_threshold)} 元，"
                    f"给予 {yuan(amount)} 元奖励。"
                )
            else:
                computed = times_rate(total, rule.rate)
                amount = min(computed, rule.annual_cap)
                text.append(f"年度技术交易额合计 {yuan(total)} 元 × {percent(rule.rate)} = {yuan(computed)} 元")
                if amount < computed:
                    text[-1] += f"，超过最高奖励 {yuan(rule.annual_cap)} 元，按 {yuan(amount)} 元奖励。"
                else:
                    text[-1] += "。"
            awards.append(Award(code, party.name, "seller", amount, tuple(lines), "\n".join(text)))
        return awards

    # ---- rule 6: demonstration institutions ----------------------------------------------------
    def institution_awards(self) -> list[Award]:
        grouped: dict[str, list[Institution]] = defaultdict(list)
        for inst in self.data.institutions:
            grouped[inst.credit_code].append(inst)
        return [self.institution_award(code, recs) for code, recs in grouped.items()]

    def institution_award(self, code: str, records: list[Institution]) -> Award:
        first = records[0]
        if not first.local:
            return self.not_local(first, "institution")
        amounts = self.policy.institution_awards
        rank = INSTITUTION_LEVELS.index  # 0 is the highest
        start = date(self.year, 1, 1)
        held = [r for r in records if r.recognized_on < start]
        current = sorted(
            (r for r in records if r.recognized_on.year == self.year), key=lambda r: (rank(r.level), r.recognized_on)
        )
        best_held = min(held, key=lambda r: (rank(r.level), r.recognized_on), default=None)
        text: list[str] = []
        if best_held:
            text.append(
                f"{self.year} 年以前已认定的最高级别：{LEVEL_NAMES[best_held.level]}（{best_held.recognized_on}）。"
            )
        new = [r for r in current if best_held is None or rank(r.level) < rank(best_held.level)]
        winner = new[0] if new else None
        excluded = self.higher_level("institution", code) if winner else None
        lines = []
        for r in current:
            level_amount = amounts[r.level]
            note = f"{r.recognized_on} 新认定为{LEVEL_NAMES[r.level]}技术转移示范机构，标准 {yuan(level_amount)} 元"
            if r not in new:
                note = f"{r.recognized_on} 认定为{LEVEL_NAMES[r.level]}，此前已具有同级或更高级别，不属于新认定"
                level_amount = ZERO
            elif r is not winner:
                note += "；同年符合两级以上奖励的按最高级别，本项不另奖励"
            pay = level_amount if r is winner and not excluded else ZERO
            lines.append(AwardLine("institution", None, None, None, level_amount, pay, note))
        text += [line.note + "。" for line in lines]
        if winner is None:
            amount = ZERO
            text.append(f"{self.year} 年无新认定的示范机构级别，奖励 0.00 元。")
        elif excluded:
            amount = ZERO
            text.append(f"{excluded}，奖励 0.00 元。")
        else:
            amount = amounts[winner.level]
            upgrade = "由原级别升级，" if best_held else ""
            text.append(f"{upgrade}按{LEVEL_NAMES[winner.level]}奖励 {yuan(amount)} 元。")
        return Award(code, first.name, "institution", amount, tuple(lines), "\n".join(text))
