"""OpenAIPolicy's base-URL normalisation (no server needed)."""

from __future__ import annotations

from agentprm_gym.agents.openai_policy import normalize_base_url


def test_normalize_base_url():
    assert normalize_base_url("http://h:1") == "http://h:1/v1"
    assert normalize_base_url("h:1/") == "http://h:1/v1"
    assert normalize_base_url("http://h:1/api/v1/") == "http://h:1/api/v1"
