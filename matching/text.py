"""Text analysis: normalisation, jieba segmentation, stop words, concept lexicon.

Everything here is a module-level function (picklable, usable as a scikit-learn
``tokenizer=``).  jieba is initialised lazily, once per process, on a private
``jieba.Tokenizer`` so the global jieba dictionary of other code is untouched.

Data files (reviewable, one entry per line, ``#`` starts a comment):

* ``data/userdict.txt``  – extra jieba words (``word [freq] [pos]``)
* ``data/stopwords.txt`` – boilerplate words dropped from the word features
* ``data/concepts.tsv``  – ``canonical<TAB>variant variant ...<TAB>field``;
  every variant (and the canonical term itself) found in a text adds the
  concept feature ``#canonical``.  A variant may belong to several concepts.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jieba

DATA_DIR = Path(__file__).with_name("data")
CONCEPT_PREFIX = "#"
MAX_KEY_LEN = 8

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_LATIN = re.compile(r"[a-z][a-z0-9]*(?:[\-+.][a-z0-9]+)*")
_NUMBER = re.compile(r"^[\d.,%+\-~/×x*:]+$")
_KEEP = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffa-z0-9]")
_SPACES = re.compile(r"\s+")
_MAX_CHARS = 20_000  # longer texts are truncated: a need is never a book

# Unicode NFKC already folds full width to half width; these are the leftovers.
_CHAR_MAP = str.maketrans({"℃": "°c", "，": ",", "。": ".", "、": ",", "·": " ", "　": " "})


@dataclass(frozen=True)
class Lexicon:
    """The loaded data files."""

    stopwords: frozenset[str]
    concepts: dict[str, tuple[str, ...]]  # key (variant or canonical) -> canonicals
    concept_fields: dict[str, str]  # canonical -> field
    userwords: tuple[str, ...]
    fingerprint: str
    prefixes: dict[str, tuple[int, ...]]  # first two characters of multi-character keys -> their lengths


def _data_lines(name: str) -> list[str]:
    path = DATA_DIR / name
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0] if not raw.startswith("#") else ""
        if line.strip():
            out.append(line.rstrip("\n"))
    return out


def normalize(text: str) -> str:
    """NFKC (full width -> half width), lower case, unify a few symbols, squeeze spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)[:_MAX_CHARS]).translate(_CHAR_MAP).lower()
    return _SPACES.sub(" ", text).strip()


def load_lexicon() -> Lexicon:
    """Read the data files (no jieba involved)."""
    stop = frozenset(normalize(w) for line in _data_lines("stopwords.txt") for w in line.split())
    concepts: dict[str, list[str]] = {}
    fields: dict[str, str] = {}
    for line in _data_lines("concepts.tsv"):
        parts = line.split("\t")
        canonical = normalize(parts[0])
        variants = parts[1].split() if len(parts) > 1 else []
        if len(parts) > 2 and parts[2].strip():
            fields[canonical] = parts[2].strip()
        for key in [canonical, *(normalize(v) for v in variants)]:
            bucket = concepts.setdefault(key, [])
            if canonical not in bucket:
                bucket.append(canonical)
    userwords = tuple(normalize(line.split()[0]) for line in _data_lines("userdict.txt"))
    digest = hashlib.sha256()
    for name in ("stopwords.txt", "concepts.tsv", "userdict.txt"):
        digest.update((DATA_DIR / name).read_bytes())
    return Lexicon(
        stopwords=stop,
        concepts={k: tuple(v) for k, v in concepts.items()},
        concept_fields=fields,
        userwords=userwords,
        fingerprint=digest.hexdigest()[:16],
        prefixes=_prefix_lengths(concepts),
    )


