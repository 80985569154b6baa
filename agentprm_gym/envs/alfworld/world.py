"""World data: the fixed layout of a room and its mutable state.

A :class:`Layout` is immutable and shared by every snapshot of an episode:
the room type, the numbered receptacles (``"cabinet 3"``) and objects
(``"apple 1"``) with their kinds. A :class:`WorldState` is everything an
action can change: where the agent stands, what it holds, which receptacles
are open, what lies where, and the clean/hot/cool/on flags. Its containers are
plain dicts, tuples and frozensets, so :meth:`WorldState.copy` is a few
shallow copies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from agentprm_gym.envs.alfworld.vocabulary import OBJECT_KINDS, RECEPTACLE_KINDS, ObjectKind

__all__ = ["Layout", "WorldState", "kind_of"]


def kind_of(name: str) -> str:
    """The kind of a numbered name: ``kind_of("cabinet 3") == "cabinet"``."""
    return name.rsplit(" ", 1)[0]


@dataclass(frozen=True)
class Layout:
    """The immutable part of a world.

    Attributes:
        room: Room type (``"kitchen"``...).
        receptacles: Receptacle names in display order (``"cabinet 1"``...).
        objects: Object names (``"apple 1"``...), lamps included.
        openable: Names of receptacles that open and close.
        recep_index: Receptacle name -> position in ``receptacles``.
        kinds: Every receptacle and object name -> its kind.
        by_kind: Receptacle kind -> its receptacles, in display order.
    """

    room: str
    receptacles: tuple[str, ...]
    objects: tuple[str, ...]
    openable: frozenset[str] = field(default_factory=frozenset)
    recep_index: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    kinds: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    by_kind: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def build(cls, room: str, receptacles: tuple[str, ...], objects: tuple[str, ...]) -> Layout:
        """Make a layout, deriving the lookup tables from the names."""
        by_kind: dict[str, tuple[str, ...]] = {}
        for r in receptacles:
            by_kind[kind_of(r)] = by_kind.get(kind_of(r), ()) + (r,)
        return cls(
            room=room,
            receptacles=receptacles,
            objects=objects,
            openable=frozenset(r for r in receptacles if RECEPTACLE_KINDS[kind_of(r)].openable),
            recep_index=MappingProxyType({r: i for i, r in enumerate(receptacles)}),
            kinds=MappingProxyType({n: kind_of(n) for n in receptacles + objects}),
            by_kind=MappingProxyType(by_kind),
        )

    def object_kind(self, name: str) -> ObjectKind:
        """The :class:`ObjectKind` of object ``name``."""
        return OBJECT_KINDS[kind_of(name)]

    def receptacles_of(self, kind: str) -> tuple[str, ...]:
        """Receptacles of ``kind``, in display order."""
        return self.by_kind.get(kind, ())


@dataclass
class WorldState:
    """The mutable part of a world.

    Attributes:
        location: The receptacle the agent stands at, or None (middle of the room).
        holding: The object in the agent's hand (ALFWorld holds one), or None.
        opened: Openable receptacles that are open now.
        contents: Receptacle -> objects in it, in the order they are listed.
        where: Object -> the receptacle it is in ("" while held).
        clean: Objects that have been cleaned.
        hot: Objects that are hot.
        cool: Objects that are cool.
        on: Lamps that are switched on.
    """

    location: str | None
    holding: str | None
    opened: frozenset[str]
    contents: dict[str, tuple[str, ...]]
    where: dict[str, str]
    clean: frozenset[str] = frozenset()
    hot: frozenset[str] = frozenset()
    cool: frozenset[str] = frozenset()
    on: frozenset[str] = frozenset()

    def copy(self) -> WorldState:
        """A private copy (tuples and frozensets are shared, dicts are copied)."""
        return WorldState(
            self.location,
            self.holding,
            self.opened,
            dict(self.contents),
            dict(self.where),
            self.clean,
            self.hot,
            self.cool,
            self.on,
        )

    def accessible(self, layout: Layout, recep: str) -> bool:
        """Whether ``recep``'s inside can be seen and reached (not a closed openable)."""
        return recep not in layout.openable or recep in self.opened

    def remove(self, obj: str) -> None:
        """Take ``obj`` out of its receptacle into the agent's hand."""
        src = self.where[obj]
        self.contents[src] = tuple(o for o in self.contents[src] if o != obj)
        self.where[obj] = ""
        self.holding = obj

    def place(self, obj: str, recep: str) -> None:
        """Put the held ``obj`` into ``recep``."""
        self.contents[recep] = self.contents[recep] + (obj,)
        self.where[obj] = recep
        self.holding = None
