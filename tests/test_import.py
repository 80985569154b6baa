import subprocess
import sys

HEAVY = ("torch", "transformers", "playwright", "ray", "minigrid", "bm25s", "openai", "selenium")


def test_import_is_cheap_and_registers_ids():
    code = (
        "import sys, gymnasium as gym, agentprm_gym;"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules));"
        "print(sum(k.startswith('AgentPRM/') for k in gym.registry))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, n = out.stdout.strip().splitlines()
    assert loaded == "[]", f"import agentprm_gym loaded heavy modules: {loaded}"
    assert int(n) >= 1


def test_make_with_module_prefix_needs_no_import():
    code = (
        "import gymnasium as gym; env = gym.make('agentprm_gym:AgentPRM/WebShop-v0'); print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
