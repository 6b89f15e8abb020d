"""All models, imported here so Alembic and the app see the whole metadata."""

from techmarket.models.accounts import Organisation, User
from techmarket.models.audit import AuditEntry

__all__ = ["AuditEntry", "Organisation", "User"]
