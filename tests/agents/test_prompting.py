"""The ReAct-style prompt and the LM policies' episode memory."""

from __future__ import annotations

from agentprm_gym.agents.prompting import (
    SYSTEM_PROMPT,
    LMPolicy,
    PromptConfig,
    build_messages,
    render_prompt,
)


def test_message_layout_and_limits():
    turns = [(f"obs {i}", f"act {i}") for i in range(6)]
    msgs = build_messages(
        "Find the mug.",
        turns,
        "now " + "x" * 50,
        [f"a{i}" for i in range(7)],
        PromptConfig(max_turns=2, max_obs_chars=20, max_admissible=5),
    )
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert msgs[0]["content"] == SYSTEM_PROMPT
    u = msgs[1]["content"]
    assert u.startswith("Task: Find the mug.")
    assert "obs 3" not in u and "Observation: obs 4\nAction: act 4" in u and "act 5" in u
    assert "..." + "x" * 20 in u and "now" not in u  # cut keeps the end
    assert "- a4" in u and "- a5" not in u and "(2 more)" in u
    assert u.index("Recent steps") < u.index("Current observation") < u.index("Valid actions")
    bare = build_messages("", [], "o", None)[1]["content"]
    assert "Valid actions" not in bare and "Recent steps" not in bare


def test_render_plain_and_with_template():
    msgs = build_messages("T", [], "o", ["a"])
    plain = render_prompt(msgs, None)
    assert plain.startswith("System: ") and plain.endswith("Assistant:")

    class Tok:
        chat_template = "x"

        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            assert tokenize is False and add_generation_prompt is True
            return "|".join(m["role"] for m in messages)

    assert render_prompt(msgs, Tok()) == "system|user"


class Echo(LMPolicy):
    """Answers 'Action: <k-th admissible action>' (k = call count), recording prompts."""

    def __init__(self):
        super().__init__(seed=0)
        self.prompts = []

    def _generate(self, messages, n):
        self.prompts.append(messages[1]["content"])
        return [f"Thought: t\nAction: step{self.stats.calls}"] * n


def test_memory_of_single_sample_play_and_explicit_history():
    p = Echo()
    info = {"instruction": "T", "steps": 0}
    assert p.propose("o0", info, 1) == ["step1"]
    p.propose("o1", {**info, "steps": 1}, 1)
    assert "Observation: o0\nAction: step1" in p.prompts[-1]
    p.propose("o2", {**info, "steps": 2}, 1)
    assert "Observation: o1\nAction: step2" in p.prompts[-1]
    # steps says only one turn passed (e.g. a restored state): memory is cut back
    p.propose("o1b", {**info, "steps": 1}, 1)
    assert "o1" not in p.prompts[-1].split("Current observation")[0]
    # a new episode clears it
    p.propose("new", {**info, "steps": 0}, 1)
    assert "Recent steps" not in p.prompts[-1]
    # explicit history wins and is not remembered
    p.propose("x", {**info, "steps": 5, "history": [("h0", "a0")]}, 3)
    assert "Observation: h0\nAction: a0" in p.prompts[-1]
    assert p.stats.calls == 6 and p.stats.sampled_actions == 8
