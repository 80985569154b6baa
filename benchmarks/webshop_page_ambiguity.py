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

``--pairs`` looks instead at the pairs ``eval-prm`` ranks (same seed, same
draws) where the expert opens one listed product and the other action opens
another: what separates the other product from the goal? It is worth 1.0
too (the expert prefers its own product only because it is the goal), or its
best buy is over the instruction's price cap (the page shows the price), of
the wrong type, short of a goal attribute (WebShop lists attributes on the
item page, not the results page) or of a goal option (item page only). With
``--prm DIR`` each group also gets the PRM's share of pairs won, so a PRM that
loses pairs the page decides (the price) can be told from one that loses pairs
no page reader could win. Beside it, for scale, the share won by two rules
that read only the page and the instruction's price cap: a product under the
cap beats one over it, and otherwise the one listed higher wins.

``--probe`` (with ``--prm``) asks what the PRM's value of opening the other
product rests on: for each such pair (``--max-pairs`` at most) it edits the
page and scores the action again, reporting the mean change of ``Q`` per edit.
The edits: the product's price set far over the cap ($9999.00) or near nothing
($0.01); its title swapped for an unrelated one; the product's whole entry (id,
title, price) moved to the top or the bottom of the list (pairs whose product
is there already are not counted for that edit); and its id renamed to another
of the same shape wherever the PRM could read it (the page, the action and the
earlier turns of the history). A PRM that reads what a product is, not which
training product it was, should not move under the last.

``--returns`` reads the policy's own steps instead (a training file is
meant): after each time it opened a listed product, the episode's final
reward, by the product's rank on the page and by its price against the cap.
That is what the returns behind the labels say about rank and price.

The last line is one JSON object. Run (about a minute for the README's 400
held-out WebShop episodes)::

    .venv/bin/python benchmarks/webshop_page_ambiguity.py --data runs/ws-test.jsonl
    .venv/bin/python benchmarks/webshop_page_ambiguity.py --data runs/ws-test.jsonl \\
        --pairs --prm runs/paper/agentprm
    .venv/bin/python benchmarks/webshop_page_ambiguity.py --data runs/ws-test.jsonl \\
        --probe --prm runs/paper/agentprm
    .venv/bin/python benchmarks/webshop_page_ambiguity.py --data runs/ws.jsonl --returns
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = [
    "best_buy",
    "best_reward",
    "page_ambiguity",
    "page_rules_pick",
    "renamed_id",
    "result_pairs",
    "result_probe",
    "returns_by_rank",
    "main",
]

_RESULT = re.compile(r"click\[(b0\w{8})\]", re.I)
_LEAVE = ("click[next >]", "click[back to search]", "click[< prev]")


def best_buy(product: Any, goal: Any, max_combos: int = 2000) -> Any:
    """The reward (with its parts) of the best way to buy ``product`` at its price for ``goal``.

    Every combination of one value per option is tried (at most ``max_combos``;
    a product with more is searched only that far, so the figure is then a
    lower bound).

    Args:
        product: A catalog product.
        goal: The task's goal.
        max_combos: Option combinations tried.

    Returns:
        The :class:`~agentprm_gym.envs.webshop.reward.RewardResult` of the highest
        reward found (the first of equals).
    """
    from agentprm_gym.envs.webshop.reward import get_reward

    choices = [values or (None,) for _, values in product.options] or [(None,)]
    best = None
    for k, combo in enumerate(itertools.product(*choices)):
        if k >= max_combos:
            break
        chosen = [v for v in combo if v is not None]
        r = get_reward(product, goal, product.price, chosen)
        if best is None or r.reward > best.reward:
            best = r
    return best


def best_reward(product: Any, goal: Any, max_combos: int = 2000) -> float:
    """The best reward buying ``product`` at its price can earn for ``goal`` (:func:`best_buy`)."""
    return float(best_buy(product, goal, max_combos).reward)


