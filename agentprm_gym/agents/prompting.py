"""The ReAct-style prompt shared by the language-model policies, and their common base.

The prompt is a chat: one system message, then one user message that holds

- the task instruction (``info["instruction"]``),
- the most recent turns (up to ``PromptConfig.max_turns`` earlier
  observation → action pairs, each observation cut to ``max_obs_chars``),
- the current observation,
- the admissible actions where the env lists them (up to ``max_admissible``),
- the answer format: a ``Thought:`` line, then ``Action: <one action>``.

:func:`render_prompt` applies the tokenizer's chat template when it has one
(``add_generation_prompt=True``); otherwise it writes the messages as plain
``System:``/``User:`` blocks followed by ``Assistant:``. An OpenAI-compatible
server gets the messages themselves.

Recent turns: search and lookahead code pass the branch's turns in
``info["history"]`` (a list of ``(observation, action)`` pairs). Without it the
policy remembers the episode itself, assuming that when it was asked for a
single action (``n = 1``, as in a plain rollout) that action was taken; the
memory restarts when ``info["steps"]`` is 0 and is cut back when ``steps``
says fewer turns have passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentprm_gym.agents.action_extraction import DEFAULT_FUZZY_CUTOFF, extract_action
from agentprm_gym.agents.base import Policy

__all__ = ["SYSTEM_PROMPT", "LMPolicy", "PromptConfig", "build_messages", "render_prompt"]

SYSTEM_PROMPT = (
    "You are an agent that completes tasks in a text environment. At each step you read "
    "the latest observation and choose exactly one action. Answer in two lines:\n"
    "Thought: <one short sentence of reasoning>\n"
    "Action: <the action, written exactly as in the list of valid actions when one is given>"
)


@dataclass(frozen=True)
class PromptConfig:
    """How much of the episode goes into the prompt.

    Attributes:
        max_turns: Earlier (observation, action) turns shown.
        max_obs_chars: Each observation is cut to this many characters (its end kept).
        max_admissible: At most this many admissible actions are listed.
        system: The system message.
    """

    max_turns: int = 4
    max_obs_chars: int = 1200
    max_admissible: int = 60
    system: str = SYSTEM_PROMPT


def _cut(text: str, limit: int) -> str:
    text = str(text).strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def build_messages(
    instruction: str,
    turns: Sequence[tuple[str, str]],
    observation: str,
    admissible: Sequence[str] | None,
    config: PromptConfig | None = None,
) -> list[dict[str, str]]:
    """The chat messages for one decision (see the module docs for their layout)."""
    cfg = config or PromptConfig()
    parts = [f"Task: {instruction.strip()}" if instruction else "Task: (see the observation)"]
    recent = list(turns)[-cfg.max_turns :] if cfg.max_turns > 0 else []
    if recent:
        lines = ["Recent steps:"]
        for obs, act in recent:
            lines.append(f"Observation: {_cut(obs, cfg.max_obs_chars)}")
            lines.append(f"Action: {act}")
        parts.append("\n".join(lines))
    parts.append(f"Current observation:\n{_cut(observation, cfg.max_obs_chars)}")
    if admissible:
        acts = list(admissible)[: cfg.max_admissible]
        more = len(admissible) - len(acts)
        listing = "\n".join(f"- {a}" for a in acts)
        if more > 0:
            listing += f"\n- ... ({more} more)"
        parts.append(f"Valid actions:\n{listing}")
    parts.append("What is your next step? Reply with a Thought line and an Action line.")
    return [
        {"role": "system", "content": cfg.system},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def render_prompt(messages: list[dict[str, str]], tokenizer: Any = None) -> str:
    """One prompt string: the tokenizer's chat template if it has one, else plain blocks."""
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    blocks = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n\n".join(blocks) + "\n\nAssistant:"


class LMPolicy(Policy):
    """Base of the language-model policies: prompt, episode memory, action extraction.

    Subclasses implement :meth:`_generate` (texts for a message list) and add
    token counts to ``self.stats``. When ``self.want_logprobs`` is set they also
    put the model's log-probability of each text in ``self.last_logprobs``
    (None when it cannot be had), which :meth:`propose_with_logprobs` returns.

    Args:
        seed: Seed of the policy's RNG (drives the sampler's seeds).
        prompt: Prompt layout.
        fuzzy_cutoff: Minimum fuzzy score to snap text to an admissible action.
    """

    def __init__(
        self,
        seed: int | None = None,
        prompt: PromptConfig | None = None,
        fuzzy_cutoff: float = DEFAULT_FUZZY_CUTOFF,
    ) -> None:
        super().__init__(seed)
        self.prompt = prompt or PromptConfig()
        self.fuzzy_cutoff = float(fuzzy_cutoff)
        self._memory: list[tuple[str, str]] = []
        #: Raw texts of the last call (for inspection and debugging).
        self.last_texts: list[str] = []
        #: Whether :meth:`_generate` should compute log-probabilities.
        self.want_logprobs = False
        #: Log-probability of each text of the last call (None: not computed).
        self.last_logprobs: list[float] | None = None

    def turns(self, observation: str, info: dict[str, Any]) -> list[tuple[str, str]]:
        """The recent turns to show for this decision (see the module docs)."""
        if "history" in info:
            return [(str(o), str(a)) for o, a in info["history"]]
        steps = info.get("steps")
        if steps is not None:
            steps = int(steps)
            if steps == 0:
                self._memory = []
            elif len(self._memory) > steps:
                self._memory = self._memory[:steps]
        return list(self._memory)

    def messages(self, observation: str, info: dict[str, Any]) -> list[dict[str, str]]:
        """The chat messages for a decision in this state."""
        return build_messages(
            str(info.get("instruction", "")),
            self.turns(observation, info),
            observation,
            info.get("admissible_actions") or None,
            self.prompt,
        )

    def _propose(self, observation: str, info: dict[str, Any], n: int) -> list[str]:
        msgs = self.messages(observation, info)
        texts = self._generate(msgs, n)
        if len(texts) != n:
            raise RuntimeError(f"{type(self).__name__} produced {len(texts)} texts for n={n}")
        self.last_texts = list(texts)
        adm = info.get("admissible_actions") or None
        actions = [extract_action(t, adm, self.fuzzy_cutoff) for t in texts]
        if n == 1 and "history" not in info:
            self._memory.append((observation, actions[0]))
        return actions

    def propose_with_logprobs(
        self, observation: str, info: dict[str, Any], n: int = 1
    ) -> tuple[list[str], list[float] | None]:
        """``n`` sampled actions and the model's log-probability of each sampled completion.

        The log-probability is that of the whole completion the action was read
        from (its tokens up to and including end-of-sequence), under the model's
        own distribution (temperature 1). None when the backend gives none.
        """
        self.want_logprobs = True
        self.last_logprobs = None
        try:
            actions = self.propose(observation, info, n)
        finally:
            self.want_logprobs = False
        lps = self.last_logprobs
        return actions, (list(lps) if lps is not None and len(lps) == len(actions) else None)

    def _generate(self, messages: list[dict[str, str]], n: int) -> list[str]:
        raise NotImplementedError

    def _sampler_seed(self) -> int:
        """A fresh 31-bit seed for the sampler, drawn from the policy's RNG."""
        return int(self.rng.integers(0, 2**31 - 1))
