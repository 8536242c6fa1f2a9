"""The ``sam`` segmenter (ultralytics SAM / MobileSAM / SAM 2) and the model manager's Segment Anything support.

The checkpoints are built here with random weights (tests/plugins/sam_fixture.py):
the masks mean nothing, so the tests check plumbing (recognition, safe loading,
prompts, shapes and values, the per-frame embedding cache), never quality.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from core.errors import LumaError
from core.vision import model_files
from core.vision.model_files import SAM_TASK
from core.vision.models import ModelManager
from core.vision.segment import Prompt, create_segmenter, segmenter_names
from core.vision.types import VisionError
from tests.plugins.sam_fixture import make_random_sam_checkpoint

ROOT = Path(__file__).resolve().parents[2]
torch = pytest.importorskip("torch")


@pytest.fixture(scope="session")
def sam_folder(tmp_path_factory) -> Path:
    """A models folder holding a random-weights MobileSAM checkpoint (mobile_sam.pt)."""
    folder = tmp_path_factory.mktemp("sam-models")
    make_random_sam_checkpoint(folder, "mobile_sam")
    return folder


@pytest.fixture
def with_sam(sam_folder, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LUMA_MODELS_DIR", str(sam_folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return sam_folder / "mobile_sam.pt"


@pytest.fixture
def without_sam(tmp_path, monkeypatch) -> Path:
    empty = tmp_path / "models"
    empty.mkdir()
    monkeypatch.setenv("LUMA_MODELS_DIR", str(empty))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return empty


@pytest.fixture(scope="session")
def bus() -> np.ndarray:
    """ultralytics' bus.jpg as RGB (810x1080), read without importing ultralytics."""
    import cv2

    spec = importlib.util.find_spec("ultralytics")
    path = Path(list(spec.submodule_search_locations)[0]) / "assets" / "bus.jpg"
    bgr = cv2.imread(str(path))
    assert bgr is not None, path
    return np.ascontiguousarray(bgr[..., ::-1])


@contextlib.contextmanager
def _count_encoder(segmenter):
    """Counts the image encoder's forward passes (the network is shared: the hook is removed afterwards)."""
    calls = [0]

    def hook(_module, _inputs, _output):
        calls[0] += 1

    handle = segmenter.network.image_encoder.register_forward_hook(hook)
    try:
        yield calls
    finally:
        handle.remove()


def _assert_matte(matte: np.ndarray, rgb: np.ndarray) -> None:
    assert isinstance(matte, np.ndarray)
    assert matte.dtype == np.uint8
    assert matte.shape == rgb.shape[:2]
    assert set(np.unique(matte).tolist()) <= {0, 255}


# ---------------------------------------------------------------- the model manager


def test_the_manager_lists_a_sam_checkpoint_but_never_as_a_detector(with_sam):
    manager = ModelManager()
    sam = manager.find("mobile_sam")
    assert (sam.task, sam.arch, sam.imgsz, sam.classes, sam.format) == (SAM_TASK, "mobile_sam", 1024, {}, "pt")
    assert sam.is_sam and sam.path == with_sam.resolve()
    assert [m.name for m in manager.sam_models()] == ["mobile_sam"]
    assert "mobile_sam" not in [m.name for m in manager.detectors()]
    assert "mobile_sam" in [m.name for m in manager.models()]  # `luma models list` shows it
    default = manager.default()
    assert default is None or not default.is_sam
    only_sam = ModelManager(packages=())  # no pose package: still no detector to default to
    assert [m.name for m in only_sam.models()] == ["mobile_sam"] and only_sam.default() is None


def test_adding_a_sam_checkpoint_checks_it_with_the_sam_backend_not_the_detector(with_sam, tmp_path, monkeypatch):
    from plugins.ultralytics_backend import sam

    monkeypatch.setenv("LUMA_MODELS_DIR", str(tmp_path / "empty"))  # the checkpoint is added, not in the folder

    def detector_check(info):
        raise AssertionError(f"the detector check was given {info.name}")

    checked = []
    info = ModelManager().add(with_sam, verify=detector_check, verify_sam=lambda i: checked.append(sam.verify_sam(i)))
    assert (info.name, info.source, info.arch, len(checked)) == ("mobile_sam", "added", "mobile_sam", 1)
    assert ModelManager().add(with_sam, verify=detector_check).is_sam  # no SAM check given: metadata only