def _check_env(tr: Any, data: str) -> None:
    """Refuse a trajectory of another env than WebShop."""
    if tr.env_id != "AgentPRM/WebShop-v0":
        raise ValueError(f"{data}: an episode of {tr.env_id}, not AgentPRM/WebShop-v0")


def _result_choices(episodes: list[Any], seed: int) -> Any:
    """The ranked pairs (``ranking_choices``, same draws) where both actions open a listed
    product: ``(choice, expert's product id, other's product id)``."""
    from agentprm_gym.prm.metrics import ranking_choices

    for c in ranking_choices(episodes, seed):
        a, b = _RESULT.fullmatch(c.expert), _RESULT.fullmatch(c.other)
        if a is not None and b is not None:
            yield c, a.group(1), b.group(1)


def _goal(shop: Any, tr: Any, data: str) -> Any:
    """The goal of a trajectory's task in ``shop``, checked against the file.

    Raises:
        ValueError: For an episode of another env, or whose split, task id or
            instruction is not one of this shop's tasks.
    """
    _check_env(tr, data)
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
    return goal


#: What separates the other product of a result pair from the goal, tested in this order:
#: it earns the full reward too (only the data policy's goal tells them apart), or its best
#: buy is over the price cap, of another type, short of a goal attribute, or of an option.
REASONS = (
    "also worth 1.0",
    "over the price cap",
    "wrong type",
    "lacks an attribute",
    "lacks an option",
)


def _reason(r: Any) -> str:
    """The :data:`REASONS` entry of a best buy's reward parts."""
    if r.reward >= 1.0 - 1e-9:
        return REASONS[0]
    if r.r_price < 1.0:
        return REASONS[1]
    if r.r_type < 1.0:
        return REASONS[2]
    if r.r_att < 1.0:
        return REASONS[3]
    return REASONS[4]


_PRICE = re.compile(r"\$\s*([0-9][0-9,]*(?:\.[0-9]+)?)")
_SEP = " [SEP] "


def _entry(parts: list[str], asin: str) -> int:
    """Index of the ``[SEP]`` part that is the product id ``asin`` (any case), or -1."""
    want = asin.lower()
    return next((k for k, p in enumerate(parts) if p.strip().lower() == want), -1)


def _listed_price(parts: list[str], at: int) -> float | None:
    """The price of the product whose id is ``parts[at]``: the first ``$`` amount of its
    price part (two parts on: id, title, price; a range counts by its low end), or None."""
    if at < 0 or at + 2 >= len(parts):
        return None
    m = _PRICE.match(parts[at + 2].strip())
    return None if m is None else float(m.group(1).replace(",", ""))


def page_rules_pick(observation: str, first: str, second: str, cap: float) -> float:
    """Which of two listed products two page-reading rules prefer: 1 first, 0 second, 0.5 tie.

    A product whose listed price (its entry's price part) is over ``cap`` loses to
    one under it; otherwise the one listed higher wins. A product missing from
    the page counts as listed last, and one without a price as under the cap.

    Args:
        observation: The results page (``[SEP]``-separated parts).
        first: The first action, ``click[ASIN]``.
        second: The second action.
        cap: The instruction's price cap.
    """
    from agentprm_gym.prm.segments import action_argument

    parts = observation.split(_SEP)

    def where(action: str) -> tuple[int, bool]:
        at = _entry(parts, action_argument(action))
        price = _listed_price(parts, at)
        return (len(parts) if at < 0 else at), price is not None and price > cap

    (a_at, a_over), (b_at, b_over) = where(first), where(second)
    if a_over != b_over:
        return 0.0 if a_over else 1.0
    return 1.0 if a_at < b_at else 0.0 if b_at < a_at else 0.5


def _as_prm(prm: Any) -> Any:
    """A PRM object as it is, or one built from a ``load_prm`` spec (a directory, ``random``)."""
    if not isinstance(prm, str | Path):
        return prm
    from agentprm_gym.prm.loading import load_prm

    return load_prm(prm)


