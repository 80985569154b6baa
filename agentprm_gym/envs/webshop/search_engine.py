"""BM25 product search over title, description and attributes (the ``bm25s`` package).

WebShop searches with a Pyserini/Lucene BM25 index; here the same ranking
function runs in-process with ``bm25s``. An index is immutable, so
:func:`get_search_index` builds it once per catalog per process and every env
instance of that catalog shares it; query results are cached too.

Ranking: BM25 score descending, ties broken by catalog order; only products
with a positive score are hits; at most :data:`MAX_RESULTS` (50, as WebShop)
are returned.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np

from agentprm_gym.envs.webshop.catalog import Catalog, Product

__all__ = ["SearchIndex", "get_search_index", "tokenize", "MAX_RESULTS", "clear_index_cache"]

#: Most results a search returns (WebShop: 50, shown 10 per page).
MAX_RESULTS = 50
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
    ]
)


_ASCII_SPLIT = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not (c.isascii() and c.isalnum())}
)


def tokenize(text: str) -> list[str]:
    """Lower-case alphanumeric tokens (runs of ``[a-z0-9]``) without English stop words."""
    low = text.lower()
    # ASCII fast path: the same tokens as the regex
    words = low.translate(_ASCII_SPLIT).split() if low.isascii() else _TOKEN_RE.findall(low)
    return [t for t in words if t not in _STOP]


def _doc_text(p: Product) -> str:
    return f"{p.name} {p.description} {' '.join(p.attributes)}"


class SearchIndex:
    """A BM25 index of a catalog with a bounded result cache.

    Args:
        catalog: The catalog to index.
        cache_size: Most distinct queries whose results are kept.
    """

    def __init__(self, catalog: Catalog, cache_size: int = 100_000) -> None:
        import bm25s

        self.catalog = catalog
        self.cache_size = int(cache_size)
        # token ids in first-seen order: deterministic in every process
        vocab: dict[str, int] = {}
        corpus = [
            [vocab.setdefault(t, len(vocab)) for t in tokenize(_doc_text(p))]
            for p in catalog.products
        ]
        self._bm25 = bm25s.BM25()
        self._bm25.index((corpus, vocab), show_progress=False)
        self._vocab: dict[str, int] = dict(self._bm25.vocab_dict)
        self._cache: OrderedDict[str, tuple[int, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def search(self, query: str) -> tuple[int, ...]:
        """Indices of the top products for ``query`` (cached).

        Args:
            query: Free text.

        Returns:
            Up to :data:`MAX_RESULTS` catalog indices, best first.
        """
        key = " ".join(query.lower().split())
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        ids = [self._vocab[t] for t in tokenize(key) if t in self._vocab]
        if not ids:
            result: tuple[int, ...] = ()
        else:
            scores = self._bm25.get_scores_from_ids(ids)
            result = self._top(np.asarray(scores))
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return result

    @staticmethod
    def _top(scores: np.ndarray) -> tuple[int, ...]:
        pos = np.flatnonzero(scores > 0)
        if pos.size == 0:
            return ()
        if pos.size > MAX_RESULTS:
            s = scores[pos]
            kth = np.partition(s, s.size - MAX_RESULTS)[s.size - MAX_RESULTS]
            pos = pos[s >= kth]
        order = np.lexsort((pos, -scores[pos].astype(np.float64)))
        return tuple(int(i) for i in pos[order][:MAX_RESULTS])

    def results(self, query: str) -> list[Product]:
        """The products :meth:`search` returns."""
        return [self.catalog[i] for i in self.search(query)]

    def rank_of(self, query: str, asin: str) -> int | None:
        """0-based rank of ``asin`` in the results of ``query``, or None if absent."""
        idx = self.catalog.index_of.get(asin.lower())
        if idx is None:
            return None
        try:
            return self.search(query).index(idx)
        except ValueError:
            return None


_INDEXES: dict[str, SearchIndex] = {}
_INDEX_LOCK = threading.Lock()


def get_search_index(catalog: Catalog) -> SearchIndex:
    """The shared index of ``catalog`` (built on first use in this process)."""
    idx = _INDEXES.get(catalog.key)
    if idx is None or idx.catalog is not catalog:
        with _INDEX_LOCK:
            idx = _INDEXES.get(catalog.key)
            if idx is None or idx.catalog is not catalog:
                idx = SearchIndex(catalog)
                _INDEXES[catalog.key] = idx
    return idx


def clear_index_cache() -> None:
    """Forget every shared index (frees memory; later envs rebuild them)."""
    with _INDEX_LOCK:
        _INDEXES.clear()
