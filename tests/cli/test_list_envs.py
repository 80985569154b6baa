"""``agentprm-gym list``: families."""

from __future__ import annotations

import json

from agentprm_gym.cli import main


def test_unknown_family_is_an_error_naming_the_known_ones(capsys):
    assert main(["list", "--family", "nope", "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    err = out.err.strip().splitlines()
    assert len(err) == 1 and "unknown family 'nope'" in err[0], err
    assert "webshop" in err[0] and "babyai" in err[0]


def test_known_family_lists_its_ids(capsys):
    assert main(["list", "--family", "webshop", "--json"]) == 0
    ids = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["ids"]
    assert ids and all("WebShop" in i for i in ids)
