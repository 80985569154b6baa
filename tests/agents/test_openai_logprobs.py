"""OpenAIPolicy's log-probabilities, with the chat client replaced by a recording stub.

The stub answers like an OpenAI-compatible server: ``choices`` with ``index``,
``message.content`` and, when asked for, ``logprobs.content`` (one entry per
token). The end-to-end tests against a real server are in
``test_openai_policy.py`` (slow).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("openai")

from agentprm_gym.agents.openai_policy import OpenAIPolicy  # noqa: E402

INFO = {
    "instruction": "Walk to room 3.",
    "admissible_actions": ["go[next]", "wait", "jump[pit]"],
    "steps": 0,
}
TEXTS = {"go[next]": [-0.5, -0.25], "wait": [-2.0, -1.0, -0.5]}


class StubCompletions:
    """Returns ``n`` choices cycling through TEXTS; ``honour_n=False`` returns one."""

    def __init__(self, honour_n: bool = True, send_logprobs: bool = True) -> None:
        self.honour_n, self.send_logprobs = honour_n, send_logprobs
        self.requests: list[dict] = []

    def create(self, **kw):
        self.requests.append(kw)
        n = kw.get("n", 1) if self.honour_n else 1
        names = list(TEXTS)
        choices = []
        for i in range(n):
            act = names[(len(self.requests) + i) % len(names)]
            lp = None
            if kw.get("logprobs") and self.send_logprobs:
                lp = SimpleNamespace(content=[SimpleNamespace(logprob=x) for x in TEXTS[act]])
            choices.append(
                SimpleNamespace(
                    index=i, message=SimpleNamespace(content=f"Action: {act}"), logprobs=lp
                )
            )
        return SimpleNamespace(choices=choices, usage=None)


def _policy(stub: StubCompletions) -> OpenAIPolicy:
    p = OpenAIPolicy("m", "http://127.0.0.1:9", seed=0)
    p.client = SimpleNamespace(chat=SimpleNamespace(completions=stub))
    return p


@pytest.mark.parametrize("honour_n", [True, False])
def test_logprobs_are_summed_per_choice(honour_n):
    stub = StubCompletions(honour_n=honour_n)
    p = _policy(stub)
    acts, lps = p.propose_with_logprobs("o", INFO, 3)
    assert len(acts) == len(lps) == 3
    assert lps == [sum(TEXTS[a]) for a in acts]
    assert all(r.get("logprobs") is True for r in stub.requests)
    # plain proposals do not ask for them
    stub.requests.clear()
    p.propose("o", INFO, 2)
    assert all("logprobs" not in r for r in stub.requests)


def test_a_server_without_logprobs_gives_none():
    p = _policy(StubCompletions(send_logprobs=False))
    acts, lps = p.propose_with_logprobs("o", INFO, 2)
    assert len(acts) == 2 and lps is None
