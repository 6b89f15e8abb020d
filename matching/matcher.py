"""The Matcher: TF-IDF over jieba words + concepts, char 1-2 grams and a field boost.

Score of a candidate ``d`` for a query ``q`` (both :class:`Document`)::

    a_w * cos(words+concepts) + a_c * cos(char 1-2 grams) + field_weight * [same field]

with ``a_w + a_c = 1``.  The three blocks are stacked in one sparse matrix
(each block l2-normalised and scaled by ``sqrt(a)``; the field block is a
one-hot column carrying ``field_weight`` on the corpus side), so ranking is one
sparse product.  The raw weighted term counts of every document are kept, so
``add``/``remove`` only recompute IDF and normalisation from stored counts and
give exactly the scores of a fresh ``fit`` on the final corpus.
"""

from __future__ import annotations

import math
import os
import pickle
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import text as _text
from .features import QueryVector, analyze_chunk, analyze_list, doc_parts, sublinear, tfidf
from .features import idf as _idf
from .schema import FIELDS, Document, Match

FORMAT = "techmarket-matcher"
FORMAT_VERSION = 1
# Calibrated on bench/devset (dev split only): see matching/README.md.
DEFAULT_THRESHOLD = 0.378
_PARALLEL_MIN_DOCS = 2000
_BATCH_ROWS = 128
_PARALLEL_MIN_QUERIES = 1000
_FORK_JOB: tuple | None = None  # what forked ranking workers read (copy-on-write)


