"""``AgentPRM/WebShop-v0``: an offline WebShop-style shopping environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from agentprm_gym.core.actions import ActionParseError, parse_action
from agentprm_gym.core.base_env import TextAgentEnv, Transition
from agentprm_gym.envs.webshop import expert as expert_mod
from agentprm_gym.envs.webshop.catalog import Product
from agentprm_gym.envs.webshop.goals import Goal
from agentprm_gym.envs.webshop.html_pages import render_html
from agentprm_gym.envs.webshop.pages import (
    RESULTS_PER_PAGE,
    Element,
    PageView,
    button_actions,
    page_elements,
    render_text,
    render_text_rich,
)
from agentprm_gym.envs.webshop.reward import get_reward
from agentprm_gym.envs.webshop.search_engine import MAX_RESULTS
from agentprm_gym.envs.webshop.shop_data import ShopData, get_shop_data
from agentprm_gym.envs.webshop.state import SUB_PAGES, ShopState, initial_state
from agentprm_gym.envs.webshop.type_words import TAGGERS, type_words_fn

__all__ = ["WebShopEnv", "OBSERVATION_MODES", "DEFAULT_NUM_PRODUCTS"]

#: Observation modes (kwarg ``observation_mode``).
OBSERVATION_MODES = ("text", "text_rich", "html")
#: Size of the generated catalog when ``num_products`` is not given.
DEFAULT_NUM_PRODUCTS = 10_000


class WebShopEnv(TextAgentEnv):
    """An offline WebShop: find and buy the product an instruction describes.

    Description:
        WebShop (Yao et al., 2022) without its install pain: a seeded synthetic
        catalog in WebShop's product schema over its five categories (beauty,
        electronics, fashion, food, furniture), instructions made from products
        ("i need a ... with color: ..., and price lower than N dollars"), BM25
        search (``bm25s``) over title, description and attributes, WebShop's
        pages and WebShop's purchase reward. With ``data_dir`` the original
        WebShop files (items_shuffle*.json, items_ins_v2*.json,
        items_human_ins.json) give the real catalog and human instructions.
        Catalog, goals and index are built once per process and shared by every
        env of the same shop.

    Observation:
        A ``str`` showing the current page with the instruction.
        ``observation_mode="text"``: WebShop's ``[SEP]``-joined form, e.g.
        ``"WebShop [SEP] Instruction: [SEP] i need ... [SEP] Search"``;
        ``"text_rich"``: one element per line, buttons as
        ``[button] Next > [button_]`` and chosen options as
        ``[clicked button] large [clicked button_]``; ``"html"``: a complete
        HTML page (the Browser env serves the same pages) whose clickables carry
        their action in ``data-action``.

    Actions:
        A ``str``. On the search page ``search[<any query>]``. On a results
        page (10 of up to 50 results per page) ``click[<asin>]``,
        ``click[next >]``, ``click[< prev]``, ``click[back to search]``. On an
        item page ``click[<option value>]``, ``click[description]``,
        ``click[features]``, ``click[reviews]``, ``click[buy now]``,
        ``click[< prev]`` (to the results), ``click[back to search]``; on a
        sub-page ``click[< prev]`` (to the item) and ``click[back to search]``.
        Button names are case-insensitive. ``info["admissible_actions"]`` lists
        every button of the page, and on the search page a few concrete
        ``search[...]`` queries (the instruction's own words, their first three
        words, another query of the same category and one of another category).
        Invalid actions (bad syntax, a button not on the page) change nothing and
        set ``info["action_error"]``.

    Rewards:
        0 until ``click[buy now]``; then WebShop's ``get_reward``:
        ``r_type × (matched attributes + matched options + 1[price ≤ cap]) /
        (|attributes| + |options| + 1)`` (see
        :mod:`agentprm_gym.envs.webshop.reward`). ``info`` holds ``r_att``,
        ``r_option``, ``r_price`` and ``r_type`` on every step: None before
        buying; after buying, floats (``r_option`` stays None for goals without
        options, as in WebShop). ``info["won"]`` is ``reward == 1``. The type
        reward's title nouns come from ``type_tagger``: ``"rules"`` (default, no
        dependency) or ``"spacy"`` (WebShop's own spaCy tagging; needs the
        ``webshop-spacy`` extra and the ``en_core_web_sm`` model).

    Termination:
        Terminates when an item is bought. Truncated after 15 steps by the
        registration's ``max_episode_steps``.

    Registered ids:
        ``AgentPRM/WebShop-v0`` (kwargs: ``observation_mode``, ``num_products``
        (default 10,000 generated; with ``data_dir`` all products),
        ``catalog_seed``, ``data_dir``, ``split``, ``render_mode``, ``type_tagger``).
        Splits: ``test`` (first 500 goals) and ``train`` (the rest).

    Version history:
        v0: initial version.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 4}
    splits: ClassVar[tuple[str, ...]] = ("train", "test")

    def __init__(
        self,
        observation_mode: str = "text",
        num_products: int | None = None,
        catalog_seed: int = 0,
        data_dir: str | Path | None = None,
        split: str = "train",
        render_mode: str | None = None,
        max_action_length: int = 10_000,
        type_tagger: str = "rules",
    ) -> None:
        if type_tagger not in TAGGERS:
            raise ValueError(
                f"type_tagger={type_tagger!r} is not supported; choose one of {list(TAGGERS)}"
            )
        if observation_mode not in OBSERVATION_MODES:
            raise ValueError(
                f"observation_mode={observation_mode!r} is not supported; "
                f"choose one of {list(OBSERVATION_MODES)}"
            )
        if num_products is None and data_dir is None:
            num_products = DEFAULT_NUM_PRODUCTS
        super().__init__(split=split, render_mode=render_mode, max_action_length=max_action_length)
        self.observation_mode = observation_mode
        self.shop: ShopData = get_shop_data(num_products, catalog_seed, data_dir)
        self.type_tagger = type_tagger
        self._type_words = type_words_fn(type_tagger)
        self._state: ShopState = initial_state()
        self._goal: Goal | None = None
        self._cache_state: ShopState | None = None
        self._cache_elements: list[Element] = []

    # ---------------------------------------------------------------- hooks
    def num_tasks(self, split: str) -> int:
        """Number of goals in ``split``."""
        return self.shop.goals.num_tasks(split)

    def _begin_task(self, split: str, task_id: int) -> str:
        self._goal = self.shop.goals.get(split, task_id)
        self._state = initial_state()
        return self._observe(self._state)

    @property
    def goal(self) -> Goal:
        """The current goal (privileged: asin, attributes, options, price cap)."""
        if self._goal is None:
            raise RuntimeError("call reset() first")
        return self._goal

    @property
    def state(self) -> ShopState:
        """The current page state (immutable)."""
        return self._state

    @property
    def instruction(self) -> str:
        """The instruction text of the current goal."""
        return "" if self._goal is None else self._goal.instruction

    @property
    def won(self) -> bool:
        """Whether the bought product earned reward 1."""
        r = self._state.reward
        return r is not None and r[0] >= 1.0 - 1e-9

    def _apply(self, action: str) -> Transition:
        try:
            pa = parse_action(action, self.max_action_length)
        except ActionParseError as e:
            return self._invalid(str(e))
        st = self._state
        if pa.name == "search":
            if st.page != "search":
                return self._invalid(
                    "search[...] is only available on the search page; "
                    "use click[back to search] first"
                )
            if len(pa.args) != 1 or not pa.args[0].strip():
                return self._invalid("search needs one non-empty query, e.g. search[red mug]")
            query = " ".join(pa.args[0].lower().split())
            return self._go(ShopState(page="results", query=query, page_num=1))
        if pa.name != "click":
            return self._invalid(f"unknown action {pa.name!r}; use search[query] or click[button]")
        if len(pa.args) != 1 or not pa.args[0]:
            return self._invalid("click needs one button name, e.g. click[buy now]")
        button = " ".join(pa.args[0].lower().split())
        if st.page == "search":
            return self._invalid("there is nothing to click on the search page; use search[query]")
        if button == "back to search":
            return self._go(initial_state())
        if st.page == "results":
            return self._click_results(st, button)
        if st.page == "item":
            return self._click_item(st, button)
        # sub-page
        if button == "< prev":
            return self._go(st._replace(page="item", sub_page=""))
        return self._no_button(button)

    def _click_results(self, st: ShopState, button: str) -> Transition:
        results = self.shop.index.search(st.query)
        if button == "next >":
            if st.page_num * RESULTS_PER_PAGE < min(len(results), MAX_RESULTS):
                return self._go(st._replace(page_num=st.page_num + 1))
            return self._no_button(button)
        if button == "< prev":
            if st.page_num > 1:
                return self._go(st._replace(page_num=st.page_num - 1))
            return self._no_button(button)
        start = (st.page_num - 1) * RESULTS_PER_PAGE
        products = self.shop.catalog.products
        for i in results[start : start + RESULTS_PER_PAGE]:
            if products[i].asin.lower() == button:
                return self._go(st._replace(page="item", asin=products[i].asin, options=()))
        return self._no_button(button)

    def _click_item(self, st: ShopState, button: str) -> Transition:
        product = self.shop.catalog.by_asin(st.asin)
        assert product is not None
        if button == "< prev":
            return self._go(st._replace(page="results", asin="", options=()))
        if button in SUB_PAGES:
            return self._go(st._replace(page="sub", sub_page=button))
        if button == "buy now":
            return self._buy(st, product)
        name = product.option_of(button)
        if name is not None:
            return self._go(st.with_option(name, button))
        return self._no_button(button)

    def _buy(self, st: ShopState, product: Product) -> Transition:
        res = get_reward(
            product, self.goal, product.price, [v for _, v in st.options], self._type_words
        )
        reward = (res.reward, res.r_type, res.r_att, res.r_option, res.r_price)
        new = st._replace(page="done", bought=product.asin, sub_page="", reward=reward)
        self._state = new
        return Transition(self._observe(new), res.reward, True, None)

    def _go(self, new: ShopState) -> Transition:
        self._state = new
        return Transition(self._observe(new), 0.0, False, None)

    def _no_button(self, button: str) -> Transition:
        valid = ", ".join(self.admissible_actions())
        return self._invalid(f"there is no button {button!r} on this page; valid: {valid}")

    def _invalid(self, message: str) -> Transition:
        return Transition(self._error_observation(message), 0.0, False, message)

    def _error_observation(self, message: str) -> str:
        if self.observation_mode == "html" and self._goal is not None:
            return render_html(self._view(self._state), error=message)
        return super()._error_observation(message)

    # --------------------------------------------------------------- pages
    def _view(self, st: ShopState) -> PageView:
        instr = self.instruction
        if st.page == "search":
            return PageView("search", instr)
        if st.page == "results":
            cat = self.shop.catalog.products
            results = tuple(cat[i] for i in self.shop.index.search(st.query))
            return PageView("results", instr, st.query, st.page_num, results)
        product = self.shop.catalog.by_asin(st.bought or st.asin)
        if st.page == "done":
            score = st.reward[0] if st.reward is not None else 0.0
            return PageView(
                "done", instr, st.query, product=product, chosen=st.options, score=score
            )
        kind = st.sub_page if st.page == "sub" else "item"
        return PageView(kind, instr, st.query, st.page_num, product=product, chosen=st.options)

    def page_view(self) -> PageView:
        """The current page as data (what every observation mode renders)."""
        if self._goal is None:
            raise RuntimeError("call reset() first")
        return self._view(self._state)

    def html_page(self) -> str:
        """The current page as an HTML document, whatever the observation mode."""
        return render_html(self.page_view())

    def _elements(self, st: ShopState) -> list[Element]:
        if self._cache_state is not st:
            self._cache_elements = page_elements(self._view(st))
            self._cache_state = st
        return self._cache_elements

    def _observe(self, st: ShopState) -> str:
        if self.observation_mode == "html":
            return render_html(self._view(st))
        els = self._elements(st)
        return render_text(els) if self.observation_mode == "text" else render_text_rich(els)

    def admissible_actions(self) -> list[str]:
        """Every button of the current page; on the search page, suggested searches."""
        st = self._state
        if st.page == "done" or self._goal is None:
            return []
        if st.page == "search":
            return [f"search[{q}]" for q in self.shop.search_suggestions(self._goal)]
        return button_actions(self._elements(st))

    # ------------------------------------------------------------ snapshots
    def _get_payload(self) -> Any:
        return (self._state, self._goal)

    def _set_payload(self, payload: Any) -> None:
        self._state, self._goal = payload

    def _data_key(self) -> str:
        return f"{self.shop.key}|{self.observation_mode}"

    def _extra_info(self) -> dict[str, Any]:
        r = self._state.reward
        if r is None:
            return {"r_att": None, "r_option": None, "r_price": None, "r_type": None}
        return {"r_att": r[2], "r_option": r[3], "r_price": r[4], "r_type": r[1]}

    # --------------------------------------------------------------- expert
    def expert_action(self) -> str:
        """The expert's next action (privileged; see :mod:`agentprm_gym.envs.webshop.expert`)."""
        if self._goal is None or self._done:
            raise RuntimeError("no expert action: the episode has not started or has ended")
        return expert_mod.expert_action(self.shop, self._goal, self._state)

    def expert_steps_left(self) -> int | None:
        """Expert steps from here to a reward-1 purchase.

        Returns:
            The count; 0 after a winning purchase; None after a failed purchase,
            before the first reset, or when the expert cannot find the goal product.
        """
        if self._goal is None:
            return None
        if self._state.page == "done":
            return 0 if self.won else None
        return expert_mod.expert_steps_left(self.shop, self._goal, self._state)
