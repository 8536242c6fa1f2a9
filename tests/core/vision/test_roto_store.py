"""Roto objects in the project file: keyframes, planning, the resumable propagation job, kill -9 + resume,
undo of keyframes, blending between keyframes and the matte/shape exports read from the store
(core/vision/roto.py, roto_job.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import JobCancelled
from core.project import Project
from core.project.media_store import ingest
from core.vision import roto as R
from core.vision.roto_job import RotoJob
from core.vision.segment import Prompt
from core.vision.types import VisionError

ROOT = Path(__file__).resolve().parents[3]
WALKER_300 = (313.0, 209.0, 345.0, 297.0)  # vtest.avi frame 300: the man in the dark coat
H, W = 576, 768


def never():
    return False


def quiet(*_a, **_k):
    pass


def ellipse_matte(box, shape=(H, W)) -> np.ndarray:
    x1, y1, x2, y2 = box
    m = np.zeros(shape, np.uint8)
    cv2.ellipse(m, (int((x1 + x2) / 2), int((y1 + y2) / 2)), (int((x2 - x1) / 2), int((y2 - y1) / 2)), 0, 0, 360,
                255, -1)
    return m


@pytest.fixture
def project(tmp_path, vtest):
    p = Project.create(tmp_path / "p.luma")
    p.media_id = ingest(p, vtest, with_thumbnail=False).id
    yield p
    if not p.closed:
        p.close()


def all_masks(project, oid):
    return project.query("SELECT frame, direction, origin, origin_rev, png FROM roto_masks WHERE object_id = ? "
                         "ORDER BY frame, direction", (oid,))


# ------------------------------------------------------------------ objects, keyframes, planning

def test_object_keyframe_and_plan(project):
    oid = R.create_object(project, project.media_id, "walker", (290, 320))
    obj = R.get_object(project, oid)
    assert obj.status == "empty" and obj.keyframes == [] and R.passes(project, oid) == []
    with pytest.raises(VisionError, match="already has a roto object"):
        R.create_object(project, project.media_id, "walker")
    with pytest.raises(VisionError, match="outside the clip"):
        R.create_object(project, project.media_id, "late", (790, 900))
    with pytest.raises(VisionError, match="no keyframe"):
        RotoJob(project, oid).run(quiet, never)

    prompt = Prompt(WALKER_300, ((329.0, 250.0, True),))
    assert R.set_keyframe(project, oid, 300, ellipse_matte(WALKER_300), prompt=prompt) is None
    k = R.keyframe(project, oid, 300)
    assert k.source == "prompt" and k.prompt == prompt
    plan = {(p.origin, p.direction, p.stop, p.cursor) for p in R.passes(project, oid)}
    assert plan == {(300, 1, 320, None), (300, -1, 290, None)}
    assert R.get_object(project, oid).status == "in_progress"
    got = R.matte(project, oid, 300)
    assert np.array_equal(got, ellipse_matte(WALKER_300))  # stored losslessly
    assert R.matte(project, oid, 301) is None

    with pytest.raises(VisionError, match="outside the roto range"):
        R.set_keyframe(project, oid, 330, ellipse_matte(WALKER_300))
    with pytest.raises(VisionError, match="empty"):
        R.set_keyframe(project, oid, 305, np.zeros((H, W), np.uint8))
    with pytest.raises(VisionError, match="uint8"):
        R.set_keyframe(project, oid, 305, np.zeros((10, 10), np.uint8))


def test_propagation_fills_the_range_and_a_new_keyframe_replans_only_its_interval(project):
    oid = R.create_object(project, project.media_id, "walker", (296, 312), batch=4)
    R.set_keyframe(project, oid, 300, ellipse_matte(WALKER_300))
    batches = []
    done = RotoJob(project, oid, fit_shapes=False, on_batch=lambda o, f: batches.append(f)).run(quiet, never)
    assert done.status == "complete" and R.passes(project, oid) == []
    assert R.mask_frames(project, oid) == list(range(296, 313))
    assert batches == [304, 308, 312, 296]  # forward in batches of 4, then backward
    rows = all_masks(project, oid)
    assert {(f, d) for f, d, *_ in rows} == {(300, 0)} | {(f, 1) for f in range(301, 313)} | \
        {(f, -1) for f in range(296, 300)}
    before = {(f, d): png for f, d, _, _, png in rows}

    # a keyframe at 306 takes over (300, 312]: forward mattes 301-305 from 300 stay, 307-312 are redone from 306,
    # and 301-305 get backward mattes from 306 to blend with
    R.set_keyframe(project, oid, 306, ellipse_matte((320, 212, 352, 300)))
    plan = sorted((p.origin, p.direction, p.stop, p.cursor) for p in R.passes(project, oid))
    assert plan == [(306, -1, 301, None), (306, 1, 312, None)]  # 300's passes already own what they keep
    kept = {(f, d) for f, d, *_ in all_masks(project, oid)}
    assert kept == {(300, 0), (306, 0)} | {(f, 1) for f in range(301, 306)} | {(f, -1) for f in range(296, 300)}
    RotoJob(project, oid, fit_shapes=False).run(quiet, never)
    after = {(f, d): png for f, d, _, _, png in all_masks(project, oid)}
    for f in range(301, 306):
        assert after[(f, 1)] == before[(f, 1)]  # untouched: same keyframe, same revision
        assert (f, -1) in after
    for f in range(296, 300):
        assert after[(f, -1)] == before[(f, -1)]
    # between the keyframes the shown matte blends both directions: equal to neither near the middle
    mid = R.matte(project, oid, 303)
    fwd, bwd = R.decode_matte(after[(303, 1)]), R.decode_matte(after[(303, -1)])
    assert mid.shape == (H, W) and mid.dtype == np.uint8
    if not np.array_equal(fwd, bwd):
        assert not np.array_equal(mid, fwd) or not np.array_equal(mid, bwd)
    # next to a keyframe its own direction dominates
    near = R.matte(project, oid, 301)
    assert np.mean((near >= 128) == (R.decode_matte(after[(301, 1)]) >= 128)) > 0.99


def test_keyframe_undo_restores_exactly_and_removal_hands_frames_to_the_neighbour(project):
    oid = R.create_object(project, project.media_id, "walker", (298, 306), batch=3)
    R.set_keyframe(project, oid, 300, ellipse_matte(WALKER_300))
    RotoJob(project, oid, fit_shapes=False).run(quiet, never)
    first_run = all_masks(project, oid)

    old = R.set_keyframe(project, oid, 300, ellipse_matte((300, 200, 350, 300)))
    assert old is not None and old.source == "matte"
    assert [f for f, *_ in all_masks(project, oid)] == [300]  # every propagated matte came from the old rev
    R.restore_keyframe(project, oid, 300, old)  # undo
    assert np.array_equal(R.matte(project, oid, 300), ellipse_matte(WALKER_300))
    RotoJob(project, oid, fit_shapes=False).run(quiet, never)
    again = all_masks(project, oid)
    assert [(f, d, png) for f, d, _, _, png in again] == [(f, d, png) for f, d, _, _, png in first_run]

    R.set_keyframe(project, oid, 304, ellipse_matte((318, 210, 350, 298)))
    RotoJob(project, oid, fit_shapes=False).run(quiet, never)
    state = R.remove_keyframe(project, oid, 304)
    assert state.frame == 304 and R.keyframe(project, oid, 304) is None
    plan = sorted((p.origin, p.direction, p.stop, p.cursor) for p in R.passes(project, oid))
    assert plan == [(300, 1, 306, 303)]  # forward from 300 continues after the frames it kept
    RotoJob(project, oid, fit_shapes=False).run(quiet, never)
    assert R.mask_frames(project, oid) == list(range(298, 307))
    with pytest.raises(VisionError, match="not a keyframe"):
        R.remove_keyframe(project, oid, 304)


def test_cancel_keeps_committed_batches_and_resumes(project):
    oid = R.create_object(project, project.media_id, "walker", (300, 315), batch=4)
    R.set_keyframe(project, oid, 300, ellipse_matte(WALKER_300))
    calls = {"n": 0}

    def cancel_after_six():
        calls["n"] += 1
        return calls["n"] > 8

    with pytest.raises(JobCancelled):
        RotoJob(project, oid, fit_shapes=False).run(quiet, cancel_after_six)
    obj = R.get_object(project, oid)
    assert obj.status == "in_progress" and obj.note == "cancelled"
    frames = R.mask_frames(project, oid)
    assert frames == list(range(300, frames[-1] + 1)) and (frames[-1] - 300) % 4 == 0 and frames[-1] < 315
    RotoJob(project, oid, fit_shapes=False).run(quiet, never)
    assert R.mask_frames(project, oid) == list(range(300, 316))


def test_failure_is_recorded_with_the_reason(project):
    oid = R.create_object(project, project.media_id, "walker", (300, 305), propagation={"no_such_option": 1})
    R.set_keyframe(project, oid, 300, ellipse_matte(WALKER_300))
    with pytest.raises(VisionError, match="bad propagation options"):
        RotoJob(project, oid).run(quiet, never)
    obj = R.get_object(project, oid)
    assert obj.status == "failed" and "no_such_option" in obj.error


# ------------------------------------------------------------------ kill -9 during propagation

SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from core.project import Project
    from core.vision.roto_job import RotoJob
    project = Project.open({path!r})
    def on_batch(oid, frame):
        print("batch", frame, flush=True)
    def progress(fraction, message=""):
        time.sleep(0.01)  # keep the run long enough to be killed in the middle of a batch
    RotoJob(project, {oid}, fit_shapes=False, on_batch=on_batch).run(progress, lambda: False)
    print("done", flush=True)
""")


