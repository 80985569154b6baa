"""The immutable data of a shop (catalog, goals, search index), built once per process.

:func:`get_shop_data` caches one :class:`ShopData` per
``(num_products, catalog_seed, data_dir)``, so the first ``gym.make`` pays for
generating the catalog and indexing it and every later env of the same shop
shares them. Nothing here is ever mutated after construction.
"""

from __future__ import annotations

import threading
import zlib
from collections import defaultdict
from pathlib import Path

from agentprm_gym.envs.webshop.catalog import Catalog, generate_catalog
from agentprm_gym.envs.webshop.goals import GeneratedGoals, Goal, GoalSet, instruction_query
from agentprm_gym.envs.webshop.search_engine import SearchIndex, get_search_index

__all__ = ["ShopData", "get_shop_data", "clear_shop_cache"]


class ShopData:
    """Catalog, goals and search index of one shop.

    Args:
        catalog: The products.
        goals: The tasks.
    """

    def __init__(self, catalog: Catalog, goals: GoalSet) -> None:
        self.catalog = catalog
        self.goals = goals
        self.index: SearchIndex = get_search_index(catalog)
        by_cat: dict[str, set[str]] = defaultdict(set)
        for p in catalog.products:
            if p.query:
                by_cat[p.category].add(p.query)
        self.queries_by_category: dict[str, tuple[str, ...]] = {
            c: tuple(sorted(q)) for c, q in sorted(by_cat.items())
        }
        self.all_queries: tuple[str, ...] = tuple(
            sorted({q for qs in self.queries_by_category.values() for q in qs})
        )
        self._search_cache: dict[str, tuple[str, ...]] = {}

    @property
    def key(self) -> str:
        """Identity of this shop's data."""
        return self.catalog.key

    def search_suggestions(self, goal: Goal) -> tuple[str, ...]:
        """The concrete queries offered as ``search[...]`` admissible actions for ``goal``.

        The query derived from the instruction, its first three words, another
        product query of the goal's category and one of another category (a
        deterministic choice per instruction), without duplicates.
        """
        hit = self._search_cache.get(goal.instruction)
        if hit is not None:
            return hit
        h = zlib.crc32(goal.instruction.encode("utf-8"))
        q1 = instruction_query(goal.instruction) or goal.query or "product"
        out = [q1, " ".join(q1.split()[:3])]
        same = [q for q in self.queries_by_category.get(goal.category, ()) if q != goal.query]
        if same:
            out.append(same[h % len(same)])
        other = [
            q for q in self.all_queries if q not in self.queries_by_category.get(goal.category, ())
        ]
        if other:
            out.append(other[(h // 7) % len(other)])
        seen: list[str] = []
        for q in out:
            q = q.replace("[", " ").replace("]", " ").strip()
            if q and q not in seen:
                seen.append(q)
        res = tuple(seen)
        if len(self._search_cache) > 200_000:
            self._search_cache.clear()
        self._search_cache[goal.instruction] = res
        return res


_SHOPS: dict[tuple, ShopData] = {}
_LOCK = threading.Lock()


def get_shop_data(
    num_products: int = 10_000, catalog_seed: int = 0, data_dir: str | Path | None = None
) -> ShopData:
    """The shared shop for these arguments (built on first use in this process).

    Args:
        num_products: Products to generate (or, with ``data_dir``, to load; None: all).
        catalog_seed: Seed of the generator (and of the loader's price draws).
        data_dir: Directory of WebShop's data files; None for the synthetic catalog.
    """
    key = (
        None if num_products is None else int(num_products),
        int(catalog_seed),
        None if data_dir is None else str(Path(data_dir).expanduser().resolve()),
    )
    shop = _SHOPS.get(key)
    if shop is not None:
        return shop
    with _LOCK:
        shop = _SHOPS.get(key)
        if shop is None:
            if data_dir is None:
                if num_products is None:
                    raise ValueError("num_products must be an int for the generated catalog")
                catalog = generate_catalog(int(num_products), int(catalog_seed))
                goals: GoalSet = GeneratedGoals(catalog, int(catalog_seed))
            else:
                from agentprm_gym.envs.webshop.data_loader import load_webshop_dir

                catalog, goals = load_webshop_dir(data_dir, num_products, int(catalog_seed))
            shop = ShopData(catalog, goals)
            _SHOPS[key] = shop
    return shop


def clear_shop_cache() -> None:
    """Forget every cached shop (later envs rebuild theirs)."""
    with _LOCK:
        _SHOPS.clear()
