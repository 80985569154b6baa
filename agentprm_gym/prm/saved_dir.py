"""What a PRM directory saved by ``train-prm`` consists of.

``train-prm --out DIR`` replaces an earlier PRM in ``DIR`` (and only a PRM: an
``sft`` output or other files there are refused). These helpers say which
entries of a directory belong to a saved PRM, of either architecture or an
ensemble, and whether a directory holds one.
"""

from __future__ import annotations

from pathlib import Path

from agentprm_gym.outdir import earlier_output, visible_entries

__all__ = ["PRM_FILES", "holds_prm", "prm_owned"]

#: The files and folders a saved PRM consists of (an earlier PRM's are replaced, not kept):
#: both architectures' files, an ensemble's members, the summary and a sweep's done-marker.
PRM_FILES = frozenset(
    {
        "prm_config.json",
        "model.safetensors",
        "train_result.json",
        ".sweep_trained.json",
        "encoder",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.txt",
        "vocab.json",
        "merges.txt",
        "tokenizer.model",
        "spiece.model",
        "sentencepiece.bpe.model",
    }
)


def prm_owned(name: str) -> bool:
    """Whether an entry of an earlier PRM's directory is part of that PRM."""
    return name in PRM_FILES or (name.startswith("member-") and name[7:].isdigit())


def holds_prm(directory: Path) -> bool:
    """Whether ``directory`` holds a PRM that train-prm saved (or one put aside there).

    It holds ``prm_config.json``; or only a PRM's files, with train-prm's
    ``train_result.json`` or an ensemble's ``member-K/`` folders among them (as a
    failed run of an earlier version left it); or only a PRM's files next to a
    hidden ``.replaced-*`` folder that holds a PRM (as a run killed outright while
    it wrote into the directory itself leaves it: see
    :class:`~agentprm_gym.outdir.StagedDir`).
    """
    if earlier_output(directory, "prm_config.json", prm_owned):
        return True
    visible = visible_entries(directory)
    ours = "train_result.json" in visible or any(n.startswith("member-") for n in visible)
    return ours and all(prm_owned(n) for n in visible)