def _prefix_lengths(keys: Iterable[str]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for k in keys:
        if len(k) > 1:
            lengths.setdefault(k[:2], set()).add(len(k))
    return {p: tuple(sorted(v)) for p, v in lengths.items()}


_lock = threading.RLock()
_state: dict[str, object] = {}


def lexicon() -> Lexicon:
    """The process-wide lexicon (loaded once)."""
    lex = _state.get("lexicon")
    if lex is None:
        with _lock:
            lex = _state.get("lexicon")
            if lex is None:
                lex = _state["lexicon"] = load_lexicon()
    return lex  # type: ignore[return-value]


def _segmenter() -> jieba.Tokenizer:
    seg = _state.get("jieba")
    if seg is None:
        with _lock:
            seg = _state.get("jieba")
            if seg is None:
                jieba.setLogLevel(logging.WARNING)
                lex = lexicon()
                seg = jieba.Tokenizer()
                seg.initialize()
                for word in lex.userwords:
                    seg.add_word(word, freq=2000)
                for key in lex.concepts:
                    if len(key) > 1 and _CJK_RUN.fullmatch(key):
                        seg.add_word(key, freq=1000)
                _state["jieba"] = seg
    return seg  # type: ignore[return-value]


def warm_up() -> None:
    """Initialise jieba and the lexicon now (otherwise done on first use)."""
    _segmenter()


def segment(text: str) -> list[str]:
    """Normalised jieba words, punctuation and whitespace removed (stop words kept)."""
    return _segment_normalized(normalize(text))


def _segment_normalized(text: str) -> list[str]:
    if not text:
        return []
    out = []
    for w in _segmenter().lcut(text, HMM=False):
        k = _KINDS.get(w)
        if k is None:
            k = _token_kind(w)
        if k:
            out.append(w)
    return out


# jieba word -> 0 (whitespace or punctuation: dropped), 1 (stop word or number), 2 (word feature);
# memoised: jieba's vocabulary is bounded, and the two regular expressions cost more than a lookup
_KINDS: dict[str, int] = {}
_KINDS_MAX = 500_000


def _token_kind(word: str) -> int:
    if word.strip() != word or not _KEEP.search(word):
        k = 0
    elif word in lexicon().stopwords or _NUMBER.match(word):
        k = 1
    else:
        k = 2
    if len(_KINDS) < _KINDS_MAX:
        _KINDS[word] = k
    return k


def tokenize(text: str) -> list[str]:
    """Word tokens for TF-IDF: jieba words minus stop words and bare numbers.

    Module level and picklable: ``TfidfVectorizer(tokenizer=tokenize, token_pattern=None)``.
    """
    stop = lexicon().stopwords
    return [w for w in segment(text) if w not in stop and not _NUMBER.match(w)]


def find_concepts(text: str, words: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """``(canonical, surface)`` for every concept key found in ``text``.

    Multi-character Chinese keys are found anywhere in the normalised text, Latin
    keys (PLC, AGV ...) as whole words, one-character keys only as whole jieba words.
    """
    text = normalize(text)
    return _find_concepts_normalized(text, _segment_normalized(text) if words is None else words)


def _find_concepts_normalized(text: str, words: Iterable[str]) -> list[tuple[str, str]]:
    lex = lexicon()
    concepts, prefixes = lex.concepts, lex.prefixes
    found: list[tuple[str, str]] = []
    for run in _CJK_RUN.findall(text):
        n = len(run)
        # only positions whose first two characters start some key (a C-level set intersection)
        starts = []
        for p in prefixes.keys() & set(map(str.__add__, run, run[1:])):
            i = run.find(p)
            while i >= 0:
                starts.append(i)
                i = run.find(p, i + 1)
        for i in sorted(starts):  # text order: deterministic whatever the hash seed
            for length in prefixes[run[i : i + 2]]:
                if i + length > n:
                    break
                key = run[i : i + length]
                hit = concepts.get(key)
                if hit:
                    found.extend((c, key) for c in hit)
    for word in _LATIN.findall(text):
        for c in concepts.get(word, ()):
            found.append((c, word))
    for word in words:
        if len(word) == 1:
            for c in concepts.get(word, ()):
                found.append((c, word))
    return found


def analyze(text: str) -> list[str]:
    """Word tokens plus ``#concept`` features (the matcher's word analyser)."""
    text = normalize(text)
    words = _segment_normalized(text)
    stop = lexicon().stopwords
    out = [w for w in words if w not in stop and not _NUMBER.match(w)]
    out.extend(CONCEPT_PREFIX + c for c, _ in _find_concepts_normalized(text, words))
    return out


def char_ngrams(text: str) -> list[str]:
    """Chinese character 1- and 2-grams within runs; Latin words whole."""
    return _char_ngrams_normalized(normalize(text))


def _char_ngrams_normalized(text: str) -> list[str]:
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend(run)
        out.extend(map(str.__add__, run, run[1:]))
    out.extend(_LATIN.findall(text))
    return out


def analyze_parts(
    title: str, description: str, keywords: Iterable[str], title_weight: float, concept_weight: float
) -> tuple[Counter, Counter, dict[str, str]]:
    """Weighted word/concept counts, char n-gram counts and concept surfaces of one document."""
    words: Counter = Counter()
    chars: Counter = Counter()
    surfaces: dict[str, str] = {}
    head = " ".join([title or "", *(keywords or ())])
    # title/keywords first, so a concept's surface word comes from the title when it can
    for raw, weight in ((head, title_weight), (description or "", 1.0)):
        text = normalize(raw)
        if not text:
            continue
        segs = _segment_normalized(text)
        tokens = [w for w in segs if _KINDS.get(w) == 2 or _token_kind(w) == 2]
        canon = []
        if concept_weight > 0:
            for c, surface in _find_concepts_normalized(text, segs):
                key = CONCEPT_PREFIX + c
                surfaces.setdefault(key, surface)
                canon.append(c)
        # the char channel also sees the canonical terms, so 摞 meets 码垛 there too
        grams = _char_ngrams_normalized(text + " " + " ".join(canon) if canon else text)
        if weight == 1.0 and concept_weight == 1.0:
            words.update(tokens)
            words.update([CONCEPT_PREFIX + c for c in canon])
            chars.update(grams)
        else:
            for w, n in Counter(tokens).items():
                words[w] += n * weight
            for c, n in Counter(canon).items():
                words[CONCEPT_PREFIX + c] += n * weight * concept_weight
            for g, n in Counter(grams).items():
                chars[g] += n * weight
    return words, chars, surfaces


def plain_char_ngrams(text: str) -> list[str]:
    """Baseline analyser: character 1-2 grams of the normalised text, nothing else."""
    text = normalize(text)
    out: list[str] = []
    for run in re.findall(r"[^\s\W_]+", text):
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out
