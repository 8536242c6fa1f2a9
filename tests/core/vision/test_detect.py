"""Detection on real footage and photos: the YOLO pose model (plugin) and the HOG fallback (core).

Ground truth for vtest.avi frame 0 is tests/data/annotations/vtest_frame0.json:
every person on that frame, boxed by eye (not by a detector).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.media.reader import FrameReader
from core.vision.detect import create_detector, detect_frame
from core.vision.types import Detections, VisionError, iou

ROOT = Path(__file__).resolve().parents[3]
ANNOTATIONS = ROOT / "tests" / "data" / "annotations" / "vtest_frame0.json"
VTEST = ROOT / "tests" / "data" / "vtest.avi"


def _assets() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("ultralytics")
    if spec is None:
        pytest.fail("ultralytics is not installed: run `make`")
    return Path(list(spec.submodule_search_locations)[0]) / "assets"


def _rgb(path: Path) -> np.ndarray:
    import cv2

    bgr = cv2.imread(str(path))
    assert bgr is not None, path
    return np.ascontiguousarray(bgr[..., ::-1])


@pytest.fixture(scope="session")
def truth() -> np.ndarray:
    data = json.loads(ANNOTATIONS.read_text())
    return np.array([p["bbox"] for p in data["people"]], np.float32)


@pytest.fixture(scope="session")
def frame0() -> np.ndarray:
    if not VTEST.is_file():
        pytest.fail(f"{VTEST} is missing: run `make testdata`")
    with FrameReader(VTEST) as reader:
        return reader.frame(0).copy()


@pytest.fixture(scope="session")
def pose():
    return create_detector("yolo11n-pose")


def _matched(truth: np.ndarray, dets: Detections, threshold: float = 0.5) -> int:
    if not len(dets):
        return 0
    return int((iou(truth, dets.boxes).max(axis=1) > threshold).sum())


def test_the_pose_model_finds_the_people_annotated_by_eye(pose, frame0, truth):
    t = time.perf_counter()
    dets = pose.detect(frame0)
    ms = (time.perf_counter() - t) * 1000
    assert pose.name == "yolo11n-pose" and pose.names == {0: "person"}
    assert _matched(truth, dets) >= 0.7 * len(truth), (dets.rows(), truth.tolist())
    assert len(dets) <= len(truth) + 1  # no crowd of false positives
    assert dets.boxes.dtype == np.float32 and dets.scores.dtype == np.float32 and dets.classes.dtype == np.int32
    assert (dets.classes == 0).all() and (dets.scores >= 0.25).all()
    # keypoints: COCO 17 x (x, y, conf); a confident keypoint lies in (or right next to) its person's box
    assert dets.keypoints is not None and dets.keypoints.shape == (len(dets), 17, 3)
    for box, kp in zip(dets.boxes, dets.keypoints):
        sure = kp[kp[:, 2] > 0.5]
        assert len(sure) >= 5
        assert (sure[:, 0] >= box[0] - 4).all() and (sure[:, 0] <= box[2] + 4).all()
        assert (sure[:, 1] >= box[1] - 4).all() and (sure[:, 1] <= box[3] + 4).all()
    print(f"yolo11n-pose on 768x576: {ms:.0f} ms (imgsz {pose.input_size(768, 576)})")


def test_conf_and_classes_filter(pose, frame0):
    every = pose.detect(frame0, conf=0.05)
    strict = pose.detect(frame0, conf=0.6)
    assert len(strict) < len(every)
    assert (strict.scores >= 0.6).all()
    assert len(pose.detect(frame0, classes=[1])) == 0  # the pose model has only "person"


def test_the_default_detector_is_the_pose_model(pose):
    assert create_detector().name == "yolo11n-pose"


def test_detect_frame_reads_the_exact_frame(pose, vtest, truth):
    dets, size = detect_frame(vtest, 0, pose)
    assert size == (768, 576)
    assert _matched(truth, dets) >= 2
    with pytest.raises(VisionError, match="frame 5000 is outside the clip"):
        detect_frame(vtest, 5000, pose)


@pytest.mark.parametrize("image, people", [("bus.jpg", 3), ("zidane.jpg", 2)])
def test_the_pose_model_on_ultralytics_photos(pose, image, people):
    rgb = _rgb(_assets() / image)
    dets = pose.detect(rgb, conf=0.5)
    assert len(dets) >= people
    assert dets.keypoints.shape == (len(dets), 17, 3)
    h, w = rgb.shape[:2]
    assert (dets.boxes[:, [0, 2]] >= 0).all() and (dets.boxes[:, [0, 2]] <= w).all()
    assert (dets.boxes[:, [1, 3]] >= 0).all() and (dets.boxes[:, [1, 3]] <= h).all()
    # the nose (keypoint 0), where seen, is in the top half of the person's box
    seen = dets.keypoints[:, 0, 2] > 0.5
    assert seen.any()
    mid = (dets.boxes[:, 1] + dets.boxes[:, 3]) / 2
    assert (dets.keypoints[seen, 0, 1] < mid[seen]).all()


def test_hog_finds_people_without_weights(frame0, truth):
    hog = create_detector("hog")
    t = time.perf_counter()
    dets = hog.detect(frame0)
    ms = (time.perf_counter() - t) * 1000
    assert hog.name == "hog" and dets.keypoints is None
    assert _matched(truth, dets, 0.4) >= 2, (dets.rows(), truth.tolist())
    assert (dets.classes == 0).all()
    assert ((dets.scores > 0) & (dets.scores < 1)).all() and (np.diff(dets.scores) <= 0).all()
    assert len(hog.detect(frame0, classes=[2])) == 0
    assert len(hog.detect(frame0, conf=0.999)) < len(dets)
    print(f"HOG on 768x576: {ms:.0f} ms")


def test_hog_rejects_bad_frames():
    hog = create_detector("hog")
    with pytest.raises(VisionError, match="RGB uint8"):
        hog.detect(np.zeros((100, 100), np.uint8))
    assert len(hog.detect(np.zeros((240, 320, 3), np.uint8))) == 0


def test_yolo_rejects_bad_frames(pose):
    with pytest.raises(VisionError, match="RGB uint8"):
        pose.detect(np.zeros((100, 100, 3), np.float32))


# ---------------------------------------------------------------- missing / corrupt weights


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("LUMA_MODELS_DIR", str(folder))
    return folder


def test_an_unknown_model_name_says_how_to_add_one(user_models):
    with pytest.raises(VisionError, match=r"no model named 'yolov9-huge'.*luma models add PATH"):
        create_detector("yolov9-huge")


def test_weights_whose_tensors_are_damaged_give_a_clear_error(user_models, pose):
    src = pose.info.path
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(user_models / "damaged.pt", "w") as zout:
        for item in zin.infolist():
            if "/data/" in item.filename and item.filename.rsplit("/", 1)[-1] in {"0", "1", "2"}:
                continue  # drop some tensor storages: the metadata still reads, loading cannot
            zout.writestr(item, zin.read(item.filename))
    with pytest.raises(VisionError, match="damaged.pt: the model cannot be loaded.*luma models list"):
        create_detector("damaged")


class _RunsCode:
    marker: Path

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_the_loader_refuses_a_checkpoint_that_would_run_code(user_models, pose, tmp_path):
    """Models are loaded with torch.load(weights_only=True) and an allow-list (ULTRALYTICS_SAFE_LOAD)."""
    import torch

    _RunsCode.marker = tmp_path / "ran"
    checkpoint = torch.load(pose.info.path, map_location="cpu", weights_only=False)  # the trusted package model
    checkpoint["extra"] = _RunsCode()
    torch.save(checkpoint, user_models / "trojan.pt")
    assert not _RunsCode.marker.exists()
    with pytest.raises(VisionError, match="trojan.pt: the model cannot be loaded: .* could run code"):
        create_detector("trojan")
    assert not _RunsCode.marker.exists()


def test_garbage_weights_give_a_clear_error(user_models):
    (user_models / "garbage.pt").write_bytes(os.urandom(2048))
    with pytest.raises(VisionError, match="'garbage' is not usable: garbage.pt: not a PyTorch checkpoint"):
        create_detector("garbage")


def _pb(number: int, payload: bytes) -> bytes:
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_an_onnx_model_without_onnx_runtime_says_what_to_install(user_models):
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is not None:
        pytest.skip("onnxruntime is installed")
    meta = {"task": "detect", "names": "{0: 'person', 1: 'bicycle'}", "imgsz": "[640, 640]"}
    model = b"\x08\x09" + _pb(7, _pb(1, b"node")) + b"".join(
        _pb(14, _pb(1, k.encode()) + _pb(2, v.encode())) for k, v in meta.items())
    (user_models / "exported.onnx").write_bytes(model)
    with pytest.raises(VisionError, match="exported.onnx needs ONNX Runtime: pip install onnxruntime"):
        create_detector("exported")


def test_without_any_model_the_default_is_hog(user_models, monkeypatch):
    from core.vision import models

    monkeypatch.setattr(models, "PACKAGE_MODELS", ())
    assert create_detector().name == "hog"
    with pytest.raises(VisionError, match="no model named 'yolo11n-pose'"):
        create_detector("yolo11n-pose")


# ---------------------------------------------------------------- the torchvision NMS shim


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=240, env={**os.environ, **env})


def test_torchvision_needs_the_shim():
    bare = _run("import torchvision")
    assert bare.returncode != 0
    assert "operator torchvision::nms does not exist" in bare.stderr
    shimmed = _run("""
        from plugins.ultralytics_backend import compat
        print(compat.install())
        import torch, torchvision
        print(torchvision.ops.nms(torch.tensor([[0., 0, 10, 10], [1, 1, 10, 10]]), torch.tensor([.5, .9]), .5).tolist())
    """)
    assert shimmed.returncode == 0, shimmed.stderr
    assert shimmed.stdout.split() == ["shim", "[1]"]


def _reference_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Textbook greedy NMS, one box at a time."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            if iou(boxes[i:i + 1], boxes[j:j + 1])[0, 0] > threshold:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


def test_the_shim_nms_matches_a_reference(pose):
    import torch
    import torchvision

    from plugins.ultralytics_backend import compat

    assert compat.state() in ("shim", "native")
    rng = np.random.default_rng(5)
    for n, threshold in [(1, 0.5), (8, 0.5), (60, 0.3), (200, 0.7), (400, 0.45)]:
        xy = rng.uniform(0, 200, (n, 2))
        wh = rng.uniform(5, 80, (n, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
        scores = rng.permutation(n).astype(np.float32) / n + 0.01  # distinct scores: a unique answer
        want = _reference_nms(boxes, scores, threshold)
        got = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold).tolist()
        assert got == want
        assert compat.nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold).tolist() == want
    empty = torchvision.ops.nms(torch.zeros((0, 4)), torch.zeros(0), 0.5)
    assert empty.dtype == torch.int64 and empty.numel() == 0
    # batched_nms (per-class) goes through the same op
    boxes = torch.tensor([[0., 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]])
    kept = torchvision.ops.batched_nms(boxes, torch.tensor([.9, .8, .7]), torch.tensor([0, 0, 1]), 0.5)
    assert kept.tolist() == [0, 2]


# ---------------------------------------------------------------- no network


SITECUSTOMIZE = '''
import os, socket
_log = os.environ["NET_LOG"]

def _refuse(what):
    def call(*args, **kwargs):
        with open(_log, "a") as f:
            f.write(f"{what} {args[1:2] if what.startswith('connect') else args[:1]}\\n")
        raise OSError(101, "network is unreachable (test)")
    return call

socket.socket.connect = _refuse("connect")
socket.socket.connect_ex = _refuse("connect_ex")
socket.socket.sendto = _refuse("sendto")
socket.create_connection = _refuse("create_connection")
socket.getaddrinfo = _refuse("getaddrinfo")
socket.gethostbyname = _refuse("gethostbyname")
socket.gethostbyname_ex = _refuse("gethostbyname_ex")
'''

DETECT_SCRIPT = """
import json, sys, threading, time
from core.vision.detect import create_detector, detect_frame
pose = create_detector()
dets, size = detect_frame(sys.argv[1], 0, pose)
hog, _ = detect_frame(sys.argv[1], 0, create_detector("hog"))
time.sleep(1.0)  # give any background thread (telemetry, version checks) time to try
print(json.dumps({"model": pose.name, "pose": len(dets), "hog": len(hog),
                  "threads": sorted(t.name for t in threading.enumerate())}))
