"""All models, imported here so Alembic and the app see the whole metadata."""

from techmarket.models.accounts import Organisation, User
from techmarket.models.audit import AuditEntry
from techmarket.models.listings import Achievement, ListingTerm, Need, NeedAccess

__all__ = ["Achievement", "AuditEntry", "ListingTerm", "Need", "NeedAccess", "Organisation", "User"]
