"""The privileged WebShop expert: search, find the goal product, choose its options, buy.

The expert knows the goal product. From the search page it searches the query
derived from the instruction if that query's results contain the goal product,
else it refines the query to the goal product's title. On a results page it
pages (``next >`` / ``< prev``) to the goal product and opens it, or goes back
to search if the current query misses it. On the item page it clicks each goal
option value not yet chosen, then ``buy now``; from another product or a
sub-page it goes back. Buying the goal product with the goal options under the
cap gives reward 1.0.

Everything is a pure function of the shop data, goal and state, so the expert
can be asked at any point of any trajectory (``expert_steps_left`` counts
the same plan's remaining steps).
"""

from __future__ import annotations

from agentprm_gym.envs.webshop.catalog import Product
from agentprm_gym.envs.webshop.goals import Goal, instruction_query
from agentprm_gym.envs.webshop.pages import RESULTS_PER_PAGE
from agentprm_gym.envs.webshop.reward import MATCH_THRESHOLD, goal_option_items, option_score
from agentprm_gym.envs.webshop.shop_data import ShopData
from agentprm_gym.envs.webshop.state import ShopState

__all__ = ["expert_query", "expert_action", "expert_steps_left", "goal_option_clicks"]


def _clean(q: str) -> str:
    return " ".join(q.replace("[", " ").replace("]", " ").lower().split())


def expert_query(shop: ShopData, goal: Goal) -> str:
    """The query the expert searches: the instruction's, else the goal title."""
    q = _clean(instruction_query(goal.instruction))
    if q and shop.index.rank_of(q, goal.asin) is not None:
        return q
    return _clean(goal.name)


def goal_option_clicks(product: Product, goal: Goal) -> tuple[tuple[str, str], ...]:
    """``((option name, product value), ...)`` to click for the goal options.

    A goal value is matched to the product's value with the same text, else to
    the product's value with the best option score of the reward
    (:func:`~agentprm_gym.envs.webshop.reward.option_score`) above its
    threshold; goal values the product does not offer are skipped.
    """
    out = []
    items = goal_option_items(goal.options)
    for (gname, gval), item in zip(goal.options, items, strict=True):
        name = product.option_of(gval)
        if name is not None:
            out.append((name, gval.lower()))
            continue
        best, best_score = None, MATCH_THRESHOLD
        for oname, values in product.options:
            if gname and oname != gname.lower():
                continue
            for v in values:
                s = option_score(v, item)
                if s > best_score:
                    best, best_score = (oname, v), s
        if best is not None:
            out.append(best)
    return tuple(out)


def _missing(product: Product, goal: Goal, state: ShopState) -> list[str]:
    chosen = dict(state.options)
    return [v for n, v in goal_option_clicks(product, goal) if chosen.get(n) != v]


def _goal_page(shop: ShopData, goal: Goal, query: str) -> int | None:
    r = shop.index.rank_of(query, goal.asin)
    return None if r is None else r // RESULTS_PER_PAGE + 1


def expert_action(shop: ShopData, goal: Goal, state: ShopState) -> str:
    """The expert's next action in ``state``.

    Raises:
        RuntimeError: If the episode is over.
    """
    page = state.page
    if page == "search":
        return f"search[{expert_query(shop, goal)}]"
    if page == "results":
        target = _goal_page(shop, goal, state.query)
        if target is None:
            return "click[back to search]"
        if target > state.page_num:
            return "click[next >]"
        if target < state.page_num:
            return "click[< prev]"
        return f"click[{goal.asin.lower()}]"
    if page == "sub":
        return "click[< prev]"
    if page == "item":
        if state.asin.lower() != goal.asin.lower():
            if _goal_page(shop, goal, state.query) is not None:
                return "click[< prev]"
            return "click[back to search]"
        product = shop.catalog.by_asin(goal.asin)
        assert product is not None
        missing = _missing(product, goal, state)
        if missing:
            return f"click[{missing[0]}]"
        return "click[buy now]"
    raise RuntimeError("the episode is over; there is no expert action")


def _from_search(shop: ShopData, goal: Goal) -> int:
    q = expert_query(shop, goal)
    target = _goal_page(shop, goal, q)
    if target is None:  # the goal cannot be found: no plan
        return -1
    n_opts = len(goal_option_clicks(shop.catalog.by_asin(goal.asin), goal))
    return 1 + (target - 1) + 1 + n_opts + 1


def expert_steps_left(shop: ShopData, goal: Goal, state: ShopState) -> int | None:
    """Steps the expert needs from ``state`` to buy the goal (0 when done; None if it cannot)."""
    page = state.page
    if page == "done":
        return 0
    product = shop.catalog.by_asin(goal.asin)
    if product is None:
        return None
    if page == "sub":
        return _add(1, expert_steps_left(shop, goal, state._replace(page="item", sub_page="")))
    if page == "item" and state.asin.lower() == goal.asin.lower():
        return len(_missing(product, goal, state)) + 1
    if page in ("item", "results"):
        target = _goal_page(shop, goal, state.query)
        if target is None:
            n = _from_search(shop, goal)
            return None if n < 0 else n + 1
        n_nav = abs(target - state.page_num) + (1 if page == "item" else 0)
        return n_nav + 1 + len(goal_option_clicks(product, goal)) + 1
    n = _from_search(shop, goal)
    return None if n < 0 else n


def _add(k: int, n: int | None) -> int | None:
    return None if n is None else k + n
