"""On the WebShop pages where the expert leaves, could a page reader tell that it should?

The ``noisy:EPS`` data policy is a privileged expert: it knows the goal product
(one ASIN) and pages on (``next >``) or searches again (``back to search``)
until that product is listed, though another listed product may earn the same
reward. Its ``Q^π``, and so the ranking ceiling ``ranking_ceiling.py``
estimates, depend on which product is the goal. A PRM reads the instruction and
the page, not the goal's ASIN.

For every results page of a trajectory file that has a recorded expert action,
this script looks (with the env's privileged data) at the products listed on it
and computes, for each, the best reward buying it could earn: WebShop's
``get_reward`` at its listed price with the best choice of its options (every
combination tried, up to ``--max-combos``). Grouped by the expert's action at
the page, it reports how often the page lists a product worth the full reward
of 1.0, how many such products it lists on average, and the mean of the best
reward on the page. Where the expert pages on although the page lists a
product worth 1.0, leaving is right only because of *which* product the expert
is after, which the page does not show.

The last line is one JSON object. Run (about a minute for the README's 400
held-out WebShop episodes)::

    .venv/bin/python benchmarks/webshop_page_ambiguity.py --data runs/ws-test.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections import defaultdict
from typing import Any

__all__ = ["best_reward", "page_ambiguity", "main"]

_RESULT = re.compile(r"click\[(b0\w{8})\]", re.I)
_LEAVE = ("click[next >]", "click[back to search]", "click[< prev]")


def best_reward(product: Any, goal: Any, max_combos: int = 2000) -> float:
    """The best reward buying ``product`` at its price can earn for ``goal``.

    Every combination of one value per option is tried (at most ``max_combos``;
    a product with more is searched only that far, so the figure is then a
    lower bound).

    Args:
        product: A catalog product.
        goal: The task's goal.
        max_combos: Option combinations tried.

    Returns:
        The highest ``get_reward`` found, in [0, 1].
    """
    from agentprm_gym.envs.webshop.reward import get_reward

    choices = [values or (None,) for _, values in product.options] or [(None,)]
    best = 0.0
    for k, combo in enumerate(itertools.product(*choices)):
        if k >= max_combos:
            break
        chosen = [v for v in combo if v is not None]
        best = max(best, get_reward(product, goal, product.price, chosen).reward)
    return best


def page_ambiguity(data: str, max_combos: int = 2000) -> dict[str, dict[str, float]]:
    """Per kind of expert action at WebShop results pages: what the listed products are worth.

    Args:
        data: Trajectory JSONL of ``AgentPRM/WebShop-v0`` episodes (each
            episode's recorded split and task id name its goal).
        max_combos: Option combinations tried per product.

    Returns:
        ``{kind: {"pages", "with_full_reward", "full_reward_products", "best_reward"}}``
        where ``kind`` is the leave action or ``result`` (the expert opens a listed
        product), ``with_full_reward`` the share of pages listing a product worth
        1.0, ``full_reward_products`` the mean number of such products over all
        the kind's pages (those listing none count 0) and ``best_reward`` the mean
        of the page's best. Pages whose admissible actions list no product are skipped.

    Raises:
        ValueError: For a file of another env, or an episode whose split, task id
            or instruction is not one of this shop's tasks.
    """
    import gymnasium as gym

    import agentprm_gym  # noqa: F401  (registers the ids)
    from agentprm_gym.core.trajectory import read_trajectories

    shop = gym.make("AgentPRM/WebShop-v0").unwrapped.shop
    worth: dict[tuple[str, int, str], float] = {}
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for tr in read_trajectories(data):
        if tr.env_id != "AgentPRM/WebShop-v0":
            raise ValueError(f"{data}: an episode of {tr.env_id}, not AgentPRM/WebShop-v0")
        if tr.split not in ("train", "test"):
            raise ValueError(f"{data}: an episode of split {tr.split!r}, not train or test")
        try:
            goal = shop.goals.get(tr.split, tr.task_id)
        except IndexError:
            raise ValueError(f"{data}: no {tr.split} task {tr.task_id} in this shop") from None
        if goal.instruction != tr.instruction:
            raise ValueError(
                f"{data}: {tr.split} task {tr.task_id} of this shop has another instruction "
                "(the file was collected with another shop?)"
            )
        for s in tr.steps:
            if s.expert_action is None or s.expert_action.startswith("search["):
                continue
            found = (_RESULT.fullmatch(a) for a in s.admissible_actions)
            asins = [m.group(1).lower() for m in found if m]
            if not asins:
                continue
            kind = s.expert_action if s.expert_action in _LEAVE else "result"
            values = []
            for asin in asins:
                key = (tr.split, tr.task_id, asin)
                if key not in worth:
                    product = shop.catalog.by_asin(asin)
                    worth[key] = 0.0 if product is None else best_reward(product, goal, max_combos)
                values.append(worth[key])
            full = sum(v >= 1.0 - 1e-9 for v in values)
            acc = sums[kind]
            acc[0] += 1
            acc[1] += full > 0
            acc[2] += full
            acc[3] += max(values)
    return {
        k: {
            "pages": int(n),
            "with_full_reward": has / n,
            "full_reward_products": count / n,
            "best_reward": best / n,
        }
        for k, (n, has, count, best) in sorted(sums.items(), key=lambda kv: -kv[1][0])
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True, help="WebShop trajectory JSONL file")
    ap.add_argument("--max-combos", type=int, default=2000, help="option combinations (2000)")
    args = ap.parse_args(argv)
    if args.max_combos < 1:
        ap.error("--max-combos must be at least 1")
    try:
        res = page_ambiguity(args.data, args.max_combos)
    except (OSError, ValueError, KeyError) as e:
        print(f"webshop_page_ambiguity: {e}", file=sys.stderr)
        return 2
    head = f"{'pages':>6s} {'lists a 1.0 product':>20s} {'how many':>9s} {'best':>6s}"
    print(f"{'expert action':24s} {head}")
    for k, r in res.items():
        print(
            f"{k:24s} {r['pages']:6d} {r['with_full_reward']:20.3f} "
            f"{r['full_reward_products']:9.2f} {r['best_reward']:6.3f}"
        )
    print(json.dumps({"data": args.data, "kinds": res}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
