"""LUTs: .cube parsing (and its errors), trilinear application, the lut filter in a composite."""

import os

import numpy as np
import pytest

from core.errors import LumaError
from core.render import lut as lutmod
from core.render.filters import FilterContext, FILTERS
from tests.core.render.timeline_scene import Scene


def random_rgb(shape=(60, 80), seed=0):
    return np.random.default_rng(seed).random(shape + (3,), dtype=np.float32)


def to8(x):
    return np.clip(np.round(x * 255), 0, 255).astype(int)


@pytest.mark.parametrize("size", [17, 33])
def test_identity_cube_is_a_no_op(tmp_path, size):
    path = tmp_path / f"id{size}.cube"
    path.write_text("# made by the test\n" + lutmod.identity_cube_text(size, "Identity"))
    lut = lutmod.load_cube(path)
    assert (lut.title, lut.dims, lut.size, lut.table.shape) == ("Identity", 3, size, (size, size, size, 3))
    rgb = random_rgb()
    assert np.abs(to8(lut.apply(rgb)) - to8(rgb)).max() <= 1
    # every 8-bit level of a grey ramp too
    ramp = np.repeat((np.arange(256, dtype=np.float32) / 255)[None, :, None], 3, axis=2)
    assert np.abs(to8(lut.apply(ramp)) - np.arange(256)[None, :, None]).max() <= 1


def test_trilinear_channel_swap_and_interpolation():
    n = 5
    grid = np.linspace(0, 1, n)
    b, g, r = np.meshgrid(grid, grid, grid, indexing="ij")
    # out = (b, g, r) and a non-linear green: g**2 (interpolated linearly between grid points)
    rows = np.stack([b.ravel(), (g ** 2).ravel(), r.ravel()], axis=1)
    text = "LUT_3D_SIZE 5\n" + "\n".join(" ".join(f"{v:.6f}" for v in row) for row in rows)
    lut = lutmod.parse_cube(text)
    rgb = random_rgb(seed=3)
    out = lut.apply(rgb)
    assert np.allclose(out[..., 0], rgb[..., 2], atol=1e-4) and np.allclose(out[..., 2], rgb[..., 0], atol=1e-4)
    # green: piecewise linear through the grid's squares
    want_g = np.interp(rgb[..., 1], grid, grid ** 2)
    assert np.allclose(out[..., 1], want_g, atol=1e-4)
    # values outside the domain clamp
    assert np.allclose(lut.apply(np.array([[[-1.0, 2.0, 0.5]]], np.float32)), [[[0.5, 1.0, 0.0]]], atol=1e-4)


def test_big_tables_take_the_gather_path(monkeypatch):
    # tables with n * n >= 32767 are too wide for cv2.remap: both paths must agree
    table = np.random.default_rng(7).random((6, 6, 6, 3)).astype(np.float32)
    lut = lutmod.Lut("t", 3, 6, (0, 0, 0), (1, 1, 1), table)
    rgb = random_rgb((20, 30), seed=4)
    by_remap = lut.apply(rgb)
    monkeypatch.setattr(lutmod, "_REMAP_LIMIT", 1)
    by_gather = lut.apply(rgb)
    assert np.allclose(by_remap, by_gather, atol=1e-4)
    # the corners of the cube are the table's corners exactly
    corners = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 1]]], np.float32)
    want = table[[0, 0, 0, 5], [0, 0, 5, 5], [0, 5, 0, 5]][None]
    assert np.allclose(lut.apply(corners), want, atol=1e-5)


def test_one_d_lut_and_domain():
    lut = lutmod.parse_cube('TITLE "invert"\nLUT_1D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 2 2 2\n1 1 1\n0 0 0\n')
    assert (lut.dims, lut.size) == (1, 2)
    x = np.array([[[0.0, 1.0, 2.0]]], np.float32)
    assert np.allclose(lut.apply(x), [[[1.0, 0.5, 0.0]]])
    r = lutmod.parse_cube("LUT_3D_INPUT_RANGE 0 2\n" + lutmod.identity_cube_text(3).split("\n", 1)[1])
    assert r.domain_max == (2.0, 2.0, 2.0)
    assert np.allclose(r.apply(np.array([[[1.0, 0.5, 2.0]]], np.float32)), [[[0.5, 0.25, 1.0]]], atol=1e-5)


