"""Sweep configs: parse and validate the YAML that ``agentprm-gym bench sweep`` runs.

A config names the envs (id, policy spec, env kwargs), the PRMs (learned ones
with their label kind, and the non-learned ``oracle`` and ``random``), the
data collection sizes, the PRM training arguments, the search methods, the
number of test tasks, the seeds and the repeats.

Methods: ``policy`` (one policy sample per step, no PRM; its rows are named
``policy (1 sample)``), ``greedy`` (temperature-0 decoding, LM policies only;
``greedy (temperature 0)``), ``bon@N`` (Best-of-N), ``beam@BxE`` (beam search
ranked by the PRM) and ``beam+prior@BxE`` / ``beam+prior=A@BxE`` (beam search
ranked by ``Q + A·log π``, A = 1 unless given). See ``benchmarks/README.md`` for the full
schema and ``benchmarks/configs/*.yaml`` for examples. Every error names the
offending field (e.g. ``envs[1].policy``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "GREEDY_METHOD",
    "LEARNED_LABELS",
    "POLICY_METHOD",
    "EnvConfig",
    "MethodSpec",
    "PRMConfig",
    "SweepConfig",
    "SweepConfigError",
    "load_config",
    "parse_config",
    "parse_method",
]

#: Built-in learned PRMs and their label kind (``train-prm --labels``).
LEARNED_LABELS = {
    "agentprm": "gae",
    "agentprm-td0": "td0",
    "pvm": "pvm",
    "orm": "outcome",
    "mc-prm": "mc",
}
_FIXED = ("oracle", "random")
_LABELS = ("gae", "td0", "mc", "pvm", "outcome")
_METHOD_RE = re.compile(
    r"^(?:(policy|greedy)|bon@(\d+)|(beam|beam\+prior(?:=([0-9.eE+-]+))?)@(\d+)x(\d+))$"
)
#: The method (and results-row name) of one policy sample per step, no PRM.
POLICY_METHOD = "policy (1 sample)"
#: The method (and results-row name) of temperature-0 decoding (LM policies).
GREEDY_METHOD = "greedy (temperature 0)"
_NAMED = {"policy": "policy", POLICY_METHOD: "policy", "greedy": "greedy", GREEDY_METHOD: "greedy"}
#: Policy spec kinds with a sampling temperature (``greedy`` needs one).
LM_POLICY_KINDS = ("hf", "openai")


class SweepConfigError(ValueError):
    """A sweep config is malformed; the message names the field."""


@dataclass(frozen=True)
class MethodSpec:
    """A search method and its budget.

    Attributes:
        name: ``policy (1 sample)``, ``greedy (temperature 0)``, ``bon@N``,
            ``beam@BxE``, ``beam+prior@BxE`` or ``beam+prior=A@BxE`` (the results' method).
        family: ``policy``, ``greedy``, ``bon``, ``beam`` or ``beam+prior``.
        n: Best-of-N's N, or the beam width.
        expand: Beam expansion per kept branch (1 otherwise).
        prior: Weight A of ``log π`` in beam+prior's rank (0 otherwise).
    """

    name: str
    family: str
    n: int = 1
    expand: int = 1
    prior: float = 0.0

    @property
    def budget(self) -> str:
        """Budget label: ``1`` (policy, greedy), ``N`` (BoN), ``BxE`` (beam, beam+prior)."""
        return f"{self.n}x{self.expand}" if self.family.startswith("beam") else str(self.n)

    @property
    def uses_prm(self) -> bool:
        """Whether the method needs a PRM (all but ``policy`` and ``greedy``)."""
        return self.family not in ("policy", "greedy")


_METHODS_HELP = "use policy, greedy, bon@N, beam@BxE, beam+prior@BxE or beam+prior=A@BxE"


def parse_method(text: str, where: str = "methods") -> MethodSpec:
    """Parse ``policy``, ``greedy``, ``bon@N``, ``beam@BxE`` or ``beam+prior[=A]@BxE``.

    The results' names are accepted too (``policy (1 sample)``, ``greedy (temperature 0)``).

    Raises:
        SweepConfigError: For anything else, zero budgets or a prior weight <= 0.
    """
    s = str(text).strip().lower().replace("×", "x")
    if s in _NAMED:
        return (
            MethodSpec(POLICY_METHOD, "policy")
            if _NAMED[s] == "policy"
            else MethodSpec(GREEDY_METHOD, "greedy")
        )
    m = _METHOD_RE.match(s)
    if not m:
        raise SweepConfigError(f"{where}: bad method {text!r}; {_METHODS_HELP}")
    if m.group(2) is not None:
        n = int(m.group(2))
        if n < 1:
            raise SweepConfigError(f"{where}: bon@N needs N >= 1, got {text!r}")
        return MethodSpec(f"bon@{n}", "bon", n)
    b, e = int(m.group(5)), int(m.group(6))
    if b < 1 or e < 1:
        raise SweepConfigError(f"{where}: beam@BxE needs B, E >= 1, got {text!r}")
    if m.group(3) == "beam":
        return MethodSpec(f"beam@{b}x{e}", "beam", b, e)
    try:
        prior = 1.0 if m.group(4) is None else float(m.group(4))
    except ValueError:
        raise SweepConfigError(f"{where}: bad prior weight in {text!r}") from None
    if not prior > 0 or prior == float("inf"):
        raise SweepConfigError(f"{where}: beam+prior=A needs a finite A > 0, got {text!r}")
    label = "beam+prior" if prior == 1.0 else f"beam+prior={prior:g}"
    return MethodSpec(f"{label}@{b}x{e}", "beam+prior", b, e, prior)


def is_lm_policy(spec: str) -> bool:
    """Whether a policy spec names an LM policy (one with a temperature: ``hf:``, ``openai:``)."""
    return str(spec).strip().partition(":")[0].lower() in LM_POLICY_KINDS


@dataclass(frozen=True)
class PRMConfig:
    """One PRM of the sweep.

    Attributes:
        name: Name in tables (``agentprm``, ``pvm``, ``orm``, ``mc-prm``, ``oracle``...).
        labels: Label kind for learned PRMs (None for ``oracle``/``random``).
        train_args: Extra ``train-prm`` arguments for this PRM (after the sweep's).
    """

    name: str
    labels: str | None = None
    train_args: tuple[str, ...] = ()

    @property
    def learned(self) -> bool:
        """Whether the PRM is trained from the collected rollouts."""
        return self.labels is not None


@dataclass(frozen=True)
class EnvConfig:
    """One env of the sweep (sizes default to the sweep's).

    Attributes:
        id: Registered env id.
        policy: Policy spec (``noisy:0.4``, ``hf:DIR``...).
        kwargs: ``gym.make`` keyword arguments.
        train_tasks: Train tasks collected.
        per_task: Episodes per train task (K).
        mc_rollouts: MC rollouts per step for MC labels.
        test_tasks: Test tasks each method is run on.
        max_steps: Step limit for search (None: the registration's).
        methods: Methods for this env (None: the sweep's).
        name: Short name for files and tables (default: the id without namespace/version).
    """

    id: str
    policy: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    train_tasks: int = 20
    per_task: int = 4
    mc_rollouts: int = 4
    test_tasks: int = 10
    max_steps: int | None = None
    methods: tuple[MethodSpec, ...] | None = None
    name: str = ""

    @property
    def short(self) -> str:
        """File-safe short name."""
        if self.name:
            return self.name
        base = self.id.split("/")[-1]
        return re.sub(r"-v\d+$", "", base)


@dataclass(frozen=True)
class SweepConfig:
    """A whole sweep.

    Attributes:
        name: Config name (default output dir: ``benchmarks/results/<name>/``).
        envs: Envs.
        prms: PRMs.
        methods: Search methods.
        seeds: Seeds (each method × PRM × budget runs once per seed).
        repeats: How many times a row plays each test task, by ``policy`` (the
            one-sample policy row) or a PRM name (that PRM's ``beam`` and
            ``beam+prior`` rows); 1 when absent. Each repeat uses its own env and
            policy seeds (repeat 0 the ones a single run uses) and the row averages
            all ``test_tasks × repeats`` episodes. Best-of-N rows share one set of
            samples across PRMs and are not repeated.
        train_args: ``train-prm`` arguments shared by all learned PRMs.
        workers: Local worker processes.
        examples: Example trajectories per env in the report.
        reference: The PRM the efficiency ratio compares against.
        torch_threads: ``torch.set_num_threads`` for PRM training and scoring
            in this process (None: torch's default).
        lockstep: Most test tasks whose searches run together (groups of near-equal
            size, at least one per worker; 1: one task at a time): beam searches
            (``beam`` and ``beam+prior`` rows) share one PRM call per depth, the
            shared Best-of-N of all PRMs one call per (PRM, N). Each task gets the
            search it gets alone (with the state PRM, up to float rounding, which can
            then move a near-tie with the tasks searched beside it).
        source: The file it came from.
    """

    name: str
    envs: tuple[EnvConfig, ...]
    prms: tuple[PRMConfig, ...]
    methods: tuple[MethodSpec, ...]
    seeds: tuple[int, ...] = (0,)
    repeats: dict[str, int] = field(default_factory=dict)
    train_args: tuple[str, ...] = ()
    workers: int = 1
    examples: int = 3
    reference: str = "agentprm"
    torch_threads: int | None = None
    lockstep: int = 16
    source: str = ""

    @property
    def learned_prms(self) -> tuple[PRMConfig, ...]:
        """The PRMs to train."""
        return tuple(p for p in self.prms if p.learned)

    def repeats_for(self, prm: str, method: MethodSpec) -> int:
        """How many times the (PRM, method) row plays each test task (see ``repeats``)."""
        if method.family == "policy":
            return self.repeats.get("policy", 1)
        if method.family in ("beam", "beam+prior"):
            return self.repeats.get(prm, 1)
        return 1


_TOP_KEYS = {
    "name",
    "description",
    "envs",
    "prms",
    "methods",
    "seeds",
    "seed",
    "repeats",
    "collection",
    "train",
    "test_tasks",
    "workers",
    "examples",
    "reference",
    "torch_threads",
    "lockstep",
}
_COLLECTION_KEYS = {"train_tasks", "per_task", "mc_rollouts"}
_ENV_KEYS = {"id", "policy", "kwargs", "name", "test_tasks", "max_steps", "methods"}
_ENV_KEYS |= _COLLECTION_KEYS


def _int(v: Any, where: str, lo: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise SweepConfigError(f"{where}: expected an integer, got {v!r}")
    if v < lo:
        raise SweepConfigError(f"{where}: must be >= {lo}, got {v}")
    return v


def _str_list(v: Any, where: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return tuple(v.split())
    if not isinstance(v, list) or not all(isinstance(x, str | int | float) for x in v):
        raise SweepConfigError(f"{where}: expected a list of strings, got {v!r}")
    return tuple(str(x) for x in v)


def _unknown(d: dict[str, Any], allowed: set[str], where: str) -> None:
    bad = sorted(set(d) - allowed)
    if bad:
        raise SweepConfigError(f"{where}: unknown key(s) {bad}; allowed: {sorted(allowed)}")


def _parse_prm(p: Any, where: str) -> PRMConfig:
    if isinstance(p, str):
        p = {"name": p}
    if not isinstance(p, dict) or "name" not in p:
        raise SweepConfigError(f"{where}: a PRM is a name or a mapping with 'name'")
    _unknown(p, {"name", "labels", "train_args"}, where)
    name = str(p["name"])
    if name == "policy":
        raise SweepConfigError(
            f"{where}: 'policy' names the policy's own rows; call the PRM otherwise"
        )
    labels = p.get("labels", LEARNED_LABELS.get(name))
    if name in _FIXED:
        if p.get("labels") is not None:
            raise SweepConfigError(f"{where}: {name} is not trained; drop 'labels'")
        return PRMConfig(name)
    if labels is None:
        raise SweepConfigError(
            f"{where}: unknown PRM {name!r}; use one of {sorted(LEARNED_LABELS)} or "
            f"{list(_FIXED)}, or give 'labels' ({'|'.join(_LABELS)}) for a custom learned PRM"
        )
    if labels not in _LABELS:
        raise SweepConfigError(f"{where}.labels: {labels!r} is not one of {list(_LABELS)}")
    return PRMConfig(name, labels, _str_list(p.get("train_args"), f"{where}.train_args"))


def _parse_repeats(
    v: Any, prms: tuple[PRMConfig, ...], methods: list[MethodSpec]
) -> dict[str, int]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise SweepConfigError(
            "repeats: expected a mapping from 'policy' or a PRM name to a count, "
            "e.g. {policy: 10, random: 5}"
        )
    allowed = ["policy", *(p.name for p in prms)]
    families = {m.family for m in methods}
    out = {}
    for k, n in v.items():
        if k not in allowed:
            raise SweepConfigError(
                f"repeats: {k!r} is not 'policy' or a PRM name; allowed: {allowed}"
            )
        if k == "policy" and "policy" not in families:
            raise SweepConfigError(
                "repeats: 'policy' is repeated but no env runs the policy method"
            )
        if k != "policy" and not families & {"beam", "beam+prior"}:
            raise SweepConfigError(
                f"repeats: {k!r} is repeated but no env runs a beam or beam+prior method "
                "(only those rows of a PRM are repeated)"
            )
        out[str(k)] = _int(n, f"repeats.{k}", 1)
    return out


def parse_config(data: Any, name: str = "sweep", source: str = "") -> SweepConfig:
    """Validate a parsed YAML mapping into a :class:`SweepConfig`.

    Raises:
        SweepConfigError: Naming the first bad field.
    """
    if not isinstance(data, dict):
        raise SweepConfigError(f"a sweep config is a mapping, got {type(data).__name__}")
    _unknown(data, _TOP_KEYS, "config")
    coll = data.get("collection") or {}
    if not isinstance(coll, dict):
        raise SweepConfigError("collection: expected a mapping")
    _unknown(coll, _COLLECTION_KEYS, "collection")
    defaults = {
        "train_tasks": _int(coll.get("train_tasks", 20), "collection.train_tasks", 1),
        "per_task": _int(coll.get("per_task", 4), "collection.per_task", 1),
        "mc_rollouts": _int(coll.get("mc_rollouts", 4), "collection.mc_rollouts", 0),
        "test_tasks": _int(data.get("test_tasks", 10), "test_tasks", 1),
    }
    envs_raw = data.get("envs")
    if not isinstance(envs_raw, list) or not envs_raw:
        raise SweepConfigError("envs: expected a non-empty list of {id, policy, ...}")
    envs = []
    for i, e in enumerate(envs_raw):
        w = f"envs[{i}]"
        if not isinstance(e, dict):
            raise SweepConfigError(f"{w}: expected a mapping with 'id' and 'policy'")
        _unknown(e, _ENV_KEYS, w)
        for k in ("id", "policy"):
            if not isinstance(e.get(k), str) or not e[k].strip():
                raise SweepConfigError(f"{w}.{k}: required string")
        kw = e.get("kwargs") or {}
        if not isinstance(kw, dict):
            raise SweepConfigError(f"{w}.kwargs: expected a mapping")
        ms = e.get("max_steps")
        em = e.get("methods")
        if em is not None and (not isinstance(em, list) or not em):
            raise SweepConfigError(f"{w}.methods: expected a non-empty list")
        envs.append(
            EnvConfig(
                id=e["id"],
                policy=e["policy"],
                kwargs=dict(kw),
                train_tasks=_int(
                    e.get("train_tasks", defaults["train_tasks"]), f"{w}.train_tasks", 1
                ),
                per_task=_int(e.get("per_task", defaults["per_task"]), f"{w}.per_task", 1),
                mc_rollouts=_int(
                    e.get("mc_rollouts", defaults["mc_rollouts"]), f"{w}.mc_rollouts", 0
                ),
                test_tasks=_int(e.get("test_tasks", defaults["test_tasks"]), f"{w}.test_tasks", 1),
                max_steps=None if ms is None else _int(ms, f"{w}.max_steps", 1),
                methods=None
                if em is None
                else tuple(parse_method(m, f"{w}.methods[{j}]") for j, m in enumerate(em)),
                name=str(e.get("name") or ""),
            )
        )
    shorts = [e.short for e in envs]
    if len(set(shorts)) != len(shorts):
        raise SweepConfigError(f"envs: two envs share a short name {shorts}; give 'name'")
    prms_raw = data.get("prms")
    if not isinstance(prms_raw, list) or not prms_raw:
        raise SweepConfigError("prms: expected a non-empty list")
    prms = tuple(_parse_prm(p, f"prms[{i}]") for i, p in enumerate(prms_raw))
    names = [p.name for p in prms]
    if len(set(names)) != len(names):
        raise SweepConfigError(f"prms: duplicate names {names}")
    meth_raw = data.get("methods")
    if not isinstance(meth_raw, list) or not meth_raw:
        raise SweepConfigError(f"methods: expected a non-empty list ({_METHODS_HELP})")
    methods = tuple(parse_method(m, f"methods[{i}]") for i, m in enumerate(meth_raw))
    for i, env in enumerate(envs):
        own = env.methods is not None
        if any(m.family == "greedy" for m in (env.methods or methods)) and not is_lm_policy(
            env.policy
        ):
            raise SweepConfigError(
                f"{f'envs[{i}].methods' if own else 'methods'}: greedy decodes an LM policy "
                f"at temperature 0 and envs[{i}].policy {env.policy!r} has no temperature "
                "(hf:... and openai:... do); one policy sample per step is `policy`"
            )
    if "seeds" in data and "seed" in data:
        raise SweepConfigError("config: give 'seeds' or 'seed', not both")
    if "seeds" in data:
        sr = data["seeds"]
        if not isinstance(sr, list) or not sr:
            raise SweepConfigError("seeds: expected a non-empty list of integers")
        seeds = tuple(_int(s, f"seeds[{i}]") for i, s in enumerate(sr))
    else:
        seeds = (_int(data.get("seed", 0), "seed"),)
    all_methods = [m for env in envs for m in (env.methods or methods)]
    repeats = _parse_repeats(data.get("repeats"), prms, all_methods)
    train = data.get("train") or {}
    if not isinstance(train, dict):
        raise SweepConfigError("train: expected a mapping with 'args'")
    _unknown(train, {"args"}, "train")
    reference = str(data.get("reference", "agentprm"))
    threads = data.get("torch_threads")
    return SweepConfig(
        name=str(data.get("name") or name),
        envs=tuple(envs),
        prms=prms,
        methods=methods,
        seeds=seeds,
        repeats=repeats,
        train_args=_str_list(train.get("args"), "train.args"),
        workers=_int(data.get("workers", 1), "workers", 1),
        examples=_int(data.get("examples", 3), "examples"),
        reference=reference,
        torch_threads=None if threads is None else _int(threads, "torch_threads", 1),
        lockstep=_int(data.get("lockstep", 16), "lockstep", 1),
        source=source,
    )


def load_config(path: str | Path) -> SweepConfig:
    """Read and validate a YAML sweep config (name defaults to the file's stem).

    Raises:
        FileNotFoundError: If the file does not exist.
        SweepConfigError: For invalid YAML or an invalid config.
    """
    import yaml

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise SweepConfigError(f"{p}: not valid YAML: {' '.join(str(e).split())}") from e
    try:
        return parse_config(data, name=p.stem, source=str(p))
    except SweepConfigError as e:
        raise SweepConfigError(f"{p}: {e}") from None
