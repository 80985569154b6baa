"""The household vocabulary: room types, receptacle kinds and object kinds.

Everything here is immutable data in ALFWorld's naming (``countertop``,
``sinkbasin``, ``desklamp``...). A receptacle kind says whether it opens and
how many of it each room type has; an object kind says what can be done with
it (pick up, clean, heat, cool, turn on) and which receptacle kinds it may sit
in (where it plausibly starts, and where it may be put).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ROOMS",
    "ReceptacleKind",
    "ObjectKind",
    "RECEPTACLE_KINDS",
    "OBJECT_KINDS",
    "ROOM_LAYOUTS",
    "LAMP_KINDS",
    "LAMP_HOSTS",
    "TOOL_KINDS",
    "CONTAINER_KINDS",
    "objects_for_room",
]

#: Room types, in a fixed order.
ROOMS: tuple[str, ...] = ("kitchen", "living room", "bedroom", "bathroom")


@dataclass(frozen=True)
class ReceptacleKind:
    """A kind of receptacle (furniture or appliance that holds objects).

    Attributes:
        name: ALFWorld's name, e.g. ``"cabinet"``.
        openable: Whether it starts closed and must be opened to see inside.
    """

    name: str
    openable: bool


@dataclass(frozen=True)
class ObjectKind:
    """A kind of object with its affordances.

    Attributes:
        name: ALFWorld's name, e.g. ``"apple"``.
        rooms: Room types it appears in.
        receptacles: Receptacle kinds it may sit in (start there, be put there).
        pickupable: Whether ``take`` works on it.
        cleanable: Whether ``clean ... with sinkbasin`` works on it.
        heatable: Whether ``heat ... with microwave`` works on it.
        coolable: Whether ``cool ... with fridge`` works on it.
        toggleable: Whether ``use`` turns it on and off (lamps).
    """

    name: str
    rooms: tuple[str, ...]
    receptacles: tuple[str, ...]
    pickupable: bool = True
    cleanable: bool = False
    heatable: bool = False
    coolable: bool = False
    toggleable: bool = False


_OPENABLE = frozenset({"cabinet", "drawer", "fridge", "microwave", "safe"})

#: Every receptacle kind, by name.
RECEPTACLE_KINDS: Mapping[str, ReceptacleKind] = MappingProxyType(
    {
        n: ReceptacleKind(n, n in _OPENABLE)
        for n in (
            "armchair",
            "bathtubbasin",
            "bed",
            "cabinet",
            "coffeemachine",
            "coffeetable",
            "countertop",
            "desk",
            "diningtable",
            "drawer",
            "dresser",
            "fridge",
            "garbagecan",
            "handtowelholder",
            "laundryhamper",
            "microwave",
            "ottoman",
            "safe",
            "shelf",
            "sidetable",
            "sinkbasin",
            "sofa",
            "stoveburner",
            "toaster",
            "toilet",
            "toiletpaperhanger",
            "towelholder",
            "tvstand",
        )
    }
)

#: Receptacle kinds a goal puts things "in" (the others: "on").
CONTAINER_KINDS: frozenset[str] = frozenset(
    {
        "cabinet",
        "drawer",
        "fridge",
        "microwave",
        "safe",
        "garbagecan",
        "sinkbasin",
        "bathtubbasin",
        "laundryhamper",
    }
)

#: Per room: receptacle kind -> (min count, max count), in display order.
ROOM_LAYOUTS: Mapping[str, Mapping[str, tuple[int, int]]] = MappingProxyType(
    {
        "kitchen": MappingProxyType(
            {
                "cabinet": (2, 6),
                "coffeemachine": (1, 1),
                "countertop": (1, 3),
                "diningtable": (0, 1),
                "drawer": (1, 4),
                "fridge": (1, 1),
                "garbagecan": (1, 1),
                "microwave": (1, 1),
                "shelf": (0, 3),
                "sinkbasin": (1, 1),
                "stoveburner": (2, 3),
                "toaster": (1, 1),
            }
        ),
        "living room": MappingProxyType(
            {
                "armchair": (0, 2),
                "cabinet": (0, 4),
                "coffeetable": (1, 2),
                "diningtable": (0, 1),
                "drawer": (1, 4),
                "dresser": (0, 1),
                "garbagecan": (1, 1),
                "ottoman": (0, 1),
                "shelf": (1, 4),
                "sidetable": (1, 2),
                "sofa": (1, 1),
                "tvstand": (1, 1),
            }
        ),
        "bedroom": MappingProxyType(
            {
                "armchair": (0, 1),
                "bed": (1, 1),
                "desk": (0, 2),
                "drawer": (2, 5),
                "dresser": (1, 1),
                "garbagecan": (1, 1),
                "laundryhamper": (0, 1),
                "safe": (0, 1),
                "shelf": (1, 4),
                "sidetable": (1, 2),
            }
        ),
        "bathroom": MappingProxyType(
            {
                "bathtubbasin": (0, 1),
                "cabinet": (2, 4),
                "countertop": (1, 1),
                "drawer": (2, 4),
                "garbagecan": (1, 1),
                "handtowelholder": (1, 1),
                "shelf": (0, 3),
                "sinkbasin": (1, 2),
                "toilet": (1, 1),
                "toiletpaperhanger": (1, 1),
                "towelholder": (1, 1),
            }
        ),
    }
)

#: Toggleable light sources.
LAMP_KINDS: tuple[str, ...] = ("desklamp",)
#: Receptacle kinds a desklamp stands on (none of them opens).
LAMP_HOSTS: tuple[str, ...] = ("desk", "sidetable", "dresser")

#: The receptacle kinds that clean / heat / cool.
TOOL_KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"clean": ("sinkbasin", "bathtubbasin"), "heat": ("microwave",), "cool": ("fridge",)}
)

_K = ("kitchen",)
_LB = ("living room", "bedroom")
_B = ("bathroom",)
_FOOD_PLACES = ("countertop", "diningtable", "fridge", "garbagecan", "microwave", "sinkbasin")
_DISH_PLACES = ("cabinet", "countertop", "diningtable", "shelf", "sinkbasin", "microwave", "fridge")
_CUTLERY = ("countertop", "diningtable", "drawer", "sinkbasin")
_DESK_THINGS = ("desk", "sidetable", "dresser", "shelf", "drawer", "coffeetable", "tvstand")
_SOFT = ("bed", "sofa", "armchair", "ottoman")


def _o(name: str, rooms: tuple[str, ...], places: tuple[str, ...], **aff: bool) -> ObjectKind:
    return ObjectKind(name, rooms, places, **aff)


_CHC = {"cleanable": True, "heatable": True, "coolable": True}

#: Every object kind, by name.
OBJECT_KINDS: Mapping[str, ObjectKind] = MappingProxyType(
    {
        o.name: o
        for o in (
            # kitchen food
            _o("apple", _K, _FOOD_PLACES, **_CHC),
            _o("potato", _K, _FOOD_PLACES, **_CHC),
            _o("tomato", _K, _FOOD_PLACES, **_CHC),
            _o("egg", _K, _FOOD_PLACES, heatable=True, coolable=True),
            _o(
                "bread",
                _K,
                ("countertop", "diningtable", "fridge", "toaster"),
                heatable=True,
                coolable=True,
            ),
            _o(
                "lettuce",
                _K,
                ("countertop", "diningtable", "fridge", "sinkbasin"),
                cleanable=True,
                coolable=True,
            ),
            # kitchen dishes
            _o("mug", _K, _DISH_PLACES + ("coffeemachine",), **_CHC),
            _o("cup", _K, _DISH_PLACES, **_CHC),
            _o("bowl", _K + _LB, _DISH_PLACES + ("coffeetable", "sidetable"), **_CHC),
            _o("plate", _K, _DISH_PLACES, **_CHC),
            _o(
                "pan",
                _K,
                ("stoveburner", "countertop", "cabinet", "sinkbasin", "fridge"),
                cleanable=True,
                coolable=True,
            ),
            _o(
                "pot",
                _K,
                ("stoveburner", "countertop", "cabinet", "sinkbasin", "fridge"),
                cleanable=True,
                coolable=True,
            ),
            _o("kettle", _K, ("stoveburner", "countertop", "cabinet", "sinkbasin"), cleanable=True),
            # kitchen tools
            _o("knife", _K, _CUTLERY, cleanable=True),
            _o("butterknife", _K, _CUTLERY, cleanable=True),
            _o("fork", _K, _CUTLERY, cleanable=True),
            _o("spoon", _K, _CUTLERY, cleanable=True),
            _o("spatula", _K, _CUTLERY, cleanable=True),
            _o("ladle", _K, _CUTLERY, cleanable=True),
            _o("saltshaker", _K, ("cabinet", "countertop", "shelf", "drawer", "diningtable")),
            _o("peppershaker", _K, ("cabinet", "countertop", "shelf", "drawer", "diningtable")),
            _o(
                "dishsponge",
                _K + _B,
                ("sinkbasin", "countertop", "cabinet", "drawer"),
                cleanable=True,
            ),
            _o(
                "winebottle",
                _K,
                ("countertop", "fridge", "cabinet", "shelf", "diningtable"),
                coolable=True,
            ),
            # living room / bedroom
            _o("book", _LB, _DESK_THINGS + ("bed", "sofa")),
            _o("cellphone", _LB, _DESK_THINGS + _SOFT),
            _o("creditcard", _LB, _DESK_THINGS + ("sofa", "armchair")),
            _o("keychain", _LB, _DESK_THINGS + ("sofa", "safe")),
            _o("pen", _LB, ("desk", "sidetable", "dresser", "shelf", "drawer")),
            _o("pencil", _LB, ("desk", "sidetable", "dresser", "shelf", "drawer")),
            _o(
                "remotecontrol",
                ("living room",),
                ("coffeetable", "sofa", "armchair", "tvstand", "sidetable", "ottoman"),
            ),
            _o("watch", _LB, ("desk", "sidetable", "dresser", "drawer", "safe", "coffeetable")),
            _o("cd", _LB, ("desk", "shelf", "drawer", "safe", "dresser", "sidetable")),
            _o("alarmclock", ("bedroom",), ("desk", "sidetable", "dresser", "shelf")),
            _o("laptop", _LB, ("desk", "bed", "sofa", "coffeetable", "diningtable")),
            _o("pillow", _LB, _SOFT),
            _o("statue", _LB, ("shelf", "sidetable", "coffeetable", "dresser", "cabinet")),
            _o("vase", _LB, ("shelf", "sidetable", "coffeetable", "dresser", "cabinet")),
            _o("box", ("living room",), ("coffeetable", "sofa", "shelf", "cabinet", "sidetable")),
            _o("newspaper", ("living room",), ("coffeetable", "sofa", "armchair", "ottoman")),
            _o(
                "tissuebox",
                _LB + _B,
                ("sidetable", "dresser", "shelf", "coffeetable", "countertop", "toilet"),
            ),
            _o("baseballbat", ("bedroom",), ("bed", "desk", "shelf")),
            _o("tennisracket", ("bedroom",), ("bed", "desk", "shelf")),
            _o("basketball", ("bedroom",), ("bed", "desk", "shelf", "armchair")),
            _o("teddybear", ("bedroom",), ("bed", "shelf", "armchair", "dresser")),
            _o(
                "cloth",
                ("bedroom",) + _B,
                ("laundryhamper", "drawer", "cabinet", "countertop", "bathtubbasin", "dresser"),
                cleanable=True,
            ),
            # bathroom
            _o(
                "soapbar",
                _B,
                ("toilet", "countertop", "cabinet", "bathtubbasin", "sinkbasin"),
                cleanable=True,
            ),
            _o("soapbottle", _K + _B, ("countertop", "cabinet", "shelf", "toilet")),
            _o("spraybottle", _B, ("toilet", "cabinet", "countertop", "shelf")),
            _o(
                "toiletpaper",
                _B,
                ("toiletpaperhanger", "toilet", "cabinet", "countertop", "drawer", "garbagecan"),
            ),
            _o("handtowel", _B, ("handtowelholder", "countertop", "cabinet")),
            _o("towel", _B, ("towelholder", "cabinet", "shelf")),
            _o("candle", _B, ("countertop", "cabinet", "shelf", "toilet", "drawer")),
            _o("plunger", _B, ("cabinet",)),
            _o("scrubbrush", _B, ("cabinet", "toilet")),
            # light source
            _o("desklamp", _LB, LAMP_HOSTS, pickupable=False, toggleable=True),
        )
    }
)


def objects_for_room(room: str, present: frozenset[str] | set[str]) -> tuple[str, ...]:
    """Pickupable object kinds of ``room`` with at least one place among ``present`` kinds.

    Args:
        room: A room type.
        present: Receptacle kinds in the room.

    Returns:
        The kinds, in vocabulary order.
    """
    return tuple(
        k.name
        for k in OBJECT_KINDS.values()
        if k.pickupable and room in k.rooms and any(r in present for r in k.receptacles)
    )