class Matcher(BaseEstimator):
    """Rank a corpus of documents (achievements, or needs) for a query document.

    Parameters
    ----------
    word_weight, char_weight : relative weights of the word+concept and char 1-2 gram cosines.
    char_max_df : char n-grams in more than this share of the corpus are ignored (IDF 0), once the
        corpus has 50 documents or more: too common to rank, too costly to multiply.
    field_weight : additive boost when query and candidate share a 技术领域 (soft, never a filter).
    title_weight : count multiplier of title and keyword terms.
    concept_weight : count multiplier of ``#concept`` features from the lexicon.
    threshold : score under which :meth:`is_match` says nothing fits.
    n_jobs : processes used to analyse large batches (``-1`` = all cores).
    n_terms : explanation terms per match.
    """

    def __init__(
        self,
        word_weight: float = 0.5,
        char_weight: float = 0.5,
        char_max_df: float = 0.2,
        field_weight: float = 0.03,
        title_weight: float = 2.0,
        concept_weight: float = 1.0,
        threshold: float = DEFAULT_THRESHOLD,
        n_jobs: int | None = 1,
        n_terms: int = 6,
    ) -> None:
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.char_max_df = char_max_df
        self.field_weight = field_weight
        self.title_weight = title_weight
        self.concept_weight = concept_weight
        self.threshold = threshold
        self.n_jobs = n_jobs
        self.n_terms = n_terms

    # ------------------------------------------------------------------ fitting
    def fit(self, docs: Iterable[Document]) -> Matcher:
        """Analyse ``docs`` and build the index from scratch; returns ``self``."""
        docs = self._check_docs(docs)
        self.ids_: list[str] = []
        self.word_terms_: list[str] = []
        self.word_vocab_: dict[str, int] = {}
        self.char_terms_: list[str] = []
        self.char_vocab_: dict[str, int] = {}
        self.field_vocab_: dict[str, int] = {f: i for i, f in enumerate(FIELDS)}
        self.word_counts_ = sp.csr_matrix((0, 0), dtype=np.float32)
        self.char_counts_ = sp.csr_matrix((0, 0), dtype=np.float32)
        self.doc_field_ = np.zeros(0, dtype=np.int64)
        self.surfaces_: list[dict[str, str]] = []
        self.lexicon_fingerprint_ = _text.lexicon().fingerprint
        self._append(docs)
        self._recompute()
        return self

    def add(self, docs: Iterable[Document]) -> Matcher:
        """Add documents; a document whose id is already indexed replaces it (update)."""
        check_is_fitted(self, "ids_")
        docs = self._check_docs(docs)
        present = [d.id for d in docs if d.id in self._index]
        if present:
            self._drop(present)
        self._append(docs)
        self._recompute()
        return self

    def remove(self, ids: Iterable[str]) -> Matcher:
        """Remove documents by id (``KeyError`` if one is not indexed)."""
        check_is_fitted(self, "ids_")
        ids = [str(i) for i in ids]
        missing = [i for i in ids if i not in self._index]
        if missing:
            raise KeyError(f"not indexed: {missing[:5]}")
        self._drop(ids)
        self._recompute()
        return self

    def refit(self) -> Matcher:
        """Full rebuild from the stored counts: drops vocabulary no document uses any more."""
        check_is_fitted(self, "ids_")
        for kind in ("word", "char"):
            counts = getattr(self, f"{kind}_counts_")
            used = np.flatnonzero(np.bincount(counts.indices, minlength=counts.shape[1]))
            terms = [getattr(self, f"{kind}_terms_")[i] for i in used]
            setattr(self, f"{kind}_counts_", counts[:, used].tocsr())
            setattr(self, f"{kind}_terms_", terms)
            setattr(self, f"{kind}_vocab_", {t: i for i, t in enumerate(terms)})
        self._recompute()
        return self

    def _check_docs(self, docs: Iterable[Document]) -> list[Document]:
        docs = list(docs)
        seen: set[str] = set()
        for d in docs:
            if not isinstance(d, Document):
                raise TypeError(f"expected matching.Document, got {type(d).__name__}")
            if d.id in seen:
                raise ValueError(f"duplicate id {d.id!r}")
            seen.add(d.id)
        return docs

    def _analyze(self, docs: Sequence[Document]) -> list[tuple]:
        parts = [doc_parts(d) for d in docs]
        n_jobs = self._n_jobs()
        if n_jobs == 1 or len(parts) < _PARALLEL_MIN_DOCS:
            return [analyze_chunk(parts, self.title_weight, self.concept_weight)]
        _text.warm_up()  # forked workers inherit the initialised jieba
        n_chunks = n_jobs * 4
        size = math.ceil(len(parts) / n_chunks)
        chunks = [parts[i : i + size] for i in range(0, len(parts), size)]
        with ProcessPoolExecutor(n_jobs, mp_context=_fork_context()) as pool:
            return list(
                pool.map(analyze_chunk, chunks, [self.title_weight] * len(chunks), [self.concept_weight] * len(chunks))
            )

    def _append(self, docs: Sequence[Document]) -> None:
        if not docs:
            return
        new: dict[str, list[sp.csr_matrix]] = {"word": [], "char": []}
        for wterms, wmat, cterms, cmat, surfaces in self._analyze(docs):
            for kind, terms, mat in (("word", wterms, wmat), ("char", cterms, cmat)):
                vocab = getattr(self, f"{kind}_vocab_")
                gterms = getattr(self, f"{kind}_terms_")
                mapping = np.empty(len(terms), dtype=np.int32)
                for i, t in enumerate(terms):
                    col = vocab.get(t)
                    if col is None:
                        col = vocab[t] = len(gterms)
                        gterms.append(t)
                    mapping[i] = col
                new[kind].append((mat.data, mapping[mat.indices], mat.indptr, mat.shape[0]))
            self.surfaces_.extend(surfaces)
        for kind, chunks in new.items():
            width = len(getattr(self, f"{kind}_terms_"))
            old = getattr(self, f"{kind}_counts_")
            mats = [sp.csr_matrix((old.data, old.indices, old.indptr), shape=(old.shape[0], width))]
            mats += [sp.csr_matrix((d, i, p), shape=(n, width)) for d, i, p, n in chunks]
            setattr(self, f"{kind}_counts_", sp.vstack(mats, format="csr", dtype=np.float32))
        for d in docs:
            if d.field is not None and d.field not in self.field_vocab_:
                self.field_vocab_[d.field] = len(self.field_vocab_)
        fields = [self.field_vocab_.get(d.field, -1) if d.field else -1 for d in docs]
        self.doc_field_ = np.concatenate([self.doc_field_, np.asarray(fields, dtype=np.int64)])
        self.ids_.extend(d.id for d in docs)

    def _drop(self, ids: Iterable[str]) -> None:
        drop = {self._index[i] for i in ids}
        keep = np.asarray([i for i in range(len(self.ids_)) if i not in drop], dtype=np.int64)
        self.word_counts_ = self.word_counts_[keep].tocsr()
        self.char_counts_ = self.char_counts_[keep].tocsr()
        self.doc_field_ = self.doc_field_[keep]
        self.ids_ = [self.ids_[i] for i in keep]
        self.surfaces_ = [self.surfaces_[i] for i in keep]

    def _recompute(self) -> None:
        """IDF, normalised blocks and the transposed search matrix from the stored counts."""
        self._index = {d: i for i, d in enumerate(self.ids_)}
        self.word_idf_ = _idf(self.word_counts_)
        self.char_idf_ = _idf(self.char_counts_, self.char_max_df)
        aw, ac = self._block_scales()
        word_block, self.word_norms_ = tfidf(self.word_counts_, self.word_idf_)
        char_block, self.char_norms_ = tfidf(self.char_counts_, self.char_idf_)
        n = len(self.ids_)
        has = self.doc_field_ >= 0
        fblock = sp.csr_matrix(
            (np.full(int(has.sum()), float(self.field_weight)), (np.flatnonzero(has), self.doc_field_[has])),
            shape=(n, len(self.field_vocab_)),
        )
        # stack the transposed blocks row-wise: no COO detour, one copy of each block at a time
        parts = []
        for block, scale in ((word_block, aw), (char_block, ac)):
            block.data *= scale
            parts.append(block.T.tocsr())
        del word_block, char_block
        parts.append(fblock.T.tocsr())
        self.matrix_t_ = sp.vstack(parts, format="csr")
        del parts
        self.matrix_t_.sort_indices()

    def _block_scales(self) -> tuple[float, float]:
        total = float(self.word_weight + self.char_weight) or 1.0
        return math.sqrt(self.word_weight / total), math.sqrt(self.char_weight / total)

    # ------------------------------------------------------------------ queries
    def _analyze_queries(self, docs: Sequence[Document]) -> list[tuple[dict, dict, dict]]:
        parts = [doc_parts(d) for d in docs]
        n_jobs = self._n_jobs()
        if n_jobs == 1 or len(parts) < _PARALLEL_MIN_DOCS:
            return analyze_list(parts, self.title_weight, self.concept_weight)
        _text.warm_up()
        size = math.ceil(len(parts) / (n_jobs * 4))
        chunks = [parts[i : i + size] for i in range(0, len(parts), size)]
        with ProcessPoolExecutor(n_jobs, mp_context=_fork_context()) as pool:
            weights = [self.title_weight] * len(chunks), [self.concept_weight] * len(chunks)
            done = pool.map(analyze_list, chunks, *weights)
            return [row for chunk in done for row in chunk]

    def _vectorize(self, docs: Sequence[Document]) -> tuple[sp.csr_matrix, list[QueryVector]]:
        """The stacked query matrix and, per query, what explanations need."""
        aw, ac = self._block_scales()
        n_word, n_char = len(self.word_terms_), len(self.char_terms_)
        queries: list[QueryVector] = []
        indices, data, indptr = [], [], [0]
        for doc, (words, chars, surf) in zip(docs, self._analyze_queries(docs), strict=True):
            q = QueryVector(surf)
            for block, counts, vocab, idf in (
                ("word", words, self.word_vocab_, self.word_idf_),
                ("char", chars, self.char_vocab_, self.char_idf_),
            ):
                cols = np.fromiter((vocab.get(t, -1) for t in counts), dtype=np.int64, count=len(counts))
                vals = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                ok = cols >= 0
                cols, vals = cols[ok], vals[ok]
                vals = sublinear(vals) * idf[cols]
                keep = vals > 0
                cols, vals = cols[keep], vals[keep]
                order = np.argsort(cols)
                cols, vals = cols[order], vals[order]
                norm = math.sqrt(float(vals @ vals)) if vals.size else 0.0
                if norm > 0:
                    vals = vals / norm
                setattr(q, block, (cols, vals))
            fcol = self.field_vocab_.get(doc.field, -1) if doc.field else -1
            indices.extend([q.word[0], q.char[0] + n_word])
            data.extend([q.word[1] * aw, q.char[1] * ac])
            if fcol >= 0:
                indices.append(np.asarray([n_word + n_char + fcol]))
                data.append(np.ones(1))
            indptr.append(indptr[-1] + len(q.word[0]) + len(q.char[0]) + (fcol >= 0))
            queries.append(q)
        matrix = sp.csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0),
                np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, dtype=np.int32),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(docs), self.matrix_t_.shape[0]),
        )
        return matrix, queries

    def _n_jobs(self) -> int:
        n_jobs = self.n_jobs or 1
        return (os.cpu_count() or 1) if n_jobs < 0 else n_jobs

    def rank(self, doc: Document, top: int = 10) -> list[Match]:
        """The ``top`` best candidates for ``doc`` (score > 0), best first."""
        return self.rank_many([doc], top=top)[0]

    def rank_many(self, docs: Iterable[Document], top: int = 10) -> list[list[Match]]:
        """:meth:`rank` for many queries, in chunks of sparse products (forked processes when ``n_jobs`` > 1)."""
        check_is_fitted(self, "ids_")
        docs = list(docs)
        if not docs:
            return []
        q, queries = self._vectorize(docs)
        bounds = [(i, min(i + _BATCH_ROWS, len(docs))) for i in range(0, len(docs), _BATCH_ROWS)]
        n_jobs = self._n_jobs()
        if n_jobs > 1 and len(docs) >= _PARALLEL_MIN_QUERIES and "fork" in get_all_start_methods():
            # scipy's sparse product holds the GIL: use forked processes sharing the index
            global _FORK_JOB
            _FORK_JOB = (self, q, queries, top)
            try:
                with ProcessPoolExecutor(n_jobs, mp_context=get_context("fork")) as pool:
                    parts = list(pool.map(_rank_chunk, bounds))
            finally:
                _FORK_JOB = None
        else:
            parts = [self._top(q[a:b], queries[a:b], top) for a, b in bounds]
        return [m for part in parts for m in part]

    def _top(self, q: sp.csr_matrix, queries: Sequence[QueryVector], top: int) -> list[list[Match]]:
        n = len(self.ids_)
        if n == 0 or top <= 0:
            return [[] for _ in range(q.shape[0])]
        scores = (q @ self.matrix_t_).tocsr()
        out = []
        for r in range(scores.shape[0]):
            lo, hi = scores.indptr[r], scores.indptr[r + 1]
            cols, vals = scores.indices[lo:hi], scores.data[lo:hi]
            if len(vals) > top:
                sel = np.argpartition(-vals, top - 1)[:top]
                cols, vals = cols[sel], vals[sel]
            order = np.lexsort((cols, -vals))  # best first, ties by index
            out.append(
                [
                    Match(self.ids_[c], float(v), self._explain(queries[r], int(c)))
                    for c, v in zip(cols[order], vals[order], strict=True)
                    if v > 0
                ]
            )
        return out

    def _doc_row(self, kind: str, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Feature columns and normalised tf-idf weights of one indexed document."""
        counts = getattr(self, f"{kind}_counts_")
        lo, hi = counts.indptr[row], counts.indptr[row + 1]
        cols = counts.indices[lo:hi]
        norm = getattr(self, f"{kind}_norms_")[row]
        vals = sublinear(counts.data[lo:hi]) * getattr(self, f"{kind}_idf_")[cols] / (norm or 1.0)
        return cols, vals

    def _explain(self, query: QueryVector, row: int) -> tuple[str, ...]:
        """Original words behind the largest shared-feature contributions."""
        terms: list[str] = []
        for kind in ("word", "char"):
            qcols, qvals = getattr(query, kind)
            dcols, dvals = self._doc_row(kind, row)
            shared, qi, di = np.intersect1d(qcols, dcols, assume_unique=True, return_indices=True)
            contrib = qvals[qi] * dvals[di]
            names = getattr(self, f"{kind}_terms_")
            for j in shared[np.argsort(-contrib, kind="stable")]:
                name = names[j]
                if kind == "char":
                    if len(name) < 2 or any(name in t for t in terms):
                        continue
                    cands = [name]
                elif name.startswith(_text.CONCEPT_PREFIX):
                    cands = [query.surfaces.get(name, name[1:]), self.surfaces_[row].get(name, name[1:])]
                else:
                    cands = [name]
                for t in cands:
                    if t not in terms:
                        terms.append(t)
                if len(terms) >= self.n_terms:
                    return tuple(terms[: self.n_terms])
            if terms:  # char n-grams only when no word or concept is shared
                break
        return tuple(terms)

    def is_match(self, score: float) -> bool:
        """Whether ``score`` is good enough to show; under it the matcher says nothing fits."""
        return bool(score >= self.threshold)

    # ------------------------------------------------------------------ persistence
    def __len__(self) -> int:
        return len(getattr(self, "ids_", ()))

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in getattr(self, "_index", {})

    _STATE = (
        "ids_", "word_terms_", "char_terms_", "field_vocab_", "word_counts_",
        "char_counts_", "doc_field_", "surfaces_", "lexicon_fingerprint_",
    )  # fmt: skip

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted state (raw counts, vocabularies, params) with a format version."""
        check_is_fitted(self, "ids_")
        payload = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "params": self.get_params(),
            "state": {k: getattr(self, k) for k in self._STATE},
        }
        tmp = Path(f"{path}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Matcher:
        """Read a file written by :meth:`save` (no re-tokenising)."""
        with open(path, "rb") as fh:
            payload = pickle.load(fh)  # noqa: S301 - our own trusted index file
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{path}: not a matcher file")
        if payload.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path}: matcher format {payload.get('version')}, expected {FORMAT_VERSION}")
        m = cls(**payload["params"])
        for k, v in payload["state"].items():
            setattr(m, k, v)
        m.word_vocab_ = {t: i for i, t in enumerate(m.word_terms_)}
        m.char_vocab_ = {t: i for i, t in enumerate(m.char_terms_)}
        if m.lexicon_fingerprint_ != _text.lexicon().fingerprint:
            warnings.warn("lexicon data changed since this index was built; fit again", stacklevel=2)
        m._recompute()
        return m


def _rank_chunk(bounds: tuple[int, int]) -> list[list[Match]]:
    """Ranking worker: reads the matcher and queries inherited from the parent at fork."""
    assert _FORK_JOB is not None
    matcher, q, queries, top = _FORK_JOB
    a, b = bounds
    return matcher._top(q[a:b], queries[a:b], top)


def _fork_context():
    """Forked workers inherit the initialised jieba; elsewhere the platform default."""
    return get_context("fork" if "fork" in get_all_start_methods() else None)


def build_pair(supplies: Iterable[Document], demands: Iterable[Document], **params) -> tuple[Matcher, Matcher]:
    """Both directions: ``(fitted on supplies, fitted on demands)``.

    Rank needs with the first (``need -> achievements``), achievements with the second.
    """
    return Matcher(**params).fit(supplies), Matcher(**params).fit(demands)
