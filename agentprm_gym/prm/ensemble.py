"""An ensemble PRM: the mean ``Q`` of several PRMs trained alike from different seeds.

A PRM trained on a few thousand rollouts carries much run-to-run variance: on
the paper-sized WebShop data, nine AgentPRMs of the same command and nine seeds
rank held-out steps at 0.741 on average, and the mean ``Q`` of two of them at
0.759 (docs/prm-experiments.md, "Ensembles"). ``train-prm --members K`` trains K
members side by side, one process each with a share of the cores, and saves
them as one directory that loads like any other PRM; PRMs trained one after the
other can be combined with :class:`EnsemblePRM` and saved the same way.

Each member is a complete PRM (its own directory, in the format of its
architecture); they follow the paper's method one by one (each bootstraps its
own targets). Scoring asks every member and averages. State PRMs that read the
same frozen encoder share it, so a text is encoded once for all members; state
PRMs of one architecture and settings (what ``train-prm --members K`` saves)
are also scored in one forward pass of their networks stacked
(:class:`~agentprm_gym.prm.stacked_net.StackedStateNet`), which gives the same
mean ``Q`` up to float rounding in less time than asking them one after the
other. ``fuse=False`` asks them one after the other.

Layout of a saved ensemble::

    DIR/prm_config.json      {"format": ..., "version": ..., "architecture": "ensemble",
                              "members": ["member-0", "member-1"], ...}
    DIR/member-0/            a saved PRM (model.safetensors + prm_config.json)
    DIR/member-1/
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from agentprm_gym.prm.base import PRM, ScoreItem

if TYPE_CHECKING:
    from agentprm_gym.prm.state_model import StatePRM

__all__ = ["ENSEMBLE_ARCHITECTURE", "EnsemblePRM", "member_dir_name", "write_ensemble_config"]

#: ``prm_config.json``'s ``architecture`` value of an ensemble.
ENSEMBLE_ARCHITECTURE = "ensemble"
#: Keys of an ensemble's ``prm_config.json`` that describe its layout, not its training.
_LAYOUT_KEYS = frozenset({"format", "version", "architecture", "members"})


def member_dir_name(k: int) -> str:
    """The sub-directory of member ``k`` in a saved ensemble."""
    return f"member-{k}"


def write_ensemble_config(
    directory: str | os.PathLike[str], members: Sequence[str], extra: dict[str, Any] | None = None
) -> Path:
    """Write the ``prm_config.json`` of an ensemble whose members are saved in ``members``.

    Args:
        directory: The ensemble's directory (created if missing).
        members: The members' sub-directory names, in order.
        extra: More settings to keep in the config (for example how it was trained).

    Returns:
        The directory.
    """
    from agentprm_gym.prm.model import _FORMAT, _FORMAT_VERSION, PRM_CONFIG_NAME

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    config = {k: v for k, v in (extra or {}).items() if k not in _LAYOUT_KEYS}
    config.update(
        format=_FORMAT,
        version=_FORMAT_VERSION,
        architecture=ENSEMBLE_ARCHITECTURE,
        members=list(members),
    )
    with (d / PRM_CONFIG_NAME).open("w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    return d


class EnsemblePRM(PRM):
    """Scores every item with each member PRM and returns the mean ``Q``.

    ``score_candidates`` is the base class's: one ``score`` call, which the stacked
    members (:attr:`fused`), or else each state-PRM member, group by state (one
    encoding of the state for all its candidates).

    Args:
        members: The member PRMs (at least one). State PRMs among them whose frozen
            encoders are the same (the same tag: weights, vocabulary, token budget)
            are changed to share the first one's, and their caches are emptied.
        config: Settings saved in ``prm_config.json`` besides the layout keys
            (for example how the members were trained).
        fuse: Score state-PRM members of one architecture and settings in one
            forward pass (:attr:`fused`); False: one member after the other.

    Attributes:
        fuse: Whether to score the members in one forward pass where they allow it.

    Raises:
        ValueError: Without members.
    """

    name = "agentprm"

    def __init__(
        self, members: Sequence[PRM], config: dict[str, Any] | None = None, fuse: bool = True
    ) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)
        self.config = dict(config or {})
        self.fuse = bool(fuse)
        self._fused: StatePRM | None = None
        self._fused_key: tuple[Any, ...] | None = None  # what _fused was built from
        _share_encoders(self.members)

    @property
    def fused(self) -> StatePRM | None:
        """The state PRM that scores every member in one forward pass, or None.

        Built from the members when first needed, and again after a member, its
        network, encoder or scoring settings are replaced or changed, or its
        weights change in a way torch records (after any other change of the
        weights, call :meth:`clear_cache`). None where :attr:`fuse` is off or the
        members cannot be stacked: they must all be state PRMs with one frozen
        encoder, one network architecture
        (:func:`~agentprm_gym.prm.stacked_net.stackable`) and the same scoring
        settings (past actions, pieces, previous observations, step limit, device).
        """
        if not self.fuse:
            return None
        key = tuple(_fuse_key(m) for m in self.members)
        f = self._fused
        if key != self._fused_key or (f is not None and f.net.stale()):  # type: ignore[operator]
            f = self._fused = _fuse(self.members, self.token_cache)
            self._fused_key = key
        return f

    @property
    def token_cache(self) -> Path | None:
        """The token-state file of the first member that names one (``StatePRM.token_cache``).

        Setting it sets every state-PRM member's (None: start from nothing).
        """
        return next((c for m in self.members if (c := getattr(m, "token_cache", None))), None)

    @token_cache.setter
    def token_cache(self, path: str | os.PathLike[str] | None) -> None:
        for m in self.members:
            if hasattr(m, "token_cache"):
                m.token_cache = path

    @property
    def batch_size(self) -> int | None:
        """Items per forward pass of the cross-encoder members (None without any)."""
        sizes = [m.batch_size for m in self.members if hasattr(m, "batch_size")]
        return int(sizes[0]) if sizes else None

    @batch_size.setter
    def batch_size(self, n: int) -> None:
        for m in self.members:
            if hasattr(m, "batch_size"):
                m.batch_size = int(n)

    @property
    def requires_state(self) -> bool:  # type: ignore[override]
        """True if any member reads env snapshots."""
        return any(m.requires_state for m in self.members)

    @property
    def device(self) -> Any:
        """The first member's device."""
        return getattr(self.members[0], "device", "cpu")

    @property
    def contexts_per_batch(self) -> int:
        """States per forward pass of the state-PRM members."""
        return int(getattr(self.members[0], "contexts_per_batch", 64))

    @contexts_per_batch.setter
    def contexts_per_batch(self, n: int) -> None:
        for m in self.members:
            if hasattr(m, "contexts_per_batch"):
                m.contexts_per_batch = int(n)

    def _score(self, items: list[ScoreItem]) -> NDArray[np.float64]:
        fused = self.fused
        if fused is not None:
            hits = fused.stats.cache_hits
            q = fused.score(items)
            self.stats.cache_hits += fused.stats.cache_hits - hits
            return q
        return np.mean([m.score(items) for m in self.members], axis=0)

    def bind(self, env: Any) -> EnsemblePRM:
        """Bind every member; returns self."""
        for m in self.members:
            m.bind(env)
        return self

    def clear_cache(self) -> None:
        """Empty every member's caches (needed after their weights change).

        The stacked networks of :attr:`fused` are built again from the members'
        weights when next needed.
        """
        for m in self.members:
            clear = getattr(m, "clear_cache", None)
            if clear is not None:
                clear()
        self._fused = self._fused_key = None

    def __deepcopy__(self, memo: dict[int, Any]) -> EnsemblePRM:
        """A copy as :meth:`PRM.__deepcopy__`; its :attr:`fused` is built again when needed."""
        kept = self._fused, self._fused_key
        self._fused = self._fused_key = None
        try:
            return super().__deepcopy__(memo)  # type: ignore[return-value]
        finally:
            self._fused, self._fused_key = kept

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Save every member under ``member-K/`` and the ensemble's ``prm_config.json``."""
        d = Path(directory)
        names = []
        for k, m in enumerate(self.members):
            save = getattr(m, "save_pretrained", None)
            if save is None:
                raise TypeError(f"member {k} ({type(m).__name__}) cannot be saved")
            save(d / member_dir_name(k))
            names.append(member_dir_name(k))
        write_ensemble_config(d, names, self.config)
        return d

    @classmethod
    def from_config_dir(cls, d: Path, config: dict[str, Any], **kwargs: Any) -> EnsemblePRM:
        """Load from a directory whose ``prm_config.json`` was already read and checked.

        Raises:
            CheckpointError: If the member list is malformed or a member does not load.
        """
        from agentprm_gym.prm.model import AgentPRM, CheckpointError

        names = config.get("members")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise CheckpointError(f"{d}: an ensemble config needs a non-empty list of members")
        members = []
        for name in names:
            sub = d / name
            if Path(name).is_absolute() or sub.resolve().parent != d.resolve():
                raise CheckpointError(f"{d}: member {name!r} is not a sub-directory")
            members.append(AgentPRM.from_pretrained(sub, **kwargs))
        return cls(members, {k: v for k, v in config.items() if k not in _LAYOUT_KEYS})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.members)} members)"