def result_pairs(
    data: str, prm: Any = None, seed: int = 0, max_combos: int = 2000
) -> dict[str, dict[str, float | None]]:
    """The ranked pairs of two listed products, grouped by what separates the other from the goal.

    Args:
        data: Trajectory JSONL of ``AgentPRM/WebShop-v0`` episodes.
        prm: Also count the pairs this PRM wins (a PRM, or a directory or
            ``load_prm`` spec).
        seed: The pair-draw seed (``eval-prm --seed``).
        max_combos: Option combinations tried per product.

    Returns:
        ``{reason: {"pairs", "other_reward", "page_rules_wins", "prm_wins"}}`` in
        :data:`REASONS` order (reasons without pairs left out): the other product's
        mean best reward, the share of pairs :func:`page_rules_pick` gives the
        expert, and the PRM's share of the pairs won (a tie counts 0.5; None
        without ``prm``).

    Raises:
        ValueError: As :func:`page_ambiguity`, or if no ranked pair opens two
            listed products.
    """
    import gymnasium as gym

    import agentprm_gym  # noqa: F401  (registers the ids)
    from agentprm_gym.core.trajectory import read_trajectories
    from agentprm_gym.prm.metrics import pair_wins
    from agentprm_gym.prm.steps import episode_steps

    shop = gym.make("AgentPRM/WebShop-v0").unwrapped.shop
    episodes = episode_steps(read_trajectories(data))
    goals = [_goal(shop, e.trajectory, data) for e in episodes]
    chosen = []
    for c, expert, other in _result_choices(episodes, seed):
        product = shop.catalog.by_asin(other)
        if product is None or shop.catalog.by_asin(expert) is None:
            continue
        r = best_buy(product, goals[c.episode], max_combos)
        item = episodes[c.episode].items[c.step]
        rules = page_rules_pick(
            str(item.history[-1]), c.expert, c.other, goals[c.episode].price_upper
        )
        chosen.append((c, _reason(r), float(r.reward), rules))
    if not chosen:
        raise ValueError(f"{data}: no ranked pair of two listed products")
    wins = None
    if prm is not None:
        model = _as_prm(prm)
        items = [episodes[row[0].episode].items[row[0].step] for row in chosen]
        q = model.score(
            [it._replace(action=row[0].expert) for it, row in zip(items, chosen, strict=True)]
            + [it._replace(action=row[0].other) for it, row in zip(items, chosen, strict=True)]
        )
        wins = pair_wins(q[: len(chosen)], q[len(chosen) :])
    out: dict[str, dict[str, float | None]] = {}
    for reason in REASONS:
        at = [i for i, row in enumerate(chosen) if row[1] == reason]
        if at:
            out[reason] = {
                "pairs": len(at),
                "other_reward": sum(chosen[i][2] for i in at) / len(at),
                "page_rules_wins": sum(chosen[i][3] for i in at) / len(at),
                "prm_wins": None if wins is None else float(wins[at].mean()),
            }
    return out


#: The page edits of :func:`result_probe`, in order.
PROBES = (
    "price $9999.00",
    "price $0.01",
    "unrelated title",
    "moved to the top",
    "moved to the bottom",
    "id renamed",
)
_UNRELATED_TITLE = "Garden Hose, 50 ft, Heavy Duty"


def _entries(parts: list[str]) -> list[int]:
    """Positions of the listed products' ids among a page's ``[SEP]`` parts."""
    return [k for k, p in enumerate(parts) if _RESULT.fullmatch(f"click[{p.strip()}]")]


def renamed_id(asin: str) -> str:
    """Another id of the same shape: after the leading ``B0``, letters rotated by 13 and
    digits by 5, case kept (``B0YAEH4KW4`` -> ``B0LNRU9XJ9``)."""

    def rot(ch: str) -> str:
        if ch.isascii() and ch.isdigit():
            return str((int(ch) + 5) % 10)
        if ch.isascii() and ch.isalpha():
            base = ord("a") if ch.islower() else ord("A")
            return chr(base + (ord(ch) - base + 13) % 26)
        return ch

    return asin[:2] + "".join(rot(ch) for ch in asin[2:])


