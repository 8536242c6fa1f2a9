"""The ``sam`` segmenter: Segment Anything (SAM, MobileSAM, SAM 2 / 2.1) through ultralytics, on the CPU.

:class:`SamSegmenter` implements :class:`core.vision.segment.Segmenter` for a
Segment Anything checkpoint the model manager knows (task
:data:`core.vision.model_files.SAM_TASK`: a file in the user's models
folder or one added with ``luma models add PATH``). Nothing is downloaded:
with no such checkpoint :func:`sam_available` says so and the factory raises
:class:`~core.vision.types.VisionError`.

* **Loading.** Ultralytics' own SAM loader reads checkpoints with
  ``torch.load(weights_only=False)``, i.e. it would run whatever a pickle
  names. Here the file is read with ``torch.load(weights_only=True)``
  (tensors only) and must be a ``{name: tensor}`` state dict (bare or under
  ``"model"``). The network is built by ultralytics' builder for the
  architecture the model manager identified from the parameter names
  (``info.arch``: ``mobile_sam``, ``sam_b``, ``sam2.1_t`` ...; the file name
  does not matter), with the builder's checkpoint hook pointed at that state
  dict for the duration of the call (:func:`build_network`), and the weights
  are loaded strictly (a missing or extra parameter is an error). A loaded
  network and its ultralytics predictor are cached per file (path, mtime,
  size) for the life of the process and shared by all segmenters, behind one
  lock per predictor (an ultralytics predictor is not thread-safe).
* **Prompts.** A :class:`~core.vision.segment.Prompt` box goes to the
  predictor as ``bboxes`` and its points as one object's ``points`` with
  ``labels`` 1 (+) / 0 (-), in frame pixels. A single click without a box is
  ambiguous (part or whole?), so SAM is asked for three masks and the one
  with the best predicted score is kept; otherwise one mask is asked for.
* **Embedding cache.** The image encoder is the expensive part (about 95 %
  of a prompt's time); the prompt encoder and mask decoder are cheap. Each
  segmenter keeps the encoder output of its last ``cache_frames`` frames,
  keyed by the ``key`` the caller passes (a frame index): prompting the same
  frame again runs only the decoder. A key is trusted only together with the
  frame's shape and a fingerprint of a sparse pixel sample, so a caller that
  reuses a key for another picture gets a fresh embedding, not a stale mask.
  Without a key nothing is cached.
* **Output.** ``uint8 [H, W]``, 255 inside and 0 outside, at the frame's
  size (ultralytics scales the 256x256 logits back through its letterbox and
  thresholds them).
* Frames come in RGB; ultralytics' predictor reads numpy images as BGR, so
  the channel order is flipped once at the call.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from core.vision.model_files import SAM_IMGSZ
from core.vision.models import ModelInfo, ModelManager, cache_key
from core.vision.segment import Prompt
from core.vision.types import VisionError, check_frame
from plugins.ultralytics_backend.detector import backend_missing

__all__ = ["SamSegmenter", "make_sam", "sam_available", "find_sam_model", "load_sam", "build_network",
           "verify_sam", "missing_message"]

_cache: dict[tuple[str, int, int], tuple[object, threading.Lock]] = {}
_cache_lock = threading.Lock()
_build_lock = threading.Lock()


def missing_message(manager: ModelManager | None = None) -> str:
    """What to do when no Segment Anything checkpoint is installed."""
    manager = manager or ModelManager()
    known = ", ".join(m.name for m in manager.models()) or "none"
    return (f"no Segment Anything checkpoint is installed (known models: {known}). Luma never downloads models: "
            f"copy a SAM, MobileSAM or SAM 2 checkpoint (e.g. mobile_sam.pt, sam2.1_t.pt, sam_vit_b_01ec64.pth) "
            f"into {manager.models_folder}, or add one with `luma models add PATH`")


def sam_available() -> str | None:
    """Registry availability: None when a SAM checkpoint can run, else why not (torch missing, no checkpoint)."""
    reason = backend_missing()
    if reason:
        return reason
    manager = ModelManager()
    if not manager.sam_models():
        return missing_message(manager)
    return None


def find_sam_model(model: ModelInfo | str | None = None, manager: ModelManager | None = None) -> ModelInfo:
    """A Segment Anything checkpoint: ``model`` itself, the one of that name, or (None) the first one installed."""
    manager = manager or ModelManager()
    if model is None:
        found = manager.sam_models()
        if not found:
            raise VisionError(missing_message(manager))
        return found[0]
    info = model if isinstance(model, ModelInfo) else manager.find(str(model))
    if not info.is_sam:
        sams = ", ".join(m.name for m in manager.sam_models()) or "none installed"
        raise VisionError(f"model {info.name} is a {info.task} model, not a Segment Anything checkpoint "
                          f"(Segment Anything checkpoints: {sams})")
    return info


def build_network(arch: str, state: dict | None = None):
    """Ultralytics' SAM-family network ``arch`` (``mobile_sam``, ``sam_b``, ``sam2.1_t`` ...), eval mode, on the CPU.

    ``state`` (a state dict already read safely) is loaded strictly; None
    leaves the builder's random initial weights (for tests). The builders take
    a checkpoint *name* and read it with their own (unsafe) loader, and SAM 2.1
    differs from SAM 2 only by that name, so the builder is called with the
    canonical name while its module-level checkpoint hook is replaced, under a
    lock, by one that loads ``state``.
    """
    from plugins.ultralytics_backend import prepare

    prepare()
    from ultralytics.models.sam import build

    if not callable(getattr(build, "_load_checkpoint", None)):  # never fall back to ultralytics' own loader
        raise VisionError("this ultralytics version builds SAM networks differently from the one Luma supports "
                          "(ultralytics.models.sam.build._load_checkpoint is gone); install the pinned version")
    builder = build.sam_model_map.get(f"{arch}.pt")
    if builder is None:
        raise VisionError(f"unknown Segment Anything architecture {arch!r} "
                          f"(known: {', '.join(k[:-3] for k in build.sam_model_map)})")

    def load_state(network, _checkpoint):
        if state is not None:
            network.load_state_dict(state, strict=True)
        return network

    with _build_lock:
        original = build._load_checkpoint
        build._load_checkpoint = load_state
        try:
            network = builder(f"{arch}.pt")
        finally:
            build._load_checkpoint = original
    return network.eval()


def _read_state(path: Path) -> dict:
    """The checkpoint's ``{name: tensor}`` state dict, read with ``torch.load(weights_only=True)``."""
    import pickle

    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise VisionError(f"{path.name}: the checkpoint cannot be loaded: it names Python objects other than "
                          f"tensors, so loading it could run code (Luma loads weights with "
                          f"torch.load(weights_only=True)); use a checkpoint as published") from None
    except (RuntimeError, OSError, EOFError, ValueError, KeyError, AttributeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise VisionError(f"{path.name}: the checkpoint cannot be loaded ({first}); copy it again") from None
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not (isinstance(data, dict) and data and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                    for k, v in data.items())):
        raise VisionError(f"{path.name}: not a Segment Anything state dict (parameter names -> tensors)")
    return data


