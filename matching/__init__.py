"""matching: rank technology achievements for enterprise needs, and the reverse.

A pure library (imports neither flask, sqlalchemy nor techmarket)::

    from matching import Matcher, Document, Match
    m = Matcher().fit(achievements)          # Document(id, title, description, field, keywords)
    for match in m.rank(need, top=10):       # Match(id, score, terms), best first
        if m.is_match(match.score): ...

Both directions: a Matcher is fitted on one side and ranks documents of the
other side against it.  Fit one on achievements to rank needs -> achievements,
and another on needs to rank achievements -> needs; :func:`build_pair` does
both.  The score is symmetric in spirit (cosines), but IDF comes from the
fitted side, so the two matchers are separate objects.

Design: jieba words (with a domain user dictionary and stop words) plus
``#concept`` features from a curated lexicon mapping colloquial and trade words
to technical ones (摞 -> 码垛), TF-IDF cosine, blended with a character 1-2 gram
TF-IDF cosine and a soft same-field boost; titles and keywords count double.
See ``matching/README.md``.

Command line: ``python -m matching rank --supplies S.jsonl --demands D.jsonl --top 10``.
"""

from .matcher import DEFAULT_THRESHOLD, Matcher, build_pair
from .schema import FIELDS, Document, Match
from .text import analyze, normalize, tokenize

__all__ = [
    "DEFAULT_THRESHOLD",
    "FIELDS",
    "Document",
    "Match",
    "Matcher",
    "analyze",
    "build_pair",
    "normalize",
    "tokenize",
]
