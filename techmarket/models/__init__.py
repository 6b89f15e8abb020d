"""All models, imported here so Alembic and the app see the whole metadata."""

from techmarket.models.accounts import Organisation, User
from techmarket.models.audit import AuditEntry
from techmarket.models.awards import RewardRound, RoundAdjustment
from techmarket.models.cases import (
    CaseAcceptance,
    CaseEvent,
    MatchCase,
    MatchingState,
    Notification,
    NotificationOptOut,
    PairDismissal,
)
from techmarket.models.contracts import Contract, EvidenceFile, Payment
from techmarket.models.listings import Achievement, ListingTerm, Need, NeedAccess
from techmarket.models.registry import PolicyTask, RegistryEntry, Target, TaskReport, TaskReportFile

__all__ = [
    "Achievement",
    "AuditEntry",
    "CaseAcceptance",
    "CaseEvent",
    "Contract",
    "EvidenceFile",
    "ListingTerm",
    "MatchCase",
    "MatchingState",
    "Need",
    "NeedAccess",
    "Notification",
    "NotificationOptOut",
    "Organisation",
    "PairDismissal",
    "Payment",
    "PolicyTask",
    "RegistryEntry",
    "RewardRound",
    "RoundAdjustment",
    "Target",
    "TaskReport",
    "TaskReportFile",
    "User",
]
