"""WebShop reward parity: our ``get_reward`` against WebShop's own on catalog purchases.

Compares :func:`agentprm_gym.envs.webshop.reward.get_reward` with reference
rewards recorded from WebShop's ``web_agent_site/engine/goal.py`` on random
purchases in the default generated catalog (10,000 products, catalog seed 0):

* a case is a goal (uniform over the catalog's 10,000 goals), a bought product
  (a third of the cases the goal's product, a third another product of the same
  query, a third any product), the option values chosen on its item page (per
  option: the goal's value when the product offers it and a coin says so, else
  a random value, or none 10% of the time) and its price; in a quarter of the
  cases the goal keeps only its option values, without names (as WebShop's
  human goals, whose options are a list), which WebShop matches differently
  from named options (a dict);
* ``--export FILE`` writes the cases with the product and goal as WebShop's
  dicts (``query``, ``product_category``, ``name``, ``Title``, ``Attributes``,
  ``BulletPoints``, ``Description``; ``goal_options`` as a dict for named
  options), the input the original's ``get_reward(purchased, goal, price,
  options, verbose=True)`` takes;
* the reference file (default ``benchmarks/data/webshop_reward_reference.json``)
  holds the same cases with the original's reward, r_type and title score; its
  ``meta`` says how it was recorded (the original code and library versions);
* by default the script recomputes every case with our reward and prints the
  share of cases whose reward is within 0.01 of the original's (and exactly
  equal, and with the same r_type), then the cases that disagree.

Usage::

    python benchmarks/webshop_reward_parity.py                       # compare (rules tagger)
    python benchmarks/webshop_reward_parity.py --tagger spacy        # needs spaCy + model
    python benchmarks/webshop_reward_parity.py --export cases.json --cases 2000 --seed 0

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from agentprm_gym.envs.webshop.catalog import Catalog, Product, generate_catalog
from agentprm_gym.envs.webshop.goals import GeneratedGoals, Goal
from agentprm_gym.envs.webshop.reward import get_reward
from agentprm_gym.envs.webshop.type_words import TAGGERS, type_words_fn

__all__ = [
    "sample_cases",
    "case_goal",
    "webshop_product",
    "webshop_goal",
    "catalog_digest",
    "compare",
    "main",
]

DEFAULT_REFERENCE = Path(__file__).parent / "data" / "webshop_reward_reference.json"
NUM_PRODUCTS = 10_000
CATALOG_SEED = 0
TOLERANCE = 0.01


def catalog_digest(catalog: Catalog) -> str:
    """A digest of every product's fields (the reference is only valid for the same catalog)."""
    h = hashlib.sha256()
    for p in catalog.products:
        h.update(repr((p.asin, p.name, p.attributes, p.options, p.price)).encode())
        h.update(repr((p.bullet_points, p.description, p.query, p.product_category)).encode())
    return h.hexdigest()[:16]


def sample_cases(catalog: Catalog, goals: GeneratedGoals, n: int, seed: int) -> list[dict]:
    """``n`` random purchases: goal index, bought asin, chosen options, price."""
    rng = np.random.default_rng([seed, 0x9A817])
    by_query: dict[str, list[int]] = {}
    for i, p in enumerate(catalog.products):
        by_query.setdefault(p.query, []).append(i)
    cases = []
    for _ in range(n):
        gi = int(rng.integers(len(goals)))
        goal = goals.goal(gi)
        kind = int(rng.integers(3))
        if kind == 0:
            product = catalog.by_asin(goal.asin)
        elif kind == 1:
            pool = by_query[goal.query]
            product = catalog[pool[int(rng.integers(len(pool)))]]
        else:
            product = catalog[int(rng.integers(len(catalog)))]
        assert product is not None
        wanted = dict(goal.options)
        chosen: dict[str, str] = {}
        for name, values in product.options:
            u = rng.random()
            if u < 0.1:
                continue
            if wanted.get(name) in values and u < 0.55:
                chosen[name] = wanted[name]
            else:
                chosen[name] = values[int(rng.integers(len(values)))]
        cases.append(
            {
                "goal": gi,
                "named_options": bool(rng.random() >= 0.25),
                "asin": product.asin,
                "kind": ("goal product", "same query", "any product")[kind],
                "options": chosen,
                "price": product.price,
            }
        )
    return cases


def case_goal(goals: GeneratedGoals, case: dict[str, Any]) -> Goal:
    """The case's goal: the catalog goal, its option names dropped unless ``named_options``."""
    goal = goals.goal(case["goal"])
    if case["named_options"]:
        return goal
    return goal._replace(options=tuple(("", v) for _, v in goal.options))


def webshop_product(p: Product) -> dict[str, Any]:
    """The product as the dict WebShop's ``get_reward`` reads."""
    return {
        "asin": p.asin,
        "query": p.query,
        "product_category": p.product_category,
        "name": p.name,
        "Title": p.name,
        "Attributes": list(p.attributes),
        "BulletPoints": list(p.bullet_points),
        "Description": p.description,
    }


