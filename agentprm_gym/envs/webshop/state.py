"""The small mutable state of a WebShop episode, as an immutable record.

Every transition makes a new :class:`ShopState` (``_replace``), so a snapshot
is the state object itself: ``get_state``/``set_state`` copy nothing.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ShopState", "PAGES", "SUB_PAGES", "initial_state"]

#: Page kinds.
PAGES = ("search", "results", "item", "sub", "done")
#: Item sub-pages reached with click[description|features|reviews].
SUB_PAGES = ("description", "features", "reviews")


class ShopState(NamedTuple):
    """Where the shopper is.

    Attributes:
        page: One of :data:`PAGES`.
        query: The last search query ("" before the first search).
        page_num: Results page number, from 1.
        asin: Product open on the item page / sub-page ("" otherwise).
        options: Chosen options as sorted ``((name, value), ...)``.
        sub_page: The sub-page shown (one of :data:`SUB_PAGES`) or "".
        bought: asin bought ("" until the episode ends by buying).
        reward: Purchase reward components ``(R, r_type, r_att, r_option, r_price)``,
            or None before buying.
    """

    page: str = "search"
    query: str = ""
    page_num: int = 1
    asin: str = ""
    options: tuple[tuple[str, str], ...] = ()
    sub_page: str = ""
    bought: str = ""
    reward: tuple[float, float, float, float | None, float] | None = None

    def option_dict(self) -> dict[str, str]:
        """The chosen options as a dict."""
        return dict(self.options)

    def with_option(self, name: str, value: str) -> ShopState:
        """A copy with option ``name`` set to ``value``."""
        opts = dict(self.options)
        opts[name] = value
        return self._replace(options=tuple(sorted(opts.items())))


def initial_state() -> ShopState:
    """The state at reset: the search page."""
    return ShopState()
