"""Read what a model file is (task, classes, input size, license) without running any of it.

Two formats written by ultralytics, plus Segment Anything checkpoints:

* ``.pt`` — a ``torch.save`` zip archive whose ``data.pkl`` is a *pickle* of
  ``{"model": PoseModel(...), "train_args": {...}, "license": ..., ...}``.
  Unpickling normally imports and calls whatever the pickle names, i.e. runs
  code. :func:`read_pt` does not: its :class:`_StubUnpickler` turns every
  global the pickle names into an inert stand-in class (only
  ``collections.OrderedDict`` and ``set`` are real), never resolves tensor
  storages and never imports torch or ultralytics. Building the stand-ins runs
  only the tiny methods defined here, so reading metadata is safe for any
  file, trusted or not, and needs no torch at all (``luma models list``
  works without the ML packages and takes milliseconds).
* ``.onnx`` — a protobuf ``ModelProto``; ultralytics exports store the same
  facts as ``metadata_props`` (field 14) string pairs. :func:`read_onnx`
  walks the top-level fields itself (seeking over the weights) and parses the
  values with :func:`ast.literal_eval` (literals only, no code).
* ``.pt`` / ``.pth`` Segment Anything checkpoints (SAM, MobileSAM, SAM 2 and
  2.1 as published, which ultralytics' SAM builders load) are not ultralytics
  checkpoints but bare ``state_dict`` s, either at the top level or under
  ``"model"``. The same inert unpickler reads their parameter names and
  shapes (a stubbed tensor keeps its size), and :func:`sam_arch` tells the
  family and size from them: the image encoder's patch embedding
  (``patch_embed.seq`` for MobileSAM's TinyViT, ``patch_embed.proj`` of
  width 768/1024/1280 for SAM ViT-B/L/H, ``trunk.patch_embed.proj`` for
  SAM 2's Hiera, whose width and block count give t/s/b/l, 2.1 having
  ``no_obj_embed_spatial``). Such a file gets task :data:`SAM_TASK`, no
  classes, input size 1024 and ``arch`` the ultralytics name (``mobile_sam``,
  ``sam_b``, ``sam2.1_t`` ...); it is a segmenter, never a detector.

All return a plain dict: ``format``, ``task``, ``classes`` ({int: str}),
``imgsz`` (int, the long side the model was trained/exported at),
``keypoints`` ([K, dims] or None), ``license`` (short id, e.g. ``AGPL-3.0``),
``version`` (ultralytics version that wrote the file) and ``arch``. A file
that is not a model raises :class:`~core.vision.types.VisionError` naming
the file and what is wrong with it.
"""

from __future__ import annotations

import ast
import collections
import os
import pickle
import re
import zipfile
from pathlib import Path

from core.vision.types import VisionError

SUFFIXES = (".pt", ".onnx", ".pth")  # .pth: Segment Anything checkpoints as Meta publishes them
TASKS = ("detect", "pose", "segment", "obb", "classify")
SAM_TASK = "segment-anything"
SAM_IMGSZ = 1024
MAX_PICKLE_BYTES = 64 << 20  # data.pkl of a big YOLO is ~1-5 MB (tensors live in separate entries)
MAX_METADATA_BYTES = 16 << 20
_TASK_OF_CLASS = {"DetectionModel": "detect", "PoseModel": "pose", "SegmentationModel": "segment",
                  "OBBModel": "obb", "ClassificationModel": "classify", "WorldModel": "detect",
                  "YOLOEModel": "detect", "YOLOESegModel": "segment", "RTDETRDetectionModel": "detect"}


def read_metadata(path: str | os.PathLike) -> dict:
    """Metadata of a ``.pt`` or ``.onnx`` model (see the module docstring)."""
    path = Path(path)
    if path.suffix.lower() in (".pt", ".pth"):
        return read_pt(path)
    if path.suffix.lower() == ".onnx":
        return read_onnx(path)
    raise VisionError(f"{path.name}: not a model file (Luma reads YOLO .pt and .onnx files and "
                      f"Segment Anything .pt/.pth checkpoints)")