def webshop_goal(g: Goal) -> dict[str, Any]:
    """The goal as WebShop's goal dict (named options as a dict, unnamed as a list)."""
    named = any(name for name, _ in g.options)
    return {
        "asin": g.asin,
        "query": g.query,
        "product_category": g.product_category,
        "name": g.name,
        "attributes": list(g.attributes),
        "goal_options": dict(g.options) if named else [v for _, v in g.options],
        "price_upper": g.price_upper,
        "instruction_text": g.instruction,
    }


def _shop() -> tuple[Catalog, GeneratedGoals]:
    catalog = generate_catalog(NUM_PRODUCTS, CATALOG_SEED)
    return catalog, GeneratedGoals(catalog, CATALOG_SEED)


def export(path: Path, n: int, seed: int) -> None:
    """Write ``n`` cases with WebShop's dicts to ``path`` (input for the original's reward)."""
    catalog, goals = _shop()
    cases = sample_cases(catalog, goals, n, seed)
    for c in cases:
        product = catalog.by_asin(c["asin"])
        assert product is not None
        c["purchased"] = webshop_product(product)
        c["goal_dict"] = webshop_goal(case_goal(goals, c))
    meta = {
        "catalog": catalog.key,
        "catalog_digest": catalog_digest(catalog),
        "cases": n,
        "seed": seed,
    }
    path.write_text(json.dumps({"meta": meta, "cases": cases}), encoding="utf-8")


def compare(
    reference: dict[str, Any],
    tagger: str = "rules",
    show: int = 10,
    spacy_model: str = "en_core_web_sm",
) -> dict[str, Any]:
    """Our reward on every reference case against the recorded one.

    Raises:
        ValueError: If the reference was recorded on another catalog.
    """
    catalog, goals = _shop()
    meta = reference["meta"]
    if meta.get("catalog_digest") != catalog_digest(catalog):
        raise ValueError(
            "the reference was recorded on another catalog (digest "
            f"{meta.get('catalog_digest')} != {catalog_digest(catalog)}): record it again"
        )
    type_words = type_words_fn(tagger, spacy_model)
    within = exact = same_type = 0
    bad: list[dict[str, Any]] = []
    by_kind: dict[str, list[int]] = {}
    for c in reference["cases"]:
        product = catalog.by_asin(c["asin"])
        assert product is not None
        goal = case_goal(goals, c)
        r = get_reward(product, goal, c["price"], list(c["options"].values()), type_words)
        ref = c["reference"]
        ok = abs(r.reward - ref["reward"]) <= TOLERANCE
        within += ok
        exact += r.reward == ref["reward"]
        same_type += r.r_type == ref["r_type"]
        tally = by_kind.setdefault(c["kind"], [0, 0])
        tally[0] += ok
        tally[1] += 1
        if not ok:
            bad.append(
                {
                    "goal_title": goal.name,
                    "bought_title": product.name,
                    "ours": round(r.reward, 4),
                    "original": round(ref["reward"], 4),
                    "ours_title_score": round(r.title_score, 4),
                    "original_title_score": round(ref["title_score"], 4),
                }
            )
    cases = reference["cases"]
    n = len(cases)
    return {
        "tagger": tagger if tagger == "rules" else f"{tagger} ({spacy_model})",
        "cases": n,
        "agree_within_0.01": round(within / n, 4),
        "agree_exactly": round(exact / n, 4),
        "same_r_type": round(same_type / n, 4),
        "by_kind": {k: round(v[0] / v[1], 4) for k, v in sorted(by_kind.items())},
        "mean_reward_original": round(sum(c["reference"]["reward"] for c in cases) / n, 4),
        "disagreements": bad[:show],
        "reference": meta.get("recorded_with", ""),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    ap.add_argument("--tagger", choices=TAGGERS, default="rules")
    ap.add_argument("--spacy-model", default="en_core_web_sm", help="model for --tagger spacy")
    ap.add_argument("--show", type=int, default=10, help="disagreements to print")
    ap.add_argument("--export", type=Path, help="write cases with WebShop's dicts and exit")
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.export is not None:
        export(args.export, args.cases, args.seed)
        print(f"wrote {args.cases} cases to {args.export}")
        return 0
    try:
        reference = json.loads(args.reference.read_text(encoding="utf-8"))
        out = compare(reference, args.tagger, args.show, args.spacy_model)
    except (OSError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for d in out["disagreements"]:
        print(
            f"ours {d['ours']:.4f} original {d['original']:.4f} "
            f"(title score {d['ours_title_score']:.3f} vs {d['original_title_score']:.3f}): "
            f"goal {d['goal_title']!r}, bought {d['bought_title']!r}"
        )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