def _with_renamed_id(text: str, asin: str) -> str:
    """``text`` with every whole-word ``asin`` (any case) replaced by its :func:`renamed_id`."""
    word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(asin)}(?![A-Za-z0-9])", re.I)
    return word.sub(lambda m: renamed_id(m.group(0)), text)


def _renamed_history(history: tuple[Any, ...], asin: str) -> tuple[Any, ...]:
    """A score item's history (past ``(observation, action)`` pairs, then the current
    observation) with ``asin`` renamed in every text (:func:`_with_renamed_id`)."""
    return tuple(
        tuple(_with_renamed_id(str(x), asin) for x in h)
        if isinstance(h, tuple | list)
        else _with_renamed_id(str(h), asin)
        for h in history
    )


def _edits(parts: list[str], at: int) -> list[list[str]]:
    """The page edits of :data:`PROBES` (all but the last) of the product whose id is ``parts[at]``.

    Every listed product is three parts (id, title, price), and nothing follows
    the last one (a WebShop results page). Moving the first product to the top
    or the last to the bottom leaves the page as it is.
    """
    ids = _entries(parts)
    entry, rest = parts[at : at + 3], parts[:at] + parts[at + 3 :]
    last = ids[-1] - (3 if ids[-1] > at else 0)  # the last entry's id, in ``rest``
    out = []
    for k, text in ((2, "$9999.00"), (2, "$0.01"), (1, _UNRELATED_TITLE)):
        edited = list(parts)
        edited[at + k] = text
        out.append(edited)
    out.append(rest[: ids[0]] + entry + rest[ids[0] :])
    out.append(rest[: last + 3] + entry + rest[last + 3 :])
    return out


def result_probe(
    data: str, prm: Any, seed: int = 0, max_pairs: int | None = None
) -> dict[str, dict[str, float | None]]:
    """How the PRM's ``Q`` of opening the other product of a result pair moves under page edits.

    Args:
        data: Trajectory JSONL of ``AgentPRM/WebShop-v0`` episodes.
        prm: The PRM (a PRM, or a directory or ``load_prm`` spec).
        seed: The pair-draw seed (``eval-prm --seed``).
        max_pairs: Probe at most this many pairs (the first ones).

    Returns:
        ``{edit: {"pairs", "mean_change", "mean_abs_change"}}`` in :data:`PROBES`
        order. The last edit, the id renamed, changes the action and the earlier
        turns too; the others change the page only. An edit that leaves a page
        as it is (moving the first product to the top, the last to the bottom)
        is not counted for that pair, so the edits' pair counts may differ
        (means are None without pairs). Pairs whose page does not list the
        product as an id, a title and a price are skipped.

    Raises:
        ValueError: For episodes of another env, or if no pair could be probed.
    """
    from agentprm_gym.core.trajectory import read_trajectories
    from agentprm_gym.prm.steps import episode_steps

    episodes = episode_steps(read_trajectories(data))
    for e in episodes:
        _check_env(e.trajectory, data)
    model = _as_prm(prm)
    changes: list[list[float]] = [[] for _ in PROBES]
    done = 0
    for c, _, other in _result_choices(episodes, seed):
        if max_pairs is not None and done >= max_pairs:
            break
        item = episodes[c.episode].items[c.step]
        parts = str(item.history[-1]).split(_SEP)
        at = _entry(parts, other)
        if _listed_price(parts, at) is None:
            continue
        pages = [parts, *_edits(parts, at)]
        items = [
            item._replace(history=(*item.history[:-1], _SEP.join(p)), action=c.other) for p in pages
        ]
        # the last edit renames the product's id wherever the PRM could read it: the
        # page, the action and the earlier turns of the history
        asin = parts[at].strip()
        items.append(
            item._replace(
                history=_renamed_history(item.history, asin),
                action=_with_renamed_id(c.other, asin),
            )
        )
        q = model.score(items)
        moved = [p != parts for p in pages[1:]] + [True]  # a renamed id always differs
        for k in range(len(PROBES)):
            if moved[k]:
                changes[k].append(float(q[k + 1] - q[0]))
        done += 1
    if not done:
        raise ValueError(f"{data}: no ranked pair of two listed products to probe")
    return {
        name: {
            "pairs": len(v),
            "mean_change": sum(v) / len(v) if v else None,
            "mean_abs_change": sum(abs(x) for x in v) / len(v) if v else None,
        }
        for name, v in zip(PROBES, changes, strict=True)
    }


