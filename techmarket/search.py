"""Chinese keyword search: jieba terms in an inverted index (``listing_term``), looked up exactly.

Indexing uses jieba's search mode (whole words and their sub-words: 高精度 → 高精, 精度, 高精度), so a
query for 轴承 finds 高精度轴承套圈磨削工艺. Queries use the precise mode and every term must match.
Confidential details are never indexed.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable

import jieba

MAX_TERM_LENGTH = 40
MAX_QUERY_TERMS = 8
_WORD_RE = re.compile(r"[\w]+", re.UNICODE)
STOPWORDS = frozenset(
    """的 了 和 与 及 或 等 在 是 为 对 把 被 从 到 以 于 中 上 下 我们 我 你 他 她 它 这 那 这个 那个 一个 一种
    一些 有 没有 进行 可以 能够 需要 希望 要求 技术 问题 方面 相关 主要 通过 实现 目前 现在 公司 企业 我厂 我们厂
    有限公司 项目 工作 情况 提高 降低 增加 减少 解决""".split()
)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _jieba() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                _tokenizer = tok
    return _tokenizer


def normalize(text: str) -> str:
    """Full-width to half-width, lower case (ＰＬＣ → plc)."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _keep(term: str) -> bool:
    return len(term) >= 2 and term not in STOPWORDS and bool(_WORD_RE.fullmatch(term))


def index_terms(parts: Iterable[str]) -> set[str]:
    """The set of terms under which a listing is found."""
    tok = _jieba()
    terms: set[str] = set()
    for part in parts:
        for term in tok.cut_for_search(normalize(part)):
            term = term.strip()
            if _keep(term):
                terms.add(term[:MAX_TERM_LENGTH])
    return terms


def query_terms(query: str) -> list[str]:
    """Terms a query must all match, in order, without duplicates; empty for a query with no content."""
    tok = _jieba()
    seen: dict[str, None] = {}
    for term in tok.cut(normalize(query)[:200]):
        term = term.strip()
        if _keep(term):
            seen.setdefault(term[:MAX_TERM_LENGTH], None)
    return list(seen)[:MAX_QUERY_TERMS]
