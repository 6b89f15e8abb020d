"""Exact money helpers: Decimal yuan, rounded half-up to the fen only where the rules say."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def round_fen(value: Decimal) -> Decimal:
    """Round to the fen (0.01 yuan), half-up (四舍五入)."""
    with localcontext(prec=60):
        return value.quantize(FEN, rounding=ROUND_HALF_UP)


def times_rate(base: Decimal, rate: Decimal) -> Decimal:
    """base × rate, exact, then rounded half-up to the fen."""
    with localcontext(prec=60):
        return round_fen(base * rate)


def pro_rata(amount: Decimal, numerator: Decimal, denominator: Decimal) -> Decimal:
    """amount × numerator ÷ denominator rounded half-up to the fen, computed exactly in integers.

    All three are whole fen; working in integers avoids a double rounding of the quotient.
    """
    a, n, d = (int(x * 100) for x in (amount, numerator, denominator))
    quotient, remainder = divmod(a * n, d)  # fen × fen ÷ fen = fen
    if 2 * remainder >= d:
        quotient += 1
    return Decimal(quotient).scaleb(-2).quantize(FEN)


def yuan(value: Decimal) -> str:
    """For explanations: 1234567.5 -> '1,234,567.50'."""
    return f"{value:,.2f}"


def plain(value: Decimal) -> str:
    """For JSON output: two decimals, no separators."""
    return f"{value:.2f}"


def percent(rate: Decimal) -> str:
    """0.05 -> '5%', 0.005 -> '0.5%'."""
    return f"{(rate * 100).normalize():f}%"
