"""The platform's matcher index: both directions, shared by every worker, updated incrementally.

State lives in three places:
- ``matching_state.version`` (database): bumped in the same transaction as any change to a listing that
  could matter to matching (publish, edit, close, expire, renew, mark dealt);
- a saved index directory under ``MATCHING_DIR`` (both matchers plus the ``updated_at`` stamp of every
  indexed listing and the version and day it reflects), replaced atomically;
- each worker's memory.

On use, a worker compares its in-memory version and day with the database. When they differ it loads the
saved index if that one is current, otherwise it brings its own index up to date by adding, replacing or
removing only the listings whose stamps differ (no full refit) and saves the result for the other workers.
A full refit happens only when no saved index exists or it was made with another lexicon, or on
``flask matching rebuild``.

Confidential details of needs never enter the index: the score and the explanation come only from
public text, so an explanation can be shown to anyone who may see both listings.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from matching import Document, Match, Matcher
from techmarket.domain.listings import ListingStatus
from techmarket.models import Achievement, MatchingState, Need

log = logging.getLogger("techmarket.matching")
_lock = threading.Lock()


@dataclass
class Index:
    version: int
    as_of: date
    stamps: dict[str, dict[str, str]] = field(default_factory=dict)
    supply: Matcher | None = None  # fitted on achievements: ranks needs against them
    demand: Matcher | None = None  # fitted on needs: ranks achievements against them


_current: Index | None = None


def achievement_document(a: Achievement) -> Document:
    return Document(str(a.id), a.title, f"{a.summary}\n{a.description}", a.field.label, tuple(a.keywords or ()))


def need_document(n: Need) -> Document:
    return Document(str(n.id), n.title, f"{n.description}\n{n.expected_outcome}", n.field.label, ())


DOCUMENT: dict[str, Callable[[Any], Document]] = {"achievement": achievement_document, "need": need_document}
MODEL = {"achievement": Achievement, "need": Need}


def _public(model, today: date):
    return (model.status == ListingStatus.PUBLISHED, or_(model.expires_on.is_(None), model.expires_on >= today))


def current_stamps(session: Session, today: date) -> dict[str, dict[str, str]]:
    stamps = {}
    for kind, model in MODEL.items():
        rows = session.execute(select(model.id, model.updated_at).where(*_public(model, today))).all()
        stamps[kind] = {str(i): u.isoformat() for i, u in rows}
    return stamps


def db_version(session: Session) -> int:
    version = session.scalar(select(MatchingState.version).where(MatchingState.id == 1))
    if version is None:
        session.add(MatchingState(id=1, version=0))
        session.flush()
        return 0
    return version


def bump_version(session: Session) -> None:
    """Call in the transaction that changes a listing: every worker will catch up on its next use."""
    if (
        session.execute(
            update(MatchingState).where(MatchingState.id == 1).values(version=MatchingState.version + 1)
        ).rowcount
        == 0
    ):
        session.add(MatchingState(id=1, version=1))


def _fit(docs: list[Document]) -> Matcher | None:
    return Matcher().fit(docs) if docs else None


def full_build(session: Session, today: date, progress: Callable[[int], None] | None = None) -> Index:
    version = db_version(session)
    index = Index(version=version, as_of=today)
    for kind, model in MODEL.items():
        rows = session.scalars(select(model).where(*_public(model, today)).order_by(model.id)).all()
        index.stamps[kind] = {str(r.id): r.updated_at.isoformat() for r in rows}
        docs = [DOCUMENT[kind](r) for r in rows]
        matcher = _fit(docs)
        if kind == "achievement":
            index.supply = matcher
        else:
            index.demand = matcher
        if progress:
            progress(len(rows))
    return index


def _refresh(session: Session, index: Index, today: date, version: int) -> Index:
    """Bring ``index`` up to date with the database by changing only the listings that changed."""
    wanted = current_stamps(session, today)
    for kind, attr in (("achievement", "supply"), ("need", "demand")):
        have = index.stamps.get(kind, {})
        want = wanted[kind]
        gone = [i for i in have if i not in want]
        changed = [i for i, stamp in want.items() if have.get(i) != stamp]
        matcher: Matcher | None = getattr(index, attr)
        if not gone and not changed:
            continue
        rows = session.scalars(select(MODEL[kind]).where(MODEL[kind].id.in_([int(i) for i in changed]))).all()
        docs = [DOCUMENT[kind](r) for r in rows]
        if matcher is None or len(matcher) == 0:
            keep = [i for i in want if i not in changed]
            docs += [
                DOCUMENT[kind](r)
                for r in session.scalars(select(MODEL[kind]).where(MODEL[kind].id.in_([int(i) for i in keep])))
            ]
            matcher = _fit(docs)
        else:
            stale = [i for i in gone + changed if i in matcher]
            if stale:
                matcher.remove(stale)
            if docs:
                matcher.add(docs)
            if len(matcher) == 0:
                matcher = None
        setattr(index, attr, matcher)
        index.stamps[kind] = dict(want)
    index.version, index.as_of = version, today
    return index


# --- saving and loading -------------------------------------------------------------------------------


def _save(index: Index, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"index-{uuid.uuid4().hex}"
    target.mkdir()
    for attr in ("supply", "demand"):
        matcher = getattr(index, attr)
        if matcher is not None:
            matcher.save(target / f"{attr}.pkl")
    meta = {"version": index.version, "as_of": index.as_of.isoformat(), "stamps": index.stamps}
    (target / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    pointer = directory / "current.json"
    tmp = directory / f"current.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps({"dir": target.name, "version": index.version}), encoding="utf-8")
    os.replace(tmp, pointer)
    for old in directory.glob("index-*"):
        if old.name != target.name:
            shutil.rmtree(old, ignore_errors=True)


def _load(directory: Path) -> Index | None:
    try:
        pointer = json.loads((directory / "current.json").read_text(encoding="utf-8"))
        target = directory / pointer["dir"]
        meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
        index = Index(version=meta["version"], as_of=date.fromisoformat(meta["as_of"]), stamps=meta["stamps"])
        for attr in ("supply", "demand"):
            path = target / f"{attr}.pkl"
            setattr(index, attr, Matcher.load(path) if path.exists() else None)
        return index
    except (OSError, ValueError, KeyError) as exc:  # missing, half-deleted by another worker, or another format
        log.info("no usable saved matcher index in %s: %s", directory, exc)
        return None


def get(session: Session, directory: Path, today: date) -> Index:
    """The current index for this worker (loading, catching up or building as needed)."""
    global _current
    version = db_version(session)
    with _lock:
        if _current is not None and _current.version == version and _current.as_of == today:
            return _current
        saved = _load(directory)
        if saved is not None and saved.version == version and saved.as_of == today:
            _current = saved
            return saved
        base = _current or saved
        if base is None:
            log.info("building the matcher index (no saved index matches the data)")
            index = full_build(session, today)
        else:
            index = _refresh(session, base, today, version)
        _save(index, directory)
        _current = index
        return index


def rebuild(session: Session, directory: Path, today: date, progress: Callable[[int], None] | None = None) -> Index:
    global _current
    with _lock:
        index = full_build(session, today, progress)
        _save(index, directory)
        _current = index
        return index


def reset_memory() -> None:
    """Forget this worker's in-memory index (tests use it to act as a fresh worker)."""
    global _current
    with _lock:
        _current = None
        _RECOMMENDATIONS.clear()


