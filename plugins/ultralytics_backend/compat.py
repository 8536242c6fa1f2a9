"""Make torchvision importable next to the CPU-only torch, and keep ultralytics offline.

**torchvision::nms.** The only torchvision builds available are CUDA builds
whose C++ extension (``torchvision/_C.so``) does not load with the CPU torch.
``import torchvision`` then fails in ``torchvision/_meta_registrations.py``
with ``RuntimeError: operator torchvision::nms does not exist``, because it
registers a fake (meta) kernel for an operator nobody defined. Ultralytics
imports torchvision on its prediction path, so detection cannot run at all.

:func:`install` fixes that *before* torchvision is imported: it first tries
to load torchvision's own extension (a matching CPU build works natively and
nothing is replaced); when that fails it defines the operators
``torchvision::nms`` and ``torchvision::qnms`` with :mod:`torch.library`,
gives them the pure-torch implementation :func:`nms` below, imports
torchvision and points ``torchvision.ops.nms`` (which would otherwise refuse
because "the C++ extension did not load") at the operator. Only NMS is
provided; the other C++ ops (roi_align, deform_conv ...) stay unavailable,
which no detector or tracker of ours uses.

**Offline.** :func:`offline_environment` sets ``YOLO_OFFLINE=1`` (ultralytics'
``ONLINE`` is then False, which disables its analytics events, Sentry and
every download/version check), ``YOLO_AUTOINSTALL=0`` (never pip-install a
missing requirement), ``ULTRALYTICS_SAFE_LOAD=1`` (checkpoints are read with
``torch.load(weights_only=True)`` against ultralytics' allow-list of model
classes) and ``YOLO_CONFIG_DIR`` inside Luma's config folder, so ultralytics
never writes into ``~/.config/Ultralytics``. They must be set before
ultralytics is first imported: it reads them at import time.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

_lock = threading.Lock()
_state: str | None = None  # "native" or "shim" once install() ran
_lib = None  # the torch.library.Library holding our definitions (must stay alive)


def offline_environment(config_dir: Path) -> Path:
    """Set ultralytics' environment switches (idempotent); returns its config folder."""
    yolo_dir = Path(config_dir) / "ultralytics"
    yolo_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "0"
    os.environ["ULTRALYTICS_SAFE_LOAD"] = "1"
    os.environ.setdefault("YOLO_VERBOSE", "0")
    os.environ["YOLO_CONFIG_DIR"] = str(yolo_dir)
    return yolo_dir


def nms(boxes, scores, iou_threshold: float):
    """Greedy non-maximum suppression with torchvision's semantics, in plain torch.

    ``boxes`` [N, 4] x1 y1 x2 y2, ``scores`` [N]; returns the int64 indices of
    the kept boxes in decreasing score order. A box is dropped when its IoU
    with a kept, higher-scoring box is *greater* than ``iou_threshold`` (a NaN
    IoU, from two empty boxes, suppresses nothing, as in torchvision).

    The IoU of each kept box with all the remaining candidates is one
    vectorised step, so the Python loop runs once per *kept* box, not once
    per box (and without an N x N matrix, so 30 000 candidates are fine).
    """
    import torch

    if boxes.dim() != 2 or boxes.size(1) != 4:
        raise RuntimeError(f"boxes should be a [N, 4] tensor, got {tuple(boxes.shape)}")
    if scores.dim() != 1 or scores.size(0) != boxes.size(0):
        raise RuntimeError(f"scores should be a [N] tensor matching boxes, got {tuple(scores.shape)}")
    n = boxes.size(0)
    if n == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    order = torch.sort(scores, descending=True, stable=True).indices
    b = boxes[order]
    x1, y1, x2, y2 = b.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    alive = torch.arange(n, device=boxes.device)  # positions in the sorted order still candidates
    keep = []
    while alive.numel():
        i = alive[0]
        keep.append(i)
        rest = alive[1:]
        if not rest.numel():
            break
        w = (torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest])).clamp(min=0)
        h = (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest])).clamp(min=0)
        inter = w * h
        overlap = inter / (areas[i] + areas[rest] - inter)
        alive = rest[~(overlap > iou_threshold)]
    return order[torch.stack(keep)]


def _qnms(boxes, scores, iou_threshold: float):
    """Quantized NMS: torchvision passes the integer representation (IoU and order survive the scaling)."""
    if boxes.is_quantized:
        boxes, scores = boxes.dequantize(), scores.dequantize()
    return nms(boxes.float(), scores.float(), iou_threshold)


def _native_ops_load() -> bool:
    """Load torchvision's own C++ ops if this build can (without importing torchvision)."""
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    folder = Path(list(spec.submodule_search_locations)[0])
    for lib in sorted(folder.glob("_C*.so")) + sorted(folder.glob("_C*.pyd")):
        try:
            torch.ops.load_library(str(lib))
        except (OSError, ImportError, RuntimeError):
            continue
        return _op_defined("torchvision::nms")
    return False


def _op_defined(qualname: str) -> bool:
    import torch

    try:
        torch._C._dispatch_find_schema_or_throw(qualname, "")
    except RuntimeError:
        return False
    return True


def install() -> str:
    """Provide ``torchvision::nms`` before torchvision is imported; returns ``"native"`` or ``"shim"``.

    Safe to call repeatedly and from several threads. If torchvision was
    already imported (successfully) by somebody else, its ops are whatever
    it loaded and nothing is changed.
    """
    global _state, _lib
    with _lock:
        if _state is not None:
            return _state
        import torch

        if _op_defined("torchvision::nms") or _native_ops_load():
            _state = "native"
            return _state
        if "torchvision" in sys.modules:  # half-imported by a failed attempt: it must be imported again
            for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
                del sys.modules[name]
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.impl("nms", nms, "CPU")
        lib.impl("qnms", _qnms, "CPU")
        lib.impl("qnms", _qnms, "QuantizedCPU")
        _lib = lib
        _patch_torchvision()
        _state = "shim"
        return _state


def _patch_torchvision() -> None:
    """Import torchvision (it imports now that the op exists) and route ``ops.nms`` to the op.

    ``torchvision.ops.nms`` first asserts that the C++ extension loaded, which
    stays false (and should: roi_align and friends are still missing), so
    ``nms`` and ``batched_nms`` (which calls the module-level ``nms``) are
    pointed at a version without that check.
    """
    import torch
    import torchvision.ops
    import torchvision.ops.boxes as boxes_module

    original = boxes_module.nms

    def tv_nms(boxes, scores, iou_threshold: float):
        if boxes.is_quantized:  # as torchvision does
            return torch.ops.torchvision.qnms(boxes.int_repr(), scores.int_repr(), iou_threshold)
        return torch.ops.torchvision.nms(boxes, scores, iou_threshold)

    tv_nms.__doc__ = original.__doc__
    tv_nms.__wrapped__ = original
    boxes_module.nms = tv_nms
    torchvision.ops.nms = tv_nms


def state() -> str | None:
    """``None`` before :func:`install`, then ``"native"`` or ``"shim"``."""
    return _state