# ---------------------------------------------------------------- .pt


class _Stub:
    """Stand-in for any class or function a checkpoint's pickle names; it only records what it is given."""

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.__dict__["args"] = args
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.__dict__["state"] = state

    def __setitem__(self, key, value):
        self.__dict__.setdefault("items", {})[key] = value

    def append(self, value):
        self.__dict__.setdefault("list", []).append(value)

    def extend(self, values):
        self.__dict__.setdefault("list", []).extend(values)


class _StubUnpickler(pickle.Unpickler):
    _REAL = {("collections", "OrderedDict"): collections.OrderedDict, ("builtins", "set"): set,
             ("__builtin__", "set"): set, ("builtins", "frozenset"): frozenset}

    def __init__(self, file):
        super().__init__(file)
        self._types: dict[str, type] = {}

    def find_class(self, module: str, name: str):
        real = self._REAL.get((module, name))
        if real is not None:
            return real
        key = f"{module}.{name}"
        if key not in self._types:
            self._types[key] = type(name, (_Stub,), {"__qualname__": key, "__module__": __name__})
        return self._types[key]

    def persistent_load(self, pid):
        return None  # tensor storages are never read


def _stub_state(obj) -> dict:
    if not isinstance(obj, _Stub):
        return {}
    state = obj.__dict__.get("state")
    if isinstance(state, tuple) and state and isinstance(state[0], dict):
        state = state[0]
    return state if isinstance(state, dict) else {}


def _class_name(obj) -> str:
    return type(obj).__qualname__ if isinstance(obj, _Stub) else ""


def read_pt(path: Path) -> dict:
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [i for i in archive.infolist() if i.filename.endswith("data.pkl")]
            if len(pickles) != 1:
                raise VisionError(f"{name}: not a PyTorch checkpoint (no data.pkl inside)")
            if pickles[0].file_size > MAX_PICKLE_BYTES:
                raise VisionError(f"{name}: checkpoint header is {pickles[0].file_size >> 20} MB, too big for a model")
            with archive.open(pickles[0]) as f:
                checkpoint = _StubUnpickler(f).load()
    except FileNotFoundError:
        raise VisionError(f"{path}: no such model file") from None
    except zipfile.BadZipFile:
        raise VisionError(f"{name}: not a PyTorch checkpoint, or the file is damaged (not a torch.save zip "
                          f"archive); copy or export the model again") from None
    except VisionError:
        raise
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, RecursionError, MemoryError, zipfile.LargeZipFile) as exc:
        raise VisionError(f"{name}: the checkpoint is damaged ({type(exc).__name__}: {exc}); "
                          f"copy or export the model again") from None
    if not isinstance(checkpoint, dict):
        raise VisionError(f"{name}: not an Ultralytics checkpoint (a {type(checkpoint).__name__}, not a dict)")
    nested = checkpoint.get("model")
    arch = sam_arch(nested if isinstance(nested, dict) else checkpoint, name)
    if arch is not None:
        return {"format": "pt", "task": SAM_TASK, "classes": {}, "imgsz": SAM_IMGSZ, "keypoints": None,
                "license": "unknown", "version": None, "arch": arch}
    model = checkpoint.get("model") if checkpoint.get("model") is not None else checkpoint.get("ema")
    state = _stub_state(model)
    if not state:
        raise VisionError(f"{name}: not an Ultralytics YOLO checkpoint (no model inside); "
                          f"Luma runs models trained or exported with ultralytics")
    train_args = checkpoint.get("train_args") if isinstance(checkpoint.get("train_args"), dict) else {}
    model_args = state.get("args") if isinstance(state.get("args"), dict) else {}
    cls_name = _class_name(model).rsplit(".", 1)[-1]
    task = state.get("task") or model_args.get("task") or train_args.get("task") or _TASK_OF_CLASS.get(cls_name)
    yaml = state.get("yaml") if isinstance(state.get("yaml"), dict) else {}
    arch = Path(str(yaml.get("yaml_file") or train_args.get("model") or path.stem)).stem
    return _result(name, "pt", task, state.get("names"), model_args.get("imgsz") or train_args.get("imgsz"),
                   state.get("kpt_shape") or yaml.get("kpt_shape"), checkpoint.get("license"),
                   checkpoint.get("version"), arch)