def returns_by_rank(data: str) -> list[dict[str, Any]]:
    """The final reward after the policy opens a listed product, by rank and price vs cap.

    Args:
        data: Trajectory JSONL of ``AgentPRM/WebShop-v0`` episodes (the
            instruction states the price cap: "lower than X dollars").

    Returns:
        One row per rank on its page (the strings "0", "1", "2", "3", then "4+"):
        ``{"rank", "under_cap", "under_cap_reward", "over_cap", "over_cap_reward"}``,
        the number of times the policy opened a product of that rank under / over
        the cap (its entry's price) and the mean final reward of those episodes
        (None where there are none).

    Raises:
        ValueError: For a file of another env, or one where the policy never opens
            a listed product with a price under an instruction with a price cap.
    """
    from agentprm_gym.core.trajectory import read_trajectories

    cap_of = re.compile(r"lower than ([0-9][0-9,]*(?:\.[0-9]+)?) dollars")
    sums: dict[str, list[float]] = {k: [0, 0.0, 0, 0.0] for k in ("0", "1", "2", "3", "4+")}
    for tr in read_trajectories(data):
        _check_env(tr, data)
        cap = cap_of.search(tr.instruction)
        if cap is None:
            continue
        limit = float(cap.group(1).replace(",", ""))
        final = sum(s.reward for s in tr.steps)
        for s in tr.steps:
            m = _RESULT.fullmatch(s.action)
            if m is None:
                continue
            parts = s.observation.split(_SEP)
            at = _entry(parts, m.group(1))
            price = _listed_price(parts, at)
            if price is None:
                continue
            rank = _entries(parts).index(at)
            acc = sums[str(rank) if rank < 4 else "4+"]
            k = 2 if price > limit else 0
            acc[k] += 1
            acc[k + 1] += final
    if not any(n_u + n_o for n_u, _, n_o, _ in sums.values()):
        raise ValueError(f"{data}: the policy never opens a listed product with a price")
    return [
        {
            "rank": rank,
            "under_cap": int(n_u),
            "under_cap_reward": r_u / n_u if n_u else None,
            "over_cap": int(n_o),
            "over_cap_reward": r_o / n_o if n_o else None,
        }
        for rank, (n_u, r_u, n_o, r_o) in sums.items()
    ]


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
        goal = _goal(shop, tr, data)
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
    ap.add_argument(
        "--max-combos",
        type=int,
        default=None,
        help="pages, --pairs: option combinations tried per product (2000)",
    )
    ap.add_argument(
        "--pairs",
        action="store_true",
        help="the ranked pairs of two listed products, by what separates the other from the goal",
    )
    ap.add_argument(
        "--probe",
        action="store_true",
        help="with --prm: how the PRM's Q of opening the other product moves under page edits",
    )
    ap.add_argument(
        "--returns",
        action="store_true",
        help="the final reward after the policy opens a product, by rank and price vs cap",
    )
    ap.add_argument(
        "--prm", default=None, help="with --pairs: also count this PRM's wins; --probe: the PRM"
    )
    ap.add_argument("--seed", type=int, default=None, help="--pairs, --probe: pair-draw seed (0)")
    ap.add_argument(
        "--max-pairs", type=int, default=None, help="--probe: probe at most N pairs (all)"
    )
    args = ap.parse_args(argv)
    if args.pairs + args.probe + args.returns > 1:
        ap.error("--pairs, --probe and --returns are separate reports: give one")
    if args.max_combos is not None and (args.probe or args.returns):
        ap.error("--max-combos is for the pages report and --pairs")
    if args.seed is not None and not (args.pairs or args.probe):
        ap.error("--seed is for --pairs and --probe")
    if args.max_pairs is not None and not args.probe:
        ap.error("--max-pairs is for --probe")
    if args.prm is not None and not (args.pairs or args.probe):
        ap.error("--prm needs --pairs or --probe")
    if args.probe and args.prm is None:
        ap.error("--probe needs --prm")
    if args.max_combos is not None and args.max_combos < 1:
        ap.error("--max-combos must be at least 1")
    if args.max_pairs is not None and args.max_pairs < 1:
        ap.error("--max-pairs must be at least 1")
    args.max_combos = 2000 if args.max_combos is None else args.max_combos
    args.seed = 0 if args.seed is None else args.seed
    try:
        if args.pairs:
            res: Any = result_pairs(args.data, args.prm, args.seed, args.max_combos)
        elif args.probe:
            res = result_probe(args.data, args.prm, args.seed, args.max_pairs)
        elif args.returns:
            res = returns_by_rank(args.data)
        else:
            res = page_ambiguity(args.data, args.max_combos)
    except (OSError, ValueError, KeyError) as e:
        print(f"webshop_page_ambiguity: {e}", file=sys.stderr)
        return 2
    if args.pairs:
        _print_pairs(res)
        line = {"data": args.data, "prm": args.prm, "pairs": res}
    elif args.probe:
        _print_probe(res)
        line = {"data": args.data, "prm": args.prm, "probe": res}
    elif args.returns:
        _print_returns(res)
        line = {"data": args.data, "returns": res}
    else:
        _print_pages(res)
        line = {"data": args.data, "kinds": res}
    print(json.dumps(line))
    return 0


