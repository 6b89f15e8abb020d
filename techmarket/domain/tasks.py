"""The policy's tasks and their 督办 rhythm: one progress report per task per calendar quarter, as pure rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

CHINESE_NUMERALS = "一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 19 → 十九, 20 → 二十 (the policy numbers its items （一）…（十九）)."""
    if not 1 <= n <= 99:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    text = ""
    if tens:
        text = ("" if tens == 1 else CHINESE_NUMERALS[tens - 1]) + "十"
    if ones:
        text += CHINESE_NUMERALS[ones - 1]
    return text


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1–4

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return date.fromordinal(date(self.year, 3 * self.number + 1, 1).toordinal() - 1)

    @property
    def label(self) -> str:
        return f"{self.year}年第{'一二三四'[self.number - 1]}季度"

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def unreported(task_ids: Iterable[int], last_report: Mapping[int, date], today: date) -> list[int]:
    """Tasks without a report dated in the current quarter (the 督办 list), in the order given."""
    quarter = Quarter.of(today)
    return [t for t in task_ids if t not in last_report or not quarter.contains(last_report[t])]