# ---------------------------------------------------------------- Segment Anything state dicts

_SAM_VIT = {768: "sam_b", 1024: "sam_l", 1280: "sam_h"}
_SAM2_HIERA = {(96, 12): "t", (96, 16): "s", (112, 24): "b", (144, 48): "l"}  # (width, blocks) -> size
_SAM_BLOCK = re.compile(r"image_encoder\.trunk\.blocks\.(\d+)\.")


def _shape(value) -> tuple[int, ...] | None:
    """The size of a stubbed tensor (``torch._utils._rebuild_tensor_v2(storage, offset, size, ...)``)."""
    args = value.__dict__.get("args", ()) if isinstance(value, _Stub) else ()
    size = args[2] if len(args) > 2 else None
    if isinstance(size, _Stub):  # a torch.Size pickled as a class call
        size = (size.__dict__.get("args") or (None,))[0]
    if isinstance(size, (tuple, list)) and all(isinstance(v, int) for v in size):
        return tuple(size)
    return None


def sam_arch(state, name: str = "checkpoint") -> str | None:
    """The ultralytics name of a Segment Anything state dict's architecture, or None if it is not one.

    ``state`` maps parameter names to (stubbed) tensors. A file that clearly
    is a SAM-family network but of a size ultralytics cannot build raises
    VisionError.
    """
    if not isinstance(state, dict) or not state or not all(isinstance(k, str) for k in state):
        return None
    keys = state.keys()
    if "image_encoder.patch_embed.seq.0.c.weight" in state and any(k.startswith("mask_decoder.") for k in keys):
        return "mobile_sam"
    vit = state.get("image_encoder.patch_embed.proj.weight")
    if vit is not None and any(k.startswith("mask_decoder.") for k in keys):
        shape = _shape(vit)
        width = shape[0] if shape else None
        if width not in _SAM_VIT:
            raise VisionError(f"{name}: a Segment Anything (ViT) checkpoint of an unknown size (width {width}); "
                              f"Luma runs SAM ViT-B/L/H, MobileSAM and SAM 2 checkpoints")
        return _SAM_VIT[width]
    hiera = state.get("image_encoder.trunk.patch_embed.proj.weight")
    if hiera is not None and any(k.startswith("sam_mask_decoder.") for k in keys):
        shape = _shape(hiera)
        width = shape[0] if shape else None
        blocks = len({m.group(1) for m in map(_SAM_BLOCK.match, keys) if m})
        size = _SAM2_HIERA.get((width, blocks))
        if size is None:
            raise VisionError(f"{name}: a SAM 2 checkpoint of an unknown size (width {width}, {blocks} blocks); "
                              f"Luma runs the tiny, small, base+ and large SAM 2 / 2.1 checkpoints")
        return f"{'sam2.1' if 'no_obj_embed_spatial' in state else 'sam2'}_{size}"
    return None


# ---------------------------------------------------------------- .onnx