def test_luma_models_add_loads_a_sam_checkpoint_and_detect_refuses_it(with_sam, tmp_path, monkeypatch, capsys):
    from app.cli import main
    from core.vision.detect import create_detector

    monkeypatch.setenv("LUMA_MODELS_DIR", str(tmp_path / "empty"))
    assert main(["models", "add", str(with_sam)]) == 0  # checked by really loading it with the sam backend
    out = capsys.readouterr().out
    assert "added mobile_sam: segment-anything, imgsz 1024" in out and "classes" not in out
    broken = tmp_path / "sam_vit_b.pth"
    broken.write_bytes(with_sam.read_bytes()[: len(with_sam.read_bytes()) // 2])  # a truncated download
    assert main(["models", "add", str(broken)]) == 1
    assert "luma:" in capsys.readouterr().err
    with pytest.raises(VisionError, match="Segment Anything checkpoint, not a detector"):
        create_detector("mobile_sam")


def test_listing_a_sam_checkpoint_needs_no_torch(with_sam):
    code = ("import sys; from core.vision.models import ModelManager; "
            "print([(m.name, m.task, m.arch) for m in ModelManager().sam_models()]); "
            "print(sorted(m for m in ('torch', 'ultralytics', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    listed, loaded = out.stdout.strip().splitlines()
    assert listed == f"[('mobile_sam', '{SAM_TASK}', 'mobile_sam')]"
    assert loaded == "[]"


def _fake_state(path: Path, shapes: dict[str, tuple[int, ...]], nested: bool = False) -> Path:
    # expanded one-element tensors: the file records the shapes but stores one float each
    state = OrderedDict((k, torch.zeros(1).expand(*s)) for k, s in shapes.items())
    torch.save({"model": state} if nested else state, path)
    return path


def _sam2_shapes(width: int, blocks: int, v21: bool) -> dict[str, tuple[int, ...]]:
    shapes = {"image_encoder.trunk.patch_embed.proj.weight": (width, 3, 7, 7),
              "sam_mask_decoder.iou_token.weight": (1, 256)}
    shapes.update({f"image_encoder.trunk.blocks.{i}.norm1.weight": (width,) for i in range(blocks)})
    if v21:
        shapes["no_obj_embed_spatial"] = (1, 64)
    return shapes


@pytest.mark.parametrize("name, shapes, nested, arch", [
    ("a.pt", {"image_encoder.patch_embed.seq.0.c.weight": (32, 3, 3, 3), "mask_decoder.iou_token.weight": (1, 256)},
     False, "mobile_sam"),
    ("sam_vit_b_01ec64.pth", {"image_encoder.patch_embed.proj.weight": (768, 3, 16, 16),
                              "mask_decoder.iou_token.weight": (1, 256)}, False, "sam_b"),
    ("b.pt", {"image_encoder.patch_embed.proj.weight": (1280, 3, 16, 16), "mask_decoder.iou_token.weight": (1, 256)},
     False, "sam_h"),
    ("sam2_hiera_tiny.pt", _sam2_shapes(96, 12, False), True, "sam2_t"),
    ("c.pt", _sam2_shapes(96, 16, True), True, "sam2.1_s"),
    ("d.pt", _sam2_shapes(144, 48, True), True, "sam2.1_l"),
])
def test_the_architecture_comes_from_the_parameters_not_the_file_name(tmp_path, name, shapes, nested, arch):
    meta = model_files.read_metadata(_fake_state(tmp_path / name, shapes, nested))
    assert (meta["task"], meta["arch"], meta["imgsz"], meta["classes"]) == (SAM_TASK, arch, 1024, {})


def test_a_sam_like_checkpoint_of_unknown_size_is_refused_clearly(tmp_path):
    odd = _fake_state(tmp_path / "odd.pt", {"image_encoder.patch_embed.proj.weight": (512, 3, 16, 16),
                                            "mask_decoder.iou_token.weight": (1, 256)})
    with pytest.raises(VisionError, match="odd.pt: a Segment Anything .* unknown size"):
        model_files.read_metadata(odd)
    plain = _fake_state(tmp_path / "plain.pt", {"conv.weight": (8, 3, 3, 3)})
    with pytest.raises(VisionError, match="not an Ultralytics YOLO checkpoint"):
        model_files.read_metadata(plain)


# ---------------------------------------------------------------- availability and errors


def test_no_sam_checkpoint_is_a_clear_reason_and_error(without_sam):
    from plugins.ultralytics_backend import sam

    reason = sam.sam_available()
    assert reason is not None
    assert "no Segment Anything checkpoint" in reason and "luma models add PATH" in reason
    assert "never downloads" in reason and str(without_sam) in reason
    assert dict((n, why) for n, _, why in segmenter_names())["sam"] == reason
    with pytest.raises(VisionError, match="luma models add PATH"):
        sam.make_sam()
    with pytest.raises(LumaError, match="no Segment Anything checkpoint"):
        create_segmenter("sam")


def test_a_missing_torch_is_the_reason(with_sam, monkeypatch):
    from plugins.ultralytics_backend import sam

    assert sam.sam_available() is None
    monkeypatch.setattr(sam, "backend_missing", lambda: "the torch package is not installed (pip install torch)")
    assert sam.sam_available() == "the torch package is not installed (pip install torch)"


def test_a_detector_is_not_a_sam_checkpoint(with_sam):
    from plugins.ultralytics_backend import sam

    with pytest.raises(VisionError, match="yolo11n-pose is a pose model, not a Segment Anything checkpoint"):
        sam.make_sam("yolo11n-pose")


class _Evil:
    marker: Path

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_loading_never_runs_a_pickle_and_wrong_weights_are_refused(tmp_path, monkeypatch):
    from plugins.ultralytics_backend import sam

    monkeypatch.setenv("LUMA_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    _Evil.marker = tmp_path / "pwned"
    torch.save({"image_encoder.patch_embed.seq.0.c.weight": torch.zeros(32, 3, 3, 3),
                "mask_decoder.iou_token.weight": torch.zeros(1, 256), "payload": _Evil()}, tmp_path / "evil.pt")
    info = ModelManager().find("evil")  # the metadata reader never runs it either
    assert info.arch == "mobile_sam"
    with pytest.raises(VisionError, match="evil.pt: .*could run code"):
        sam.make_sam("evil")
    assert not _Evil.marker.exists()

    torch.save({"image_encoder.patch_embed.seq.0.c.weight": torch.zeros(32, 3, 3, 3),
                "mask_decoder.iou_token.weight": torch.zeros(1, 256)}, tmp_path / "partial.pt")
    with pytest.raises(VisionError, match="partial.pt: the weights do not fit the mobile_sam network"):
        sam.make_sam("partial")


# ---------------------------------------------------------------- segmenting


def test_box_and_point_prompts_give_full_size_mattes_and_one_embedding_per_frame(with_sam, bus):
    threads = torch.get_num_threads()
    seg = create_segmenter("sam")
    assert torch.get_num_threads() == threads  # ultralytics' device set-up must not change the process's threads
    assert seg.name == "sam" and seg.info.name == "mobile_sam"
    h, w = bus.shape[:2]
    with _count_encoder(seg) as encoder:
        box = seg.segment(bus, Prompt(box=(50, 230, 810, 740)), key=0)
        _assert_matte(box, bus)
        assert encoder[0] == 1
        points = seg.segment(bus, Prompt(points=((220, 520, True), (700, 900, False))), key=0)
        _assert_matte(points, bus)
        both = seg.segment(bus, Prompt(box=(30, 400, 250, 900), points=((140, 600, True), (200, 450, False))),
                           key=0)
        _assert_matte(both, bus)
        assert encoder[0] == 1  # three prompts on frame 0: the image was encoded once
        assert seg.encoder_runs == 1

        # a single click is ambiguous: SAM gives three masks and the best-scored one is returned
        click = Prompt(points=((400, 600, True),))
        best = seg.segment(bus, click, key=0)
        masks, boxes = seg.predictor.inference_features(seg.embed(bus, key=0), (h, w), points=[[[400, 600]]],
                                                        labels=[[1]], multimask_output=True)
        assert len(masks) == 3
        assert np.array_equal(best, masks[int(boxes[:, 4].argmax())].numpy().astype(np.uint8) * 255)
        assert encoder[0] == 1

        flipped = np.ascontiguousarray(bus[::-1])
        seg.segment(flipped, Prompt(box=(50, 230, 810, 740)), key=1)  # a new frame: encoded again
        assert encoder[0] == 2
        seg.segment(bus, Prompt(box=(50, 230, 810, 740)), key=0)  # frame 0 is still among the cached frames
        assert encoder[0] == 2
        seg.segment(flipped, Prompt(box=(50, 230, 810, 740)), key=0)  # same key, another picture: not trusted
        assert encoder[0] == 3

        fresh = seg.segment(bus, Prompt(box=(50, 230, 810, 740)))  # no key: never cached
        assert encoder[0] == 4
        assert np.array_equal(fresh, box)  # the cached embedding gives the same matte as a fresh one


def test_segmenting_validates_frames_and_prompts(with_sam, bus):
    seg = create_segmenter("sam")
    with pytest.raises(VisionError, match="uint8"):
        seg.segment(bus.astype(np.float32), Prompt(box=(0, 0, 10, 10)))
    with pytest.raises(VisionError, match="outside the 810x1080 frame"):
        seg.segment(bus, Prompt(box=(900, 10, 950, 60)))
    with pytest.raises(VisionError, match="outside the 810x1080 frame"):
        seg.segment(bus, Prompt(points=((-5, 10, True),)))
    with pytest.raises(VisionError, match="hashable"):
        seg.segment(bus, Prompt(box=(0, 0, 10, 10)), key=[1, 2])


@pytest.mark.slow
def test_a_sam2_checkpoint_runs_too(tmp_path_factory, tmp_path, monkeypatch):
    folder = tmp_path_factory.mktemp("sam2-models")
    make_random_sam_checkpoint(folder, "sam2.1_t")
    monkeypatch.setenv("LUMA_MODELS_DIR", str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    seg = create_segmenter("sam", model="sam2.1_t")
    assert seg.info.arch == "sam2.1_t"
    rgb = np.random.default_rng(1).integers(0, 256, (240, 320, 3), np.uint8)
    with _count_encoder(seg) as encoder:
        _assert_matte(seg.segment(rgb, Prompt(box=(40, 30, 200, 220)), key=7), rgb)
        _assert_matte(seg.segment(rgb, Prompt(box=(40, 30, 200, 220), points=((100, 100, True), (60, 200, False))),
                                  key=7), rgb)
        _assert_matte(seg.segment(rgb, Prompt(points=((150, 120, True),)), key=7), rgb)
    assert encoder[0] == 1