def load_sam(info: ModelInfo):
    """The ultralytics SAM predictor for a checkpoint and its lock (cached per path+mtime+size)."""
    if not info.is_sam:
        raise VisionError(f"model {info.name} is a {info.task} model, not a Segment Anything checkpoint")
    reason = backend_missing()
    if reason:
        raise VisionError(f"{info.name}: cannot run Segment Anything models: {reason}")
    key = cache_key(info)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit
        state = _read_state(info.path)
        try:
            network = build_network(info.arch, state)
        except RuntimeError as exc:  # load_state_dict: missing / unexpected / mis-shaped parameters
            first = (str(exc).strip().splitlines() or [""])[0]
            raise VisionError(f"{info.path.name}: the weights do not fit the {info.arch} network ({first}); "
                              f"copy the checkpoint again") from None
        from ultralytics.models.sam.predict import Predictor, SAM2Predictor

        cls = SAM2Predictor if info.arch.startswith("sam2") else Predictor
        predictor = cls(overrides={"device": "cpu", "imgsz": SAM_IMGSZ, "conf": 0.0, "verbose": False,
                                   "save": False})
        import torch

        threads = torch.get_num_threads()
        predictor.setup_model(model=network, verbose=False)
        # ultralytics' select_device("cpu") sets torch's process-wide thread count to cpu_count - 1 (1 on a
        # 2-core machine, where MobileSAM's encoder then takes 3.0 s instead of 2.4 s): put back what it was
        torch.set_num_threads(threads)
        for old in [k for k in _cache if k[0] == key[0]]:
            del _cache[old]  # the file changed on disk: drop the stale copy
        _cache[key] = (predictor, threading.Lock())
        return _cache[key]


def verify_sam(info: ModelInfo) -> None:
    """Load a checkpoint for real (raises VisionError if it does not load); for ``luma models add``."""
    load_sam(info)