def _print_pages(res: dict[str, dict[str, float]]) -> None:
    """The table of :func:`page_ambiguity`."""
    head = f"{'pages':>6s} {'lists a 1.0 product':>20s} {'how many':>9s} {'best':>6s}"
    print(f"{'expert action':24s} {head}")
    for k, r in res.items():
        print(
            f"{k:24s} {r['pages']:6d} {r['with_full_reward']:20.3f} "
            f"{r['full_reward_products']:9.2f} {r['best_reward']:6.3f}"
        )


def _print_pairs(res: dict[str, dict[str, Any]]) -> None:
    """The table of :func:`result_pairs`."""
    head = f"{'pairs':>6s} {'its best reward':>16s} {'page rules win':>15s} {'PRM wins':>9s}"
    print(f"{'the other product':22s} {head}")
    for k, r in res.items():
        won = "" if r["prm_wins"] is None else f"{r['prm_wins']:.3f}"
        print(
            f"{k:22s} {r['pairs']:6d} {r['other_reward']:16.3f} "
            f"{r['page_rules_wins']:15.3f} {won:>9s}"
        )


def _print_probe(res: dict[str, dict[str, Any]]) -> None:
    """The table of :func:`result_probe`."""
    print(f"{'edit of the other product':26s} {'pairs':>6s} {'mean dQ':>9s} {'mean |dQ|':>10s}")
    for k, r in res.items():
        if r["mean_change"] is None:
            print(f"{k:26s} {r['pairs']:6d}")
            continue
        print(f"{k:26s} {r['pairs']:6d} {r['mean_change']:+9.4f} {r['mean_abs_change']:10.4f}")


def _print_returns(rows: list[dict[str, Any]]) -> None:
    """The table of :func:`returns_by_rank`."""

    def fmt(x: float | None) -> str:
        return "" if x is None else f"{x:.3f}"

    reward = f"{'final reward':>13s}"
    print(f"{'rank':>4s} {'under cap':>10s} {reward} {'over cap':>9s} {reward}")
    for r in rows:
        print(
            f"{r['rank']:>4s} {r['under_cap']:10d} {fmt(r['under_cap_reward']):>13s} "
            f"{r['over_cap']:9d} {fmt(r['over_cap_reward']):>13s}"
        )


if __name__ == "__main__":
    sys.exit(main())
