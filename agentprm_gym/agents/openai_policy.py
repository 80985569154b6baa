"""``OpenAIPolicy``: an agent policy served by any OpenAI-compatible server.

The same ReAct-style prompt as :class:`~agentprm_gym.agents.hf_policy.HFPolicy`
(:mod:`~agentprm_gym.agents.prompting`) is sent as chat messages to
``/v1/chat/completions`` of vLLM, llama.cpp's server, ``transformers serve``,
or the OpenAI API, through the ``openai`` client. ``n`` samples are asked for
in one request (``n=n``); a server that ignores ``n`` and returns fewer
choices is asked again one sample at a time for the rest, and from then on
the policy makes ``n`` single requests directly. Each request carries a
``seed`` drawn from the policy's RNG (servers that honour it make the policy
reproducible). The client's own timeout and retry (with backoff, on
connection errors, 408/409/429 and 5xx) are used. Token counts come from the
responses' ``usage``.

Log-probabilities (:meth:`~agentprm_gym.agents.prompting.LMPolicy.propose_with_logprobs`,
used by beam search's policy prior): the request then asks for ``logprobs``,
and a completion's log-probability is the sum of its tokens' ``logprob``. A
server that returns none for some choice gives None (search then estimates π
from the sample counts).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

from agentprm_gym.agents.action_extraction import DEFAULT_FUZZY_CUTOFF
from agentprm_gym.agents.prompting import LMPolicy, PromptConfig

__all__ = ["OpenAIPolicy", "normalize_base_url"]


def normalize_base_url(url: str) -> str:
    """``http://host:port`` → ``http://host:port/v1``; a URL with a path is kept as given."""
    u = url.strip().rstrip("/")
    if "://" not in u:
        u = "http://" + u
    if urlparse(u).path in ("", "/"):
        u += "/v1"
    return u


class OpenAIPolicy(LMPolicy):
    """A chat model behind an OpenAI-compatible HTTP API.

    Args:
        model: Model name the server knows.
        base_url: Server URL (``/v1`` is appended when the URL has no path).
        api_key: API key (default: ``$OPENAI_API_KEY``, else a placeholder that
            local servers accept).
        seed: Seed of the policy's RNG (request seeds are drawn from it).
        temperature: Sampling temperature.
        top_p: Nucleus sampling mass.
        max_tokens: Longest completion.
        timeout: Seconds per request before the client gives up on it.
        max_retries: Retries per request (the ``openai`` client's backoff).
        prompt: Prompt layout.
        fuzzy_cutoff: Minimum fuzzy score to snap text to an admissible action.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str | None = None,
        seed: int | None = None,
        temperature: float = 0.7,
        top_p: float = 0.95,
        max_tokens: int = 48,
        timeout: float = 60.0,
        max_retries: int = 2,
        prompt: PromptConfig | None = None,
        fuzzy_cutoff: float = DEFAULT_FUZZY_CUTOFF,
    ) -> None:
        super().__init__(seed, prompt, fuzzy_cutoff)
        from openai import OpenAI

        self.model = model
        self.base_url = normalize_base_url(base_url)
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.max_tokens = int(max_tokens)
        self.client = OpenAI(
            base_url=self.base_url,
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
            timeout=float(timeout),
            max_retries=int(max_retries),
        )
        #: False once the server was seen to ignore ``n``.
        self.server_supports_n = True
        #: HTTP requests made.
        self.requests = 0
        self.name = f"openai:{model}"

    def _request(self, messages: list[dict[str, str]], n: int) -> list[tuple[str, float | None]]:
        """One chat request; each choice's text and (when asked for) its log-probability."""
        import openai

        kw: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self._sampler_seed(),
        }
        if n > 1:
            kw["n"] = n
        if self.want_logprobs:
            kw["logprobs"] = True
        self.requests += 1
        try:
            resp = self.client.chat.completions.create(**kw)
        except openai.OpenAIError as e:
            raise RuntimeError(
                f"OpenAI-compatible server at {self.base_url} failed: {type(e).__name__}: {e}"
            ) from e
        if resp.usage is not None:
            self.stats.prompt_tokens += int(resp.usage.prompt_tokens or 0)
            self.stats.completion_tokens += int(resp.usage.completion_tokens or 0)
        choices = sorted(resp.choices, key=lambda c: c.index)
        return [(c.message.content or "", _choice_logprob(c)) for c in choices]

    def _generate(self, messages: list[dict[str, str]], n: int) -> list[str]:
        got: list[tuple[str, float | None]] = []
        if self.server_supports_n:
            got = self._request(messages, n)[:n]
            if len(got) < n:
                self.server_supports_n = False
        while len(got) < n:
            got.extend(self._request(messages, 1)[:1])
        if self.want_logprobs:
            lps = [lp for _, lp in got]
            self.last_logprobs = None if any(x is None for x in lps) else lps  # type: ignore[assignment]
        return [t for t, _ in got]


def _choice_logprob(choice: Any) -> float | None:
    """Sum of a chat choice's token log-probabilities (None if the server sent none)."""
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    return float(sum(float(t.logprob) for t in content))
