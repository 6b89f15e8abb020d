"""The three baselines the matcher must beat (plain, no domain knowledge).

* ``CharTfidf``  – TF-IDF over character 1-2 grams of title + description
* ``WordTfidf``  – TF-IDF over plain jieba words (default dictionary)
* ``Bm25``       – Okapi BM25 (k1=1.5, b=0.75) over the same jieba words

Each has ``fit(docs)`` and ``scores(queries) -> ndarray (n_queries, n_docs)``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import jieba
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from matching import Document
from matching.text import normalize, plain_char_ngrams

jieba.setLogLevel(logging.WARNING)
_WORD = re.compile(r"\w")


def jieba_words(text: str) -> list[str]:
    """Plain jieba words of the normalised text, punctuation dropped (module level, picklable)."""
    return [w for w in jieba.lcut(normalize(text)) if w.strip() and _WORD.search(w)]


def _text(d: Document) -> str:
    return f"{d.title} {d.description} {' '.join(d.keywords)}"


class CharTfidf:
    name = "baseline: char 1-2 gram TF-IDF"

    def fit(self, docs: Sequence[Document]) -> CharTfidf:
        self.vec_ = TfidfVectorizer(analyzer=plain_char_ngrams)
        self.x_ = self.vec_.fit_transform([_text(d) for d in docs])
        return self

    def scores(self, queries: Sequence[Document]) -> np.ndarray:
        return (self.vec_.transform([_text(q) for q in queries]) @ self.x_.T).toarray()


class WordTfidf(CharTfidf):
    name = "baseline: jieba word TF-IDF"

    def fit(self, docs: Sequence[Document]) -> WordTfidf:
        self.vec_ = TfidfVectorizer(tokenizer=jieba_words, token_pattern=None, lowercase=False)
        self.x_ = self.vec_.fit_transform([_text(d) for d in docs])
        return self


class Bm25:
    name = "baseline: BM25 over jieba words"

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b

    def fit(self, docs: Sequence[Document]) -> Bm25:
        self.vec_ = CountVectorizer(tokenizer=jieba_words, token_pattern=None, lowercase=False)
        tf = self.vec_.fit_transform([_text(d) for d in docs]).tocsr().astype(np.float64)
        n = tf.shape[0]
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        self.idf_ = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        dl = np.asarray(tf.sum(axis=1)).ravel()
        norm = self.k1 * (1 - self.b + self.b * dl / max(dl.mean(), 1e-9))
        rows = np.repeat(np.arange(n), np.diff(tf.indptr))
        tf.data = tf.data * (self.k1 + 1) / (tf.data + norm[rows]) * self.idf_[tf.indices]
        self.w_ = tf
        return self

    def scores(self, queries: Sequence[Document]) -> np.ndarray:
        q = self.vec_.transform([_text(x) for x in queries])
        q.data[:] = 1.0  # each distinct query term counts once
        return (sp.csr_matrix(q) @ self.w_.T).toarray()
