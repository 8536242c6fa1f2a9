"""A Segment Anything checkpoint with random weights, for tests and benchmarks (nothing is downloaded).

:func:`make_random_sam_checkpoint` builds ultralytics' network for a SAM
family member with the builder's own random initialisation (seeded, so the
file is the same every time) and saves its ``state_dict`` with
``torch.save``, which is the form the published checkpoints have and the
form ultralytics' SAM loader reads. The file is named after the
architecture (``mobile_sam.pt``, ``sam2.1_t.pt`` ...), the names
ultralytics' ``SAM(...)`` recognises; Luma's model manager identifies the
architecture from the parameter names, not from the file name.

Random weights give meaningless masks: use it to test plumbing (shapes,
dtypes, prompts, the embedding cache) and to time the network, never to
judge quality. Importable as ``tests.plugins.sam_fixture`` (pytest runs with
``--import-mode=importlib`` and the repository root on ``sys.path``).
"""

from __future__ import annotations

from pathlib import Path

KINDS = ("mobile_sam", "sam_b", "sam_l", "sam_h", "sam2_t", "sam2_s", "sam2_b", "sam2_l",
         "sam2.1_t", "sam2.1_s", "sam2.1_b", "sam2.1_l")


def make_random_sam_checkpoint(folder, kind: str = "mobile_sam", seed: int = 0) -> Path:
    """Write ``folder/<kind>.pt``: the ``kind`` network with seeded random weights; returns its path.

    An existing file of that name is reused (the content would be the same).
    ``mobile_sam`` (10 M parameters, 40 MB) is the one cheap enough for tests;
    ``sam2_t`` / ``sam2.1_t`` are 39 M parameters (156 MB).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown SAM kind {kind!r} (one of {', '.join(KINDS)})")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}.pt"
    if path.is_file():
        return path
    import torch

    from plugins.ultralytics_backend.sam import build_network

    with torch.random.fork_rng(devices=[]):  # do not disturb the caller's random state
        torch.manual_seed(seed)
        network = build_network(kind)  # no state: the builder's random initial weights
    part = path.with_name(f".{path.name}.part")
    torch.save(network.state_dict(), part)
    part.replace(path)
    return path