def _new_walker(path: Path, vtest: Path) -> int:
    p = Project.create(path)
    mid = ingest(p, vtest, with_thumbnail=False).id
    oid = R.create_object(p, mid, "walker", (292, 324), batch=5)
    R.set_keyframe(p, oid, 300, ellipse_matte(WALKER_300), prompt=Prompt(WALKER_300))
    p.close()
    return oid


def test_kill9_during_propagation_then_resume_equals_uninterrupted_run(tmp_path, vtest):
    oid = _new_walker(tmp_path / "killed.luma", vtest)
    script = SCRIPT.format(root=str(ROOT), path=str(tmp_path / "killed.luma"), oid=oid)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=str(ROOT))
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line.strip())
            if len(seen) == 3:  # three batches committed: kill it while it works on the fourth
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert seen == ["batch 305", "batch 310", "batch 315"]

    p = Project.open(tmp_path / "killed.luma")
    frames = R.mask_frames(p, oid)
    assert frames[0] == 300 and frames == list(range(300, frames[-1] + 1))  # no gap, nothing past the cursor
    assert frames[-1] >= 315 and (frames[-1] - 300) % 5 == 0
    fwd = [q for q in R.passes(p, oid) if q.direction == 1]
    assert fwd and fwd[0].cursor == frames[-1]  # the cursor and the stored mattes agree
    done = RotoJob(p, oid, fit_shapes=False).run(quiet, never)
    assert done.status == "complete"
    resumed = [(f, d, png) for f, d, _, _, png in all_masks(p, oid)]
    p.close()

    ref_oid = _new_walker(tmp_path / "fresh.luma", vtest)
    q = Project.open(tmp_path / "fresh.luma")
    RotoJob(q, ref_oid, fit_shapes=False).run(quiet, never)
    reference = [(f, d, png) for f, d, _, _, png in all_masks(q, ref_oid)]
    q.close()
    assert [f for f, _, _ in resumed] == list(range(292, 325))  # every frame exactly once
    assert resumed == reference  # byte-identical mattes