def _varint(buf, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def _read_varint(f) -> int | None:
    value = shift = 0
    while True:
        b = f.read(1)
        if not b:
            if shift == 0:
                return None
            raise ValueError("truncated varint")
        value |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return value
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _onnx_props(path: Path) -> tuple[dict[str, str], bool]:
    """(metadata_props, whether a graph was seen) of an ONNX ModelProto, reading only what is needed."""
    size = path.stat().st_size
    props: dict[str, str] = {}
    graph = False
    with open(path, "rb") as f:
        while True:
            tag = _read_varint(f)
            if tag is None:
                break
            field, wire = tag >> 3, tag & 7
            if wire == 0:
                _read_varint(f)
            elif wire in (1, 5):
                f.seek(8 if wire == 1 else 4, os.SEEK_CUR)
            elif wire == 2:
                n = _read_varint(f)
                if n is None or f.tell() + n > size:
                    raise ValueError("a field runs past the end of the file")
                if field == 14:
                    if n > MAX_METADATA_BYTES:
                        raise ValueError("metadata entry too big")
                    entry, i, pair = f.read(n), 0, {}
                    while i < len(entry):
                        etag, i = _varint(entry, i)
                        if etag & 7 != 2:
                            raise ValueError("bad metadata entry")
                        m, i = _varint(entry, i)
                        pair[etag >> 3] = bytes(entry[i:i + m]).decode("utf-8")
                        i += m
                    props[pair.get(1, "")] = pair.get(2, "")
                else:
                    graph = graph or field == 7
                    f.seek(n, os.SEEK_CUR)
            else:
                raise ValueError(f"unexpected wire type {wire}")
    return props, graph


def _literal(text: str | None):
    if text is None:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def read_onnx(path: Path) -> dict:
    name = path.name
    try:
        props, graph = _onnx_props(path)
    except FileNotFoundError:
        raise VisionError(f"{path}: no such model file") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise VisionError(f"{name}: not an ONNX model, or the file is damaged ({exc})") from None
    if not graph:
        raise VisionError(f"{name}: not an ONNX model (no graph inside)")
    if "names" not in props or "task" not in props:
        raise VisionError(f"{name}: this ONNX file has no Ultralytics metadata (task, class names); "
                          f"export it with ultralytics (`yolo export model=MODEL.pt format=onnx`)")
    return _result(name, "onnx", props.get("task"), _literal(props.get("names")), _literal(props.get("imgsz")),
                   _literal(props.get("kpt_shape")), props.get("license"), props.get("version"),
                   str(props.get("description", "")).replace("Ultralytics ", "").split(" ")[0] or path.stem)


# ---------------------------------------------------------------- shared


def _result(name: str, fmt: str, task, names, imgsz, kpt_shape, license_text, version, arch) -> dict:
    if task not in TASKS:
        raise VisionError(f"{name}: unknown model task {task!r} (expected one of {', '.join(TASKS)})")
    classes = _classes(name, names)
    return {"format": fmt, "task": str(task), "classes": classes, "imgsz": _imgsz(imgsz),
            "keypoints": _kpt_shape(kpt_shape) if task == "pose" else None,
            "license": short_license(license_text), "version": str(version) if version else None,
            "arch": str(arch)}


def _classes(name: str, names) -> dict[int, str]:
    if isinstance(names, (list, tuple)):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not names:
        raise VisionError(f"{name}: the model has no class names")
    try:
        return {int(k): str(v) for k, v in sorted(names.items(), key=lambda kv: int(kv[0]))}
    except (TypeError, ValueError):
        raise VisionError(f"{name}: the model's class names are malformed") from None


def _imgsz(value) -> int:
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, int) for v in value):
        value = max(value)
    return int(value) if isinstance(value, int) and 32 <= value <= 8192 else 640


def _kpt_shape(value) -> list[int] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [int(v) for v in value]
    return None


def short_license(text) -> str:
    """``"AGPL-3.0 License (https://ultralytics.com/license)"`` -> ``"AGPL-3.0"``; ``"unknown"`` when absent."""
    if not text:
        return "unknown"
    m = re.match(r"\s*([A-Za-z][A-Za-z0-9.+\-]*)", str(text))
    return m.group(1) if m else str(text)[:40]