#: State-PRM settings that ``StatePRM.__init__`` reads from the config: the stacked PRM
#: copies them from its members.
_COPIED_SETTINGS = ("max_history", "max_pieces", "previous", "step_limit")
#: Settings that change a state PRM's scores: members must share them to be stacked.
_SHARED_SETTINGS = ("encoder", "device", *_COPIED_SETTINGS)


def _fuse_key(m: PRM) -> tuple[Any, ...]:
    """What the stacked PRM takes from a member (weights aside: ``StackedStateNet.stale``)."""
    # the objects themselves, compared by identity (an id could be reused once freed)
    names = ("net", *_SHARED_SETTINGS, "contexts_per_batch", "cache_size", "token_cache")
    return (m, *(getattr(m, name, None) for name in names))


def _fuse(members: Sequence[PRM], token_cache: Path | None) -> StatePRM | None:
    """One state PRM whose network is the members' stacked, or None where they differ."""
    from agentprm_gym.prm.stacked_net import StackedStateNet, stackable
    from agentprm_gym.prm.state_model import StatePRM

    if not all(type(m) is StatePRM for m in members):
        return None
    states: list[StatePRM] = list(members)  # type: ignore[arg-type]
    first = states[0]

    def settings(m: StatePRM) -> tuple[Any, ...]:
        return tuple(getattr(m, name) for name in _SHARED_SETTINGS)

    if not all(settings(m) == settings(first) for m in states):
        return None
    nets = [m.net for m in states]
    if not stackable(nets):
        return None
    fused = StatePRM(
        first.encoder,
        StackedStateNet(nets).to(first.device),  # type: ignore[arg-type]
        first.config,
        device=first.device,
        contexts_per_batch=first.contexts_per_batch,
        cache_size=first.cache_size,
    )
    for name in _COPIED_SETTINGS:  # the members' own, not the first one's config's
        setattr(fused, name, getattr(first, name))
    fused.token_cache = token_cache
    return fused


def _share_encoders(members: Sequence[PRM]) -> None:
    """Let state-PRM members with the same frozen encoder use one (one cache of states)."""
    from agentprm_gym.prm.state_model import StatePRM

    seen: dict[str, Any] = {}
    for m in members:
        if isinstance(m, StatePRM):
            tag = m.encoder.tag
            if tag in seen:
                m.encoder = seen[tag]
                m.clear_cache()
            else:
                seen[tag] = m.encoder
