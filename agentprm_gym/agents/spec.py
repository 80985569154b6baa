"""Build a policy from its command-line spec.

Specs: ``random``, ``expert``, ``noisy:EPS``, ``hf:PATH`` or ``hf:smollm2``,
``openai:MODEL@URL``.
"""

from __future__ import annotations

from agentprm_gym.agents.base import Policy

__all__ = ["make_policy", "policy_name", "POLICY_SPEC_HELP"]

POLICY_SPEC_HELP = (
    "policy: random | expert | noisy:EPS (expert w.p. 1-EPS, else random) | "
    "hf:PATH or hf:smollm2 (local transformers LM) | openai:MODEL@URL (OpenAI-compatible server)"
)


def make_policy(spec: str, seed: int | None = None) -> Policy:
    """Parse a policy spec into a policy instance.

    Raises:
        ValueError: For an unknown or malformed spec (the message lists the forms).
    """
    s = spec.strip()
    kind, _, arg = s.partition(":")
    kind = kind.lower()
    if kind == "random" and not arg:
        from agentprm_gym.agents.random_policy import RandomPolicy

        return RandomPolicy(seed=seed)
    if kind == "expert" and not arg:
        from agentprm_gym.agents.expert import ExpertPolicy

        return ExpertPolicy(seed=seed)
    if kind == "noisy":
        from agentprm_gym.agents.expert import NoisyExpertPolicy

        try:
            eps = float(arg)
        except ValueError:
            raise ValueError(
                f"bad policy {spec!r}: noisy:EPS needs a number, e.g. noisy:0.5"
            ) from None
        return NoisyExpertPolicy(eps, seed=seed)
    if kind == "hf" and arg:
        from agentprm_gym.agents.hf_policy import HFPolicy

        return HFPolicy(arg, seed=seed)
    if kind == "openai" and "@" in arg:
        from agentprm_gym.agents.openai_policy import OpenAIPolicy

        model, _, url = arg.partition("@")
        return OpenAIPolicy(model, url, seed=seed)
    raise ValueError(f"unknown policy {spec!r}; {POLICY_SPEC_HELP}")


def policy_name(spec: str) -> str:
    """The name a policy made from ``spec`` records in trajectories, without making it.

    Equal to ``make_policy(spec).name`` (``noisy:0.50`` and ``noisy:0.5`` both give
    ``noisy:0.5``), but loads no model.

    Raises:
        ValueError: For an unknown or malformed spec.
    """
    s = spec.strip()
    kind, _, arg = s.partition(":")
    kind = kind.lower()
    if kind in ("random", "expert") and not arg:
        return kind
    if kind == "noisy":
        try:
            return f"noisy:{float(arg):g}"
        except ValueError:
            raise ValueError(
                f"bad policy {spec!r}: noisy:EPS needs a number, e.g. noisy:0.5"
            ) from None
    if kind == "hf" and arg:
        return f"hf:{arg}"
    if kind == "openai" and "@" in arg:
        return f"openai:{arg.partition('@')[0]}"
    raise ValueError(f"unknown policy {spec!r}; {POLICY_SPEC_HELP}")
