"""The product catalog: WebShop's product schema and a seeded synthetic generator.

A :class:`Product` holds the fields WebShop's ``load_products`` derives from its
scraped items (asin, Title, category, product_category breadcrumb, query,
Attributes, customization options, Price, BulletPoints, Description, Rating,
Reviews). :func:`generate_catalog` builds a deterministic catalog of any size
from the word banks in :mod:`agentprm_gym.envs.webshop.wordbanks`: the same
``(num_products, seed)`` gives the same catalog in any process. Random choices
are drawn as numpy arrays up front, so 100,000 products take a few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from agentprm_gym.envs.webshop import wordbanks as wb

__all__ = ["Review", "Product", "Catalog", "generate_catalog", "format_price"]

_ASIN_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Review(NamedTuple):
    """One customer review: a 1..5 score, a title and a body."""

    score: int
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Product:
    """A product in WebShop's schema (immutable; shared by every env instance).

    Attributes:
        asin: Amazon-style id, e.g. ``"B07XK3J2QZ"`` (upper case).
        name: The product title (WebShop's ``name`` / ``Title``).
        category: One of beauty, electronics, fashion, food, furniture.
        product_category: Breadcrumb, levels joined by ``" › "``.
        query: The search query the product belongs to (WebShop's ``query``).
        attributes: Attribute phrases (WebShop's ``Attributes``).
        options: Customization options as ``((name, (value, ...)), ...)``, lower case.
        price: The price shown and paid, in dollars.
        price_tag: The price as displayed, e.g. ``"$12.99"``.
        bullet_points: Feature bullets (WebShop's ``BulletPoints``/``small_description``).
        description: Long description (WebShop's ``Description``/``full_description``).
        rating: Average rating, or None (shown as "N.A.").
        reviews: Customer reviews.
    """

    asin: str
    name: str
    category: str
    product_category: str
    query: str
    attributes: tuple[str, ...]
    options: tuple[tuple[str, tuple[str, ...]], ...]
    price: float
    price_tag: str
    bullet_points: tuple[str, ...]
    description: str
    rating: float | None
    reviews: tuple[Review, ...]

    def option_of(self, value: str) -> str | None:
        """The option name offering ``value`` (case-insensitive), or None."""
        v = value.lower()
        for name, values in self.options:
            if v in values:
                return name
        return None


class Catalog:
    """An immutable list of products with asin lookup.

    Args:
        products: The products (asins must be unique).
        key: A string identifying this catalog's content (used for cache keys
            and snapshot checks).
    """

    def __init__(self, products: Sequence[Product], key: str) -> None:
        self.products: tuple[Product, ...] = tuple(products)
        self.key = key
        self.index_of: dict[str, int] = {}
        for i, p in enumerate(self.products):
            a = p.asin.lower()
            if a in self.index_of:
                raise ValueError(f"duplicate asin {p.asin!r} in catalog")
            self.index_of[a] = i

    def __len__(self) -> int:
        return len(self.products)

    def __getitem__(self, i: int) -> Product:
        return self.products[i]

    def by_asin(self, asin: str) -> Product | None:
        """The product with this asin (case-insensitive), or None."""
        i = self.index_of.get(asin.lower())
        return None if i is None else self.products[i]

    def __repr__(self) -> str:
        return f"Catalog({len(self.products)} products, key={self.key!r})"


def format_price(price: float) -> str:
    """WebShop's price tag: ``"$12.99"``."""
    return f"${price:.2f}"


@lru_cache(maxsize=4096)
def _cap(s: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in s.split(" "))


def _pick(pool: Sequence[str], r: int) -> str:
    return pool[r % len(pool)]


def generate_catalog(num_products: int = 10_000, seed: int = 0) -> Catalog:
    """Generate a deterministic synthetic catalog.

    Args:
        num_products: Number of products (>= 1).
        seed: Catalog seed; the same ``(num_products, seed)`` always gives the
            same catalog.

    Returns:
        The catalog, keyed ``"generated:{num_products}:{seed}"``.
    """
    n = int(num_products)
    if n < 1:
        raise ValueError(f"num_products must be >= 1, got {num_products}")
    rng = np.random.default_rng([int(seed), 0x5EED])
    types = wb.PRODUCT_TYPES
    t_idx = rng.integers(len(types), size=n)
    ints = rng.integers(0, 2**31 - 1, size=(n, 24)).tolist()
    attr_perm = np.argsort(rng.random((n, 12)), axis=1).tolist()
    opt_perm = np.argsort(rng.random((n, 2, 20)), axis=2).tolist()
    n_attrs = rng.integers(3, 6, size=n).tolist()
    n_vals = rng.integers(2, 6, size=(n, 2)).tolist()
    opt_mode = rng.random(n).tolist()
    price_u = rng.random(n).tolist()
    rating_u = rng.random(n).tolist()
    asin_codes = rng.integers(0, len(_ASIN_CHARS), size=(n, 8))
    asin_chars = np.array(list(_ASIN_CHARS))[asin_codes]
    asins = ["B0" + "".join(row) for row in asin_chars.tolist()]

    products: list[Product] = []
    seen_asins: set[str] = set()
    seen_titles: set[str] = set()
    for i in range(n):
        pt = types[int(t_idx[i])]
        r = ints[i]
        cat = pt.category
        brand = _pick(wb.BRANDS, r[0])
        mod = _pick(wb.CATEGORY_MODIFIERS[cat], r[1])
        noun = _pick(pt.nouns, r[2])
        use = _pick(pt.uses, r[3])
        material = _pick(wb.MATERIALS[cat], r[4])
        perm = [j for j in attr_perm[i] if j < len(pt.attributes)]
        attrs = tuple(pt.attributes[j] for j in perm[: n_attrs[i]])
        a1, a2 = attrs[0], attrs[1]

        # customization options: all of the type's options (75%), the first (15%), none
        names = pt.options
        if opt_mode[i] >= 0.9:
            names = ()
        elif opt_mode[i] >= 0.75:
            names = names[:1]
        options = []
        used: set[str] = set()
        for k, oname in enumerate(names):
            pool = wb.OPTION_VALUES[oname]
            vals = [pool[j] for j in opt_perm[i][k] if j < len(pool) and pool[j] not in used]
            vals = vals[: n_vals[i][k]]
            used.update(vals)
            options.append((oname, tuple(vals)))

        # title
        tmpl = r[5] % 4
        if tmpl == 0:
            title = f"{brand} {mod} {_cap(noun)} for {_cap(use)} - {_cap(a1)}"
        elif tmpl == 1:
            title = f"{brand} {_cap(noun)}, {_cap(a1)}, {mod} Design"
        elif tmpl == 2:
            title = f"{mod} {_cap(a1)} {_cap(noun)} by {brand}, {_cap(a2)}"
        else:
            title = f"{brand} {_cap(a2)} {_cap(noun)} - {mod}, {_cap(a1)} for {_cap(use)}"
        if r[6] % 3 == 0:
            title += f", {_pick(('1 Pack', '2 Pack', '3 Pack', 'Set of 2', 'Value Pack'), r[7])}"
        if title in seen_titles:
            k = 2
            while f"{title} (Model {_ASIN_CHARS[r[8] % 26 + 10]}{k * 7 + r[9] % 7})" in seen_titles:
                k += 1
            title = f"{title} (Model {_ASIN_CHARS[r[8] % 26 + 10]}{k * 7 + r[9] % 7})"
        seen_titles.add(title)

        fill = {
            "brand": brand,
            "noun": noun,
            "attr": a1,
            "attr2": a2,
            "use": use,
            "material": material,
            "ATTR": a1.upper(),
            "ATTR2": a2.upper(),
            "USE": use.upper(),
        }
        dt = wb.DESCRIPTION_TEMPLATES
        d_start = r[10] % len(dt)
        n_sent = 3 + r[11] % 3
        description = " ".join(dt[(d_start + k) % len(dt)].format_map(fill) for k in range(n_sent))
        if len(attrs) > 2:
            description += f" Also: {', '.join(attrs[2:])}."
        bt = wb.BULLET_TEMPLATES
        b_start = r[12] % len(bt)
        bullets = tuple(bt[(b_start + k) % len(bt)].format_map(fill) for k in range(4 + r[13] % 2))

        lo, hi = pt.price
        price = round(lo + (hi - lo) * price_u[i] ** 1.5, 2)
        price = max(0.99, round(price - (price % 1) + 0.99, 2) if r[14] % 2 else price)
        rating = None if rating_u[i] < 0.08 else round(3.0 + 2.0 * rating_u[i], 1)
        reviews = []
        for k in range(r[15] % 4):
            score = 1 + (r[16 + k] % 5) if rating is None else int(min(5, max(1, rating + 0.5)))
            if k == 2:
                score = 1 + r[19] % 5
            reviews.append(
                Review(
                    score,
                    _pick(wb.REVIEW_TITLES[score], r[20 + k]),
                    _pick(wb.REVIEW_BODIES[score], r[23] + k).format(noun=noun),
                )
            )

        asin = asins[i]
        while asin in seen_asins:  # astronomically rare; deterministic repair
            asin = asin[:-1] + _ASIN_CHARS[(_ASIN_CHARS.index(asin[-1]) + 1) % 36]
        seen_asins.add(asin)
        products.append(
            Product(
                asin=asin,
                name=title,
                category=cat,
                product_category=pt.breadcrumb,
                query=pt.query,
                attributes=attrs,
                options=tuple(options),
                price=price,
                price_tag=format_price(price),
                bullet_points=bullets,
                description=description,
                rating=rating,
                reviews=tuple(reviews),
            )
        )
    return Catalog(products, key=f"generated:{n}:{int(seed)}")