_RECOMMENDATIONS: OrderedDict[tuple, list[Match]] = OrderedDict()
_CACHE_SIZE = 4096


def recommend(index: Index, kind: str, listing: Achievement | Need, top: int = 5) -> list[Match]:
    """Matches above the no-match threshold for one listing, best first (other side's ids).

    Cached per worker under the index version and the listing's ``updated_at``: any change to a listing
    bumps the version, so a cached answer is never stale; a popular page skips the ranking.
    """
    matcher = index.supply if kind == "need" else index.demand
    if matcher is None:
        return []
    key = (index.version, index.as_of, kind, listing.id, listing.updated_at, top)
    with _lock:
        cached = _RECOMMENDATIONS.get(key)
        if cached is not None:
            _RECOMMENDATIONS.move_to_end(key)
            return cached
    result = [m for m in matcher.rank(DOCUMENT[kind](listing), top=top) if matcher.is_match(m.score)]
    with _lock:
        _RECOMMENDATIONS[key] = result
        while len(_RECOMMENDATIONS) > _CACHE_SIZE:
            _RECOMMENDATIONS.popitem(last=False)
    return result


def candidate_pairs(index: Index, needs: Iterable[Need], top: int = 3) -> list[tuple[Need, Match]]:
    """For the broker queue: each need's best achievements above the threshold."""
    if index.supply is None:
        return []
    needs = list(needs)
    ranked = index.supply.rank_many([need_document(n) for n in needs], top=top)
    return [(n, m) for n, matches in zip(needs, ranked, strict=True) for m in matches if index.supply.is_match(m.score)]


def threshold(index: Index) -> float:
    matcher = index.supply or index.demand
    return matcher.threshold if matcher is not None else 0.0
