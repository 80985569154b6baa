"""WebShop's text matching: its color list, color normalization and fuzzy score.

* :data:`COLOR_NAMES`: the 102 base colors of WebShop's
  ``web_agent_site/engine/normalize.py``, in its (alphabetical) order.
  :func:`normalize_color` returns the first of them that occurs *anywhere* in
  the string, as a substring: "navy blue" and "light blue" both give "blue"
  ("blue" comes before "light" and "navy"), "standard" gives "tan",
  "peppermint" gives "mint", "x-large" stays "x-large".
* :func:`fuzzy_score`: ``thefuzz.fuzz.token_set_ratio`` as WebShop calls it
  (thefuzz >= 0.20, on rapidfuzz): the value is turned into text with ``str``,
  the Latin-1 characters 128-255 are dropped (``force_ascii``), the rest is
  lower-cased with every non-alphanumeric character made a space, and the
  token-set ratio is rounded to an integer. A match is a score above
  :data:`MATCH_THRESHOLD` (85), i.e. a raw ratio of at least 85.5.
"""

from __future__ import annotations

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

__all__ = ["COLOR_NAMES", "MATCH_THRESHOLD", "normalize_color", "fuzzy_score", "fuzzy_match"]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Fuzzy-match threshold: a score must exceed it.
MATCH_THRESHOLD = 85

#: WebShop's base colors, in the order normalization tries them.
COLOR_NAMES: tuple[str, ...] = _words(
    """
    alabaster apricot aqua ash asphalt azure banana beige black blue blush bordeaux bronze
    brown burgundy camel camo caramel champagne charcoal cheetah chestnut chocolate christmas
    coffee cognac copper coral cranberry cream crystal dark denim eggplant elephant espresso
    fuchsia gold granite grape graphite grass gray green grey heather indigo ivory ivy khaki
    lavender lemon leopard light lilac lime magenta maroon mauve merlot midnight mint mocha
    multicolor mushroom mustard natural navy nude olive orange peach pewter pink plum purple
    rainbow red rose royal rust sand sapphire seashell silver skull slate steel stone stonewash
    sunflower tan taupe teal tiger turquoise violet walnut wheat white wine yellow
    """
)

_DROP_HIGH_LATIN1 = {i: None for i in range(128, 256)}


def normalize_color(text: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """The first color of :data:`COLOR_NAMES` in ``text``, else ``text`` unchanged.

    For a string, "in" is a substring test. WebShop also passes the ``(name,
    value)`` pairs of named goal options; for a tuple "in" is membership, so a
    pair normalizes to a color only when its name or value *is* one.
    """
    for color in COLOR_NAMES:
        if color in text:
            return color
    return text


def _process(value: object) -> str:
    return default_process(str(value).translate(_DROP_HIGH_LATIN1))


def fuzzy_score(a: object, b: object) -> int:
    """Score of thefuzz's ``token_set_ratio(a, b)``: an integer in 0..100 (0 if either is None)."""
    if a is None or b is None:
        return 0
    return int(round(fuzz.token_set_ratio(_process(a), _process(b))))


def fuzzy_match(a: object, b: object) -> bool:
    """Whether ``fuzzy_score(a, b)`` exceeds :data:`MATCH_THRESHOLD`."""
    return fuzzy_score(a, b) > MATCH_THRESHOLD
