"""Loader for the original WebShop data files.

Given a directory holding WebShop's files (as downloaded by its
``setup.sh``), :func:`load_webshop_dir` builds the same :class:`Catalog` and
goal list the synthetic generator makes, following WebShop's
``load_products``, ``get_human_goals`` and ``get_synthetic_goals``:

* ``items_shuffle.json`` (else the first ``items_shuffle*.json``, e.g.
  ``items_shuffle_1000.json``): the products. asins that are "nan", longer than
  10 characters or repeated are skipped. ``pricing`` "$a" or "$a$b" gives the
  price ``a`` or a seeded uniform draw in ``[a, b]`` (WebShop draws with
  ``random.uniform``); no pricing gives $100. Option values are stripped,
  lower-cased and "/" becomes " | ".
* ``items_ins_v2.json`` (else the first ``items_ins_v2*.json``): each asin's
  ``attributes`` (``["DUMMY_ATTR"]`` when missing, as WebShop) and, for
  synthetic goals, its ``instruction`` and ``instruction_attributes``.
* ``items_human_ins.json`` (optional): human instructions. When present, goals
  are the human ones (options: a list of values); otherwise synthetic goals are
  made for every option combination, option names in sorted order as WebShop
  (options: a dict; at most :data:`MAX_SYNTHETIC_COMBOS` per product). The
  reward compares the two kinds of options as WebShop does (see
  :mod:`~agentprm_gym.envs.webshop.reward`).

Goals get WebShop's price cap and are shuffled with the seed; the first 500
are ``test`` (see :func:`~agentprm_gym.envs.webshop.goals.split_sizes`).
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from agentprm_gym.envs.webshop.catalog import Catalog, Product, Review, format_price
from agentprm_gym.envs.webshop.goals import Goal, ListGoals, draw_price_cap, price_text

__all__ = ["load_webshop_dir", "find_data_files", "MAX_SYNTHETIC_COMBOS"]

#: Most option combinations turned into synthetic goals per product.
MAX_SYNTHETIC_COMBOS = 64
_PRICE_CHARS = re.compile(r"[^\d.]")


def _pick_file(d: Path, exact: str, pattern: str, required: bool) -> Path | None:
    p = d / exact
    if p.is_file():
        return p
    found = sorted(x for x in d.glob(pattern) if x.is_file())
    if found:
        return found[0]
    if required:
        raise FileNotFoundError(f"no {exact} (or {pattern}) in WebShop data_dir {str(d)!r}")
    return None


def find_data_files(data_dir: str | Path) -> dict[str, Path | None]:
    """The WebShop files used from ``data_dir``: keys products, attributes, human."""
    d = Path(data_dir).expanduser()
    if not d.is_dir():
        raise FileNotFoundError(f"WebShop data_dir {str(d)!r} is not a directory")
    return {
        "products": _pick_file(d, "items_shuffle.json", "items_shuffle*.json", True),
        "attributes": _pick_file(d, "items_ins_v2.json", "items_ins_v2*.json", True),
        "human": _pick_file(d, "items_human_ins.json", "items_human_ins*.json", False),
    }


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _parse_pricing(pricing: Any) -> list[float]:
    if not pricing:
        return [100.0]
    if isinstance(pricing, (int, float)):
        return [float(pricing)]
    vals = []
    for part in str(pricing).split("$")[1:]:
        s = _PRICE_CHARS.sub("", part)
        if s and s != ".":
            try:
                vals.append(float(s))
            except ValueError:
                continue
    return vals[:2] or [100.0]


def _reviews(raw: Any) -> tuple[Review, ...]:
    out = []
    for r in raw or []:
        if not isinstance(r, dict):
            continue
        score = r.get("score", r.get("stars", 0))
        try:
            score = int(round(float(score)))
        except (TypeError, ValueError):
            score = 0
        body = r.get("body", r.get("review", "")) or ""
        out.append(Review(score, str(r.get("title", "") or ""), str(body)))
    return tuple(out)


def _product(p: dict[str, Any], attrs: dict[str, Any], rng: np.random.Generator) -> Product:
    asin = str(p["asin"])
    pricing = _parse_pricing(p.get("pricing"))
    if len(pricing) == 1:
        price = pricing[0]
        tag = format_price(price)
    else:
        price = round(float(rng.uniform(pricing[0], pricing[1])), 2)
        tag = f"{format_price(pricing[0])} to {format_price(pricing[1])}"
    options: list[tuple[str, tuple[str, ...]]] = []
    for oname, contents in (p.get("customization_options") or {}).items():
        if not contents:
            continue
        vals = []
        for c in contents:
            v = c.get("value") if isinstance(c, dict) else c
            if v is None:
                continue
            v = str(v).strip().replace("/", " | ").lower()
            if v and v not in vals:
                vals.append(v)
        if vals:
            options.append((str(oname).lower(), tuple(vals)))
    bullets = p.get("small_description") or []
    if not isinstance(bullets, list):
        bullets = [bullets]
    a = attrs.get(asin) or {}
    attributes = tuple(a.get("attributes") or ["DUMMY_ATTR"])
    rating = p.get("average_rating", p.get("Rating"))
    try:
        rating = None if rating in (None, "", "N.A.") else float(rating)
    except (TypeError, ValueError):
        rating = None
    return Product(
        asin=asin,
        name=str(p.get("name") or p.get("Title") or ""),
        category=str(p.get("category") or ""),
        product_category=str(p.get("product_category") or ""),
        query=str(p.get("query") or "").lower().strip(),
        attributes=attributes,
        options=tuple(options),
        price=float(price),
        price_tag=tag,
        bullet_points=tuple(str(b) for b in bullets if b),
        description=str(p.get("full_description") or p.get("Description") or ""),
        rating=rating,
        reviews=_reviews(p.get("reviews") or p.get("Reviews")),
    )


def _goal(
    product: Product,
    text: str,
    attributes: list[str],
    options: tuple[tuple[str, str], ...],
    rng: np.random.Generator,
) -> Goal:
    cap = draw_price_cap(product.price, rng)
    return Goal(
        asin=product.asin,
        instruction=text.strip().strip(".") + price_text(cap),
        attributes=tuple(attributes),
        options=options,
        price_upper=cap,
        name=product.name,
        query=product.query,
        category=product.category,
        product_category=product.product_category,
    )


def _goal_options(raw: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(raw, dict):
        return tuple((str(k).lower(), str(v).lower()) for k, v in raw.items())
    return tuple(("", str(v).lower()) for v in raw or [])


def load_webshop_dir(
    data_dir: str | Path, num_products: int | None = None, seed: int = 0
) -> tuple[Catalog, ListGoals]:
    """Load WebShop's products and goals from ``data_dir``.

    Args:
        data_dir: Directory with WebShop's JSON files.
        num_products: Use only the first N products of the (already shuffled)
            product file, as WebShop's ``num_products``; None for all.
        seed: Seed of price draws, price caps and the goal shuffle.

    Returns:
        ``(catalog, goals)``.

    Raises:
        FileNotFoundError: If the directory or a required file is missing.
        ValueError: If the files hold no usable product or goal.
    """
    files = find_data_files(data_dir)
    raw_products = _read_json(files["products"])
    attrs = _read_json(files["attributes"])
    human = _read_json(files["human"]) if files["human"] is not None else None
    if num_products is not None:
        raw_products = raw_products[: int(num_products)]
    rng = np.random.default_rng([int(seed), 0xDA7A])
    products: list[Product] = []
    seen: set[str] = set()
    for p in raw_products:
        asin = str(p.get("asin", "nan"))
        if asin == "nan" or len(asin) > 10 or asin.lower() in seen:
            continue
        seen.add(asin.lower())
        products.append(_product(p, attrs, rng))
    if not products:
        raise ValueError(f"no usable product in {files['products']}")
    stamp = "-".join(
        f"{f.stat().st_size}:{int(f.stat().st_mtime)}" for f in files.values() if f is not None
    )
    key = f"webshop-dir:{Path(data_dir).expanduser().resolve()}:{num_products}:{seed}:{stamp}"
    catalog = Catalog(products, key=key)

    goals: list[Goal] = []
    if human:
        for prod in products:
            for ins in human.get(prod.asin, []) or []:
                attributes = list(ins.get("instruction_attributes") or [])
                if not attributes or not ins.get("instruction"):
                    continue
                opts = _goal_options(ins.get("instruction_options"))
                goals.append(_goal(prod, ins["instruction"], attributes, opts, rng))
    else:
        for prod in products:
            a = attrs.get(prod.asin) or {}
            text = a.get("instruction")
            attributes = list(a.get("instruction_attributes") or [])
            if not text or not attributes:
                continue
            # WebShop's get_synthetic_goals walks the option names in sorted order
            opts_by_name = dict(prod.options)
            names = sorted(opts_by_name)
            combos = itertools.islice(
                itertools.product(*(opts_by_name[n] for n in names)), MAX_SYNTHETIC_COMBOS
            )
            for combo in combos:
                opts = tuple(zip(names, combo))
                opt_text = ", and ".join(f"{n}: {v}" for n, v in opts)
                full = text.strip().strip(".") + (f" with {opt_text}" if opt_text else "")
                goals.append(_goal(prod, full, attributes, opts, rng))
    if not goals:
        raise ValueError(f"no goals could be made from the files in {str(data_dir)!r}")
    order = rng.permutation(len(goals))
    return catalog, ListGoals([goals[int(i)] for i in order])