"""


def test_detection_makes_no_network_attempts(vtest, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "net.log"
    log.write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "NET_LOG": str(log),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "LUMA_MODELS_DIR": str(tmp_path / "models")}
    # the patch itself works: a plain connection attempt is recorded and refused
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('example.org', 80))"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "create_connection" in log.read_text()
    log.write_text("")
    out = subprocess.run([sys.executable, "-c", DETECT_SCRIPT, str(vtest)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["model"] == "yolo11n-pose" and result["pose"] >= 2 and result["hog"] >= 1
    assert log.read_text() == "", f"network attempts: {log.read_text()}"
    # ultralytics wrote its settings inside Luma's config folder, with sync off, and nothing into the cwd
    settings = json.loads((tmp_path / "config" / "luma-studio" / "ultralytics" / "Ultralytics" /
                           "settings.json").read_text())
    assert settings["sync"] is False
    assert not (tmp_path / "runs").exists() and not (tmp_path / "weights").exists()


@pytest.mark.skipif(not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare")),
                    reason="needs root and unshare for a private network namespace")
def test_detection_works_with_no_network_at_all(vtest, tmp_path):
    ok = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if ok.returncode != 0:
        pytest.skip(f"unshare -n is not permitted here: {ok.stderr.decode().strip()}")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    out = subprocess.run(["unshare", "-n", sys.executable, "-c", DETECT_SCRIPT, str(vtest)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["model"] == "yolo11n-pose" and result["pose"] >= 2
