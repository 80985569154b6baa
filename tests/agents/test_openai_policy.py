"""OpenAIPolicy against a real OpenAI-compatible HTTP server on 127.0.0.1.

How it runs: a module fixture saves a tiny random-weight llama (tokenizer built
with the ``tokenizers`` library) to a temp dir and starts
``transformers serve DIR --host 127.0.0.1 --port PORT --device cpu`` (needs
``transformers[serving]``: fastapi + uvicorn) as a subprocess, waits for
``GET /v1/models``, and stops it at the end. The policy then talks HTTP to it
through the ``openai`` client. The server ignores ``n``, which exercises the
one-request-per-sample fallback. Start-up takes well over 20 s on a loaded CPU,
so these tests are marked slow.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_lm import build_tiny_lm  # noqa: E402

from agentprm_gym.agents import OpenAIPolicy, make_policy  # noqa: E402

pytestmark = pytest.mark.slow

INFO = {
    "instruction": "Walk to room 3.",
    "admissible_actions": ["go[next]", "wait", "jump[pit]"],
    "steps": 0,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("transformers")
    if exe.exists():
        return [str(exe), "serve"]
    found = shutil.which("transformers")
    if found is None:
        pytest.skip("the `transformers` command is not installed")
    return [found, "serve"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    model_dir = build_tiny_lm(tmp_path_factory.mktemp("served-llama"))
    port = _free_port()
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [
                *_serve_cmd(),
                str(model_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--device",
                "cpu",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/v1/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail(f"transformers serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield str(model_dir), url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_proposes_n_actions_over_http_with_token_usage(server):
    model, url = server
    p = OpenAIPolicy(model, url, seed=0, max_tokens=6, timeout=60)
    assert p.base_url == url + "/v1"
    acts = p.propose("You are in room 0 of 3.", INFO, 3)
    assert len(acts) == 3 and all(isinstance(a, str) for a in acts)
    assert len(p.last_texts) == 3
    # this server ignores n: one request for n=3, then single requests for the rest
    assert p.server_supports_n is False and p.requests == 3
    assert p.stats.prompt_tokens > 50 and 3 <= p.stats.completion_tokens <= 18
    p.propose("You are in room 1 of 3.", {**INFO, "steps": 1}, 2)
    assert p.requests == 5  # fallback remembered: no wasted n-request
    assert p.stats.calls == 2 and p.stats.sampled_actions == 5


def test_make_policy_spec_and_errors(server):
    model, url = server
    p = make_policy(f"openai:{model}@{url}", seed=1)
    assert isinstance(p, OpenAIPolicy)
    p.max_tokens = 4
    assert len(p.propose("o", INFO, 1)) == 1
    dead = OpenAIPolicy(model, f"http://127.0.0.1:{_free_port()}", timeout=2, max_retries=1)
    t0 = time.time()
    with pytest.raises(RuntimeError, match="failed"):
        dead.propose("o", INFO, 1)
    assert time.time() - t0 < 30