@pytest.mark.parametrize("text,match", [
    ("LUT_3D_SIZE 2\n0 0 0\n1 0 0\n0 1\n", "line 4: expected 3 numbers"),
    ("LUT_3D_SIZE 2\n0 0 0\n1 0 x\n", "line 3: .* is not a list of numbers"),
    ("0 0 0\n", "line 1: table data before"),
    ("TITLE \"x\"\n# nothing\n", "no LUT_3D_SIZE"),
    ("LUT_3D_SIZE 2\n0 0 0\n", "has 1 rows; a 3D LUT of size 2 needs 8"),
    ("LUT_3D_SIZE 1\n", "line 1: LUT_3D_SIZE must lie in 2..256"),
    ("LUT_3D_SIZE two\n", "line 1: LUT_3D_SIZE needs a whole number"),
    ("LUT_3D_SIZE 2\nLUT_1D_SIZE 2\n", "line 2: the size is given twice"),
    ("LUT_1D_SIZE 2\n0 0 0\nDOMAIN_MIN 0 0 0\n1 1 1\n", "line 3: keyword DOMAIN_MIN after the table"),
    ("FOO 3\n", "line 1: unknown keyword 'FOO'"),
    ("LUT_1D_SIZE 2\nDOMAIN_MIN 1 0 0\n0 0 0\n1 1 1\n", "DOMAIN_MAX must be above DOMAIN_MIN"),
])
def test_malformed_files_say_where(text, match):
    with pytest.raises(LumaError, match=match):
        lutmod.parse_cube(text, "grade.cube")


def test_load_names_the_file_and_rereads_when_changed(tmp_path):
    with pytest.raises(LumaError, match="missing.cube: cannot read"):
        lutmod.load_cube(tmp_path / "missing.cube")
    bad = tmp_path / "bad.cube"
    bad.write_text("LUT_3D_SIZE 2\n0 0 0\n")
    with pytest.raises(LumaError, match="bad.cube: the table has 1 rows"):
        lutmod.load_cube(bad)
    p = tmp_path / "g.cube"
    p.write_text("LUT_1D_SIZE 2\n0 0 0\n1 1 1\n")
    first = lutmod.load_cube(p)
    assert lutmod.load_cube(p) is first  # cached
    p.write_text("LUT_1D_SIZE 2\n1 1 1\n0 0 0\n")
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    again = lutmod.load_cube(p)
    assert again is not first and np.allclose(again.table[0], 1)


def test_lut_filter_mix_and_composite(tmp_path):
    (tmp_path / "inv.cube").write_text("LUT_1D_SIZE 2\n1 1 1\n0 0 0\n")
    fn = FILTERS["lut"].fn
    ctx = FilterContext(0, 0, 1.0, tmp_path)
    x = random_rgb(seed=5)
    assert np.allclose(fn(x.copy(), {"path": "inv.cube", "mix": 1.0}, ctx), 1 - x, atol=1e-6)
    assert np.allclose(fn(x.copy(), {"path": "inv.cube", "mix": 0.5}, ctx), 0.5, atol=1e-6)
    # in a timeline: an identity LUT (relative to the project folder) leaves the picture alone,
    # an inverting one inverts it
    s = Scene(tmp_path)
    (tmp_path / "id.cube").write_text(lutmod.identity_cube_text(17))
    img = (np.random.default_rng(6).random((120, 160, 3)) * 255).astype(np.uint8)
    clip = s.clip(s.still(img), 0, 0, 5, filters=[{"type": "lut", "params": {"path": "id.cube"}}])
    comp = s.compositor()
    assert np.abs(comp.frame(0).astype(int) - img).max() <= 1
    s.change(clip, props={"filters": [{"type": "lut", "params": {"path": "inv.cube"}}]})
    assert np.abs(comp.frame(0).astype(int) - (255 - img.astype(int))).max() <= 1
    s.change(s.tl.clips[clip.id], props={"filters": [{"type": "lut", "params": {"path": "nope.cube"}}]})
    with pytest.raises(LumaError, match="nope.cube"):
        comp.frame(0)
    comp.close()
    s.close()
