"""Reward calculator for sections (四) and (五) of 偃政〔2021〕2号, with policies as data.

Pure: standard library only, no Flask, no SQLAlchemy, no other techmarket module. The platform
builds a RewardInput from its rows (or parse_input from JSON), calls calculate, and stores the
Award / AwardLine values; `python -m techmarket.rewards INPUT.json` does the same from a file.
"""

from .calculator import ContractBase, calculate, contract_base
from .model import (
    DEFAULT_POLICY_ID,
    Award,
    AwardLine,
    Contract,
    Exclusion,
    Institution,
    Party,
    Payment,
    PriorAward,
    RewardInput,
    RewardResult,
)
from .parse import RewardInputError, parse_input, result_to_dict
from .policy import Policy, PolicyError, available_policies, load_policy, load_policy_file, policy_from_dict

__all__ = [
    "DEFAULT_POLICY_ID",
    "Award",
    "AwardLine",
    "Contract",
    "ContractBase",
    "Exclusion",
    "Institution",
    "Party",
    "Payment",
    "Policy",
    "PolicyError",
    "PriorAward",
    "RewardInput",
    "RewardInputError",
    "RewardResult",
    "available_policies",
    "calculate",
    "contract_base",
    "load_policy",
    "load_policy_file",
    "parse_input",
    "policy_from_dict",
    "result_to_dict",
]
