"""Yanshi's towns and subdistricts (所在镇/街道), used for local units.

A city deploying the platform replaces this list (see README: 其他城市部署).
"""

from __future__ import annotations

CITY_NAME = "偃师市"
CITY_REGION_CODE = "410381"

SUBDISTRICTS = ("商城街道", "槐新街道", "伊洛街道", "首阳山街道", "城关街道")
TOWNS = (
    "岳滩镇",
    "顾县镇",
    "翟镇镇",
    "佃庄镇",
    "李村镇",
    "庞村镇",
    "寇店镇",
    "府店镇",
    "高龙镇",
    "缑氏镇",
    "大口镇",
    "邙岭镇",
    "山化镇",
)
TOWNS_AND_SUBDISTRICTS = SUBDISTRICTS + TOWNS


def is_known_town(name: str | None) -> bool:
    return name in TOWNS_AND_SUBDISTRICTS