def _fingerprint(a: np.ndarray) -> bytes:
    """Shape and a hash of a sparse pixel sample: enough to notice a reused key on another picture."""
    h, w = a.shape[:2]
    sample = a[::max(1, h // 24), ::max(1, w // 24)]
    return f"{h}x{w}".encode() + hashlib.blake2b(np.ascontiguousarray(sample).tobytes(), digest_size=8).digest()


class SamSegmenter:
    """``segment(rgb, prompt, key=None) -> uint8 [H, W]`` with a Segment Anything checkpoint (module docstring)."""

    name = "sam"

    def __init__(self, info: ModelInfo, cache_frames: int = 2, multimask: bool | None = None):
        if int(cache_frames) < 1:
            raise VisionError(f"cache_frames must be at least 1, got {cache_frames}")
        self.info = find_sam_model(info)
        self.cache_frames = int(cache_frames)
        self.multimask = multimask
        self.predictor, self._lock = load_sam(self.info)
        self.encoder_runs = 0  # image encoder passes made by this segmenter
        self._features: OrderedDict = OrderedDict()  # key -> (fingerprint, encoder output)
        self._features_lock = threading.Lock()

    @property
    def network(self):
        """The torch network (``image_encoder``, prompt encoder, mask decoder)."""
        return self.predictor.model

    def clear_cache(self) -> None:
        with self._features_lock:
            self._features.clear()

    def embed(self, rgb: np.ndarray, key: object | None = None):
        """The image encoder's output for a frame, from the cache when ``key`` (and the picture) match."""
        a = check_frame(rgb)
        if key is not None:
            try:
                hash(key)
            except TypeError:
                raise VisionError(f"a segmentation key must be hashable (a frame index), "
                                  f"got {type(key).__name__}") from None
        fp = _fingerprint(a)
        if key is not None:
            with self._features_lock:
                hit = self._features.get(key)
                if hit is not None and hit[0] == fp:
                    self._features.move_to_end(key)
                    return hit[1]
        bgr = np.ascontiguousarray(a[..., ::-1])  # the predictor reads numpy frames as BGR
        with self._lock:
            self.predictor.set_image(bgr)
            features = self.predictor.features
            self.predictor.reset_image()
            self.predictor.dataset = None  # do not keep the frame alive
            self.encoder_runs += 1
        if key is not None:
            with self._features_lock:
                self._features[key] = (fp, features)
                self._features.move_to_end(key)
                while len(self._features) > self.cache_frames:
                    self._features.popitem(last=False)
        return features

    def segment(self, rgb: np.ndarray, prompt: Prompt, key: object | None = None) -> np.ndarray:
        a = check_frame(rgb)
        if not isinstance(prompt, Prompt):
            raise VisionError(f"expected a Prompt, got {type(prompt).__name__}")
        h, w = a.shape[:2]
        _check_prompt(prompt, w, h)
        features = self.embed(a, key)
        bboxes = None if prompt.box is None else np.array([prompt.box], np.float32)
        points = labels = None
        if prompt.points:
            points = np.array([[(x, y) for x, y, _ in prompt.points]], np.float32)  # one object, P points
            labels = np.array([[1 if p else 0 for _, _, p in prompt.points]], np.int32)
        multimask = self.multimask if self.multimask is not None else (prompt.box is None
                                                                       and len(prompt.points) == 1)
        with self._lock:
            masks, boxes = self.predictor.inference_features(features, (h, w), bboxes=bboxes, points=points,
                                                             labels=labels, multimask_output=bool(multimask))
        if masks is None or len(masks) == 0:
            return np.zeros((h, w), np.uint8)
        best = int(boxes[:, 4].argmax()) if len(masks) > 1 else 0
        matte = masks[best].cpu().numpy()
        if matte.shape != (h, w):
            raise VisionError(f"{self.info.name}: the mask came back {matte.shape[1]}x{matte.shape[0]}, "
                              f"not {w}x{h}")
        return matte.astype(np.uint8) * np.uint8(255)



def _check_prompt(prompt: Prompt, w: int, h: int) -> None:
    for x, y, pos in prompt.points:
        if pos and not (0 <= x < w and 0 <= y < h):
            raise VisionError(f"point ({x:g}, {y:g}) lies outside the {w}x{h} frame")
    if prompt.box is not None:
        x1, y1, x2, y2 = prompt.box
        if x2 <= 0 or y2 <= 0 or x1 >= w or y1 >= h:
            raise VisionError(f"box {tuple(round(v, 1) for v in prompt.box)} lies outside the {w}x{h} frame")


def make_sam(model: ModelInfo | str | None = None, **options) -> SamSegmenter:
    """Registry factory: ``model`` is a ModelInfo, a checkpoint name known to the manager, or None (the first one)."""
    return SamSegmenter(find_sam_model(model), **options)