# ------------------------------------------------------------------ shapes and exports from the store

def test_shapes_are_fitted_cached_and_cleared_by_a_new_keyframe(project, tmp_path):
    from core.vision.roto_export import export_roto

    oid = R.create_object(project, project.media_id, "walker", (300, 306), batch=7)
    R.set_keyframe(project, oid, 300, ellipse_matte(WALKER_300))
    RotoJob(project, oid).run(quiet, never)  # fits shapes at the end
    cached = project.query("SELECT shapes FROM roto_objects WHERE id = ?", (oid,))[0][0]
    assert cached
    anim = R.animation(project, oid)
    assert anim.width == W and anim.height == H and list(anim.frames()) == list(range(300, 307))
    shape = anim.tracks[0].at(300)
    ours = shape.rasterize(W, H) >= 128
    truth = R.matte(project, oid, 300) >= 128
    assert (ours & truth).sum() / (ours | truth).sum() >= 0.97

    files = export_roto("png", tmp_path / "mattes", mattes=R.matte_source(project, oid))
    assert [f.name for f in files] == [f"matte.{n:04d}.png" for n in range(301, 308)]
    back = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(back, R.matte(project, oid, 300))

    R.set_keyframe(project, oid, 303, ellipse_matte((318, 210, 350, 298)))
    assert project.query("SELECT shapes FROM roto_objects WHERE id = ?", (oid,))[0][0] is None


def test_a_track_holding_the_prompt_bounds_propagation(project):
    from core.vision import sessions as S

    sid = S.create_session(project, project.media_id, WALKER_300, 300, "csrt", frames=(300, 304))
    project.execute("INSERT OR REPLACE INTO track_rows(session_id, frame, x1, y1, x2, y2, confidence, lost) "
                    "VALUES (?, 301, 300, 200, 330, 300, 1, 0)", (sid,))
    assert R.track_for_prompt(project, project.media_id, 300, Prompt(WALKER_300)) == sid
    assert R.track_for_prompt(project, project.media_id, 300, Prompt(None, ((600.0, 100.0, True),))) is None
    assert R.track_for_prompt(project, project.media_id, 310, Prompt(WALKER_300)) is None
    oid = R.create_object(project, project.media_id, "walker", (300, 301), track_session_id=sid)
    R.set_keyframe(project, oid, 300, ellipse_matte(WALKER_300))
    RotoJob(project, oid, fit_shapes=False).run(quiet, never)
    m = R.matte(project, oid, 301) >= 128
    ys, xs = np.nonzero(m)
    assert len(xs) and xs.max() < 330 + 0.1 * 100 + 1 < 345  # cut to the track box grown by 10 % of its height
