"""Write audit entries and a matching structured log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from techmarket.models import AuditEntry

log = logging.getLogger("techmarket.audit")


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    ip: str | None = None,
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=actor_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=ip,
        detail=detail,
    )
    session.add(entry)
    # One JSON object per line: user-supplied text (CR/LF included) is escaped, never a new line.
    log.info(
        json.dumps(
            {"action": action, "actor": actor_id, "object": object_type, "id": entry.object_id, "ip": ip, **detail},
            ensure_ascii=False,
            default=str,
        )
    )
    return entry


def plain(value: Any) -> Any:
    """Audit details are JSON: money, dates and enums as text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def apply_changes(obj: Any, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set ``obj``'s attributes from ``values``; returns {name: [old, new]} (as audit text) for what changed."""
    changes: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = [plain(old), plain(new)]
            setattr(obj, name, new)
    return changes
