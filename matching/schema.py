"""The two value types of the public interface."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FIELDS: tuple[str, ...] = (
    "电子信息",
    "航空航天",
    "先进制造",
    "生物、医药和医疗器械",
    "新材料及其应用",
    "新能源与高效节能",
    "环境保护与资源综合利用",
    "核应用",
    "农业",
    "现代交通",
    "城市建设与社会发展",
)


@dataclass(frozen=True)
class Document:
    """A need (demand) or an achievement (supply).

    ``field`` is one of :data:`FIELDS` or ``None``; it is only a soft signal.
    """

    id: str
    title: str
    description: str = ""
    field: str | None = None
    keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "title", "" if self.title is None else str(self.title))
        object.__setattr__(self, "description", "" if self.description is None else str(self.description))
        if isinstance(self.keywords, str):
            object.__setattr__(self, "keywords", tuple(self.keywords.split()))
        else:
            object.__setattr__(self, "keywords", tuple(str(k) for k in self.keywords or ()))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Document:
        """Build from a JSON object ``{"id", "title", "description"?, "field"?, "keywords"?}``.

        Raises ``ValueError`` with a readable message on malformed input.
        """
        if not isinstance(data, Mapping):
            raise ValueError("expected a JSON object")
        if "id" not in data or not isinstance(data["id"], (str, int)) or isinstance(data["id"], bool):
            raise ValueError('missing or invalid "id" (string or integer)')
        if not isinstance(data.get("title"), str):
            raise ValueError('missing or invalid "title" (string)')
        desc = data.get("description", "")
        if desc is not None and not isinstance(desc, str):
            raise ValueError('"description" must be a string')
        fld = data.get("field")
        if fld is not None and not isinstance(fld, str):
            raise ValueError('"field" must be a string or null')
        kws = data.get("keywords", ())
        if kws is None:
            kws = ()
        if isinstance(kws, str):
            kws = kws.split()
        if not isinstance(kws, (list, tuple)) or not all(isinstance(k, str) for k in kws):
            raise ValueError('"keywords" must be a list of strings')
        return cls(str(data["id"]), data["title"], desc or "", fld or None, tuple(kws))


@dataclass(frozen=True)
class Match:
    """One ranked candidate.

    ``terms`` are the words that contributed most, best first, as they appear
    (normalised: half width, lower case) in either text: a need's colloquial
    word and the achievement's technical word are both listed when a concept
    of the lexicon linked them, so a page can highlight each text.
    """

    id: str
    score: float
    terms: tuple[str, ...] = ()
