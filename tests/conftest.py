"""Shared test set-up.

Qt: when pytest-xvfb has started an X server (DISPLAY set) the whole run uses
the xcb platform so that the OpenGL viewer can be tested; otherwise widgets run
offscreen. The choice is made in pytest_configure, after pytest-xvfb set
DISPLAY and before pytest-qt creates the QApplication.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
VTEST = DATA / "vtest.avi"


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
    # never let a test write the user's real settings or recent-files list
    os.environ.setdefault("XDG_CONFIG_HOME", str(Path(config.rootpath) / ".pytest_cache" / "xdg-config"))


@pytest.fixture(scope="session", autouse=True)
def _collect_garbage_on_the_main_thread():
    """As the app does (app.gc_guard): no automatic cyclic GC, which could run in a job thread and
    destroy Qt objects there; garbage is collected on the main thread between tests instead."""
    import gc

    was = gc.isenabled()
    gc.disable()
    yield
    if was:
        gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    yield
    import gc

    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[0] > thresholds[0]:
        gc.collect(1 if counts[1] <= thresholds[1] else 2)


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def small_clip(clip_dir) -> Path:
    """A 2 s 320x240 25 fps H.264 clip with a barcode, burn-in and click-track audio."""
    from resources.footage import write_test_clip

    return write_test_clip(clip_dir / "small.mp4", frames=50, size=(320, 240), rate=Fraction(25), gop=12)


@pytest.fixture(scope="session")
def second_clip(clip_dir) -> Path:
    from resources.footage import write_test_clip

    return write_test_clip(clip_dir / "second.mp4", frames=30, size=(320, 240), rate=Fraction(25), gop=6)


@pytest.fixture
def vtest() -> Path:
    if not VTEST.is_file():
        pytest.fail(f"{VTEST} is missing: run `make testdata` (Debian's opencv-doc package)")
    return VTEST
