"""Reading an interchange file into a NEW sequence of a project, in one transaction.

Import relinks media: a reference whose file exists is used (ingested once,
matched by content hash); otherwise a file of the same name (and the same
content hash when the file says which) is looked for in the relink folders, the
interchange file's folder and the project's folder; media still missing stop
the import with a list of them. Rows are written through
:func:`core.timeline.edit.apply`, which validates them; the media rows, the
sequence and all its rows are one transaction, so a failed import writes
nothing.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import opentimelineio as otio

from core.errors import EditError, LumaError
from core.media.hashing import content_hash
from core.project import media_store
from core.project.project import Project
from core.timeline import edit, keyframes
from core.timeline import props as props_spec
from core.timeline.model import Clip, Marker, SequenceProps, Timeline, Transition, create_sequence, props_text
from core.timeline.otio_common import MARKER_COLORS, _luma, adapter_for
from core.timeline.otio_read import _check_props, _collect, _Ref, _Source, read_otio


@dataclass
class ImportResult:
    sequence_id: int
    name: str
    clips: int = 0
    transitions: int = 0
    markers: int = 0
    #: media id -> file it is linked to
    media: dict[int, Path] = field(default_factory=dict)
    #: what was left out or changed on the way in, one line each
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- media


def _url_path(url: str, base: Path) -> Path | None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return None
        p = Path(urllib.request.url2pathname(parsed.path))
    elif parsed.scheme == "":
        p = Path(urllib.parse.unquote(url))
    else:  # another machine's path (C:\...) or a web address: found by name, if at all
        return None
    return p if p.is_absolute() else base / p


class _Finder:
    """Files by name under some folders, walked once."""

    def __init__(self, folders: Iterable[Path], names: set[str]):
        self.folders = [f for f in dict.fromkeys(Path(x).resolve() for x in folders) if f.is_dir()]
        self.found: dict[str, list[Path]] = {}
        for root in self.folders:
            for dirpath, _dirs, files in os.walk(root):
                for fname in files:
                    if fname in names:
                        self.found.setdefault(fname, []).append(Path(dirpath, fname).resolve())

    def find(self, name: str, chash: str | None, hashes: dict[Path, str]) -> Path | None:
        for candidate in self.found.get(name, []):
            if chash is None:
                return candidate
            if candidate not in hashes:
                try:
                    hashes[candidate] = content_hash(candidate)
                except LumaError:
                    continue
            if hashes[candidate] == chash:
                return candidate
        return None


def _find_media(refs: dict[str, _Ref], base: Path, folders: list[Path], hashes: dict[Path, str],
                notes: list[str], source: str) -> dict[str, Path]:
    """The file for every media URL; raises LumaError listing every one that cannot be found."""
    resolved: dict[str, Path] = {}
    wanted: dict[str, _Ref] = {}
    for url, ref in refs.items():
        p = _url_path(url, base)
        if p is not None and p.is_file():
            p = p.resolve()
            resolved[url] = p
            if ref.content_hash is not None:
                hashes.setdefault(p, content_hash(p))
                if hashes[p] != ref.content_hash:
                    wanted[url] = ref  # look for the exported file itself; this one is the fallback
        else:
            wanted[url] = ref
    if not wanted:
        return resolved
    finder = _Finder(folders, {r.name for r in wanted.values()})
    missing = []
    for url, ref in wanted.items():
        found = finder.find(ref.name, ref.content_hash, hashes)
        if found is not None:
            resolved[url] = found
        elif url in resolved:
            notes.append(f"{ref.name}: the file at {resolved[url]} differs from the one that was exported "
                         f"(content hash); linked to it anyway")
        else:
            missing.append(ref)
    if missing:
        lines = "\n".join(f"  {r.name}  (was {r.url}; used by {', '.join(r.clips[:3])}"
                          f"{' ...' if len(r.clips) > 3 else ''})" for r in missing)
        how = "the same name and content" if any(r.content_hash for r in missing) else "the same name"
        looked = ", ".join(str(f) for f in finder.folders)
        raise LumaError(f"{source}: {len(missing)} media file(s) not found:\n{lines}\n"
                        f"Looked for files with {how} in: {looked}.\nAdd the folder that holds them as a relink "
                        f"folder (luma otio-import PROJECT FILE --relink FOLDER).")
    return resolved


def _media_plan(project: Project, files: dict[str, Path], hashes: dict[Path, str]) -> dict[Path, tuple]:
    """Per file: ("id", media id) when the project has it (same content), ("relink", id) when the
    project's copy went missing, else ("add", analysed file). Probing happens here, outside the transaction."""
    plan: dict[Path, tuple] = {}
    for p in dict.fromkeys(files.values()):
        chash = hashes[p] if p in hashes else hashes.setdefault(p, content_hash(p))
        rows = project.query("SELECT id, path FROM media WHERE content_hash = ? ORDER BY id", (chash,))
        here = [mid for mid, stored in rows if project.absolute_path(stored) == p]
        present = [mid for mid, stored in rows if project.absolute_path(stored).is_file()]
        if here or present:
            plan[p] = ("id", (here or present)[0])
        elif rows:
            plan[p] = ("relink", rows[0][0])
        else:
            plan[p] = ("add", media_store.analyse(p))
    return plan


def _sequence_size(project: Project, src: _Source, files: dict[str, Path], plan: dict) -> tuple[int, int]:
    width, height = src.meta.get("width"), src.meta.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    for c in src.clips:
        if src.tracks[c.track][0] != "video":
            continue
        how, what = plan[files[c.url]]
        if how == "add":
            if what.info.video is not None:
                return what.info.video.width, what.info.video.height
        else:
            video = json.loads(project.query("SELECT probe FROM media WHERE id = ?", (what,))[0][0]).get("video")
            if video:
                return int(video["width"]), int(video["height"])
    return 1920, 1080


# ---------------------------------------------------------------- writing


def _shift_props(text: str, delta: int) -> str:
    """Clip props with every keyframe moved by ``delta`` frames."""
    if not delta or text == "{}":
        return text
    value = json.loads(text)
    for k, v in list(value.items()):
        value[k] = keyframes.shift(v, delta)
    for f in value.get("filters", []):
        f["params"] = {k: keyframes.shift(v, delta) for k, v in f.get("params", {}).items()}
    return props_text(value)


def _transitions(tl: Timeline, src: _Source, clips: list[Clip]) -> list[Transition]:
    """Transition rows for the OTIO transitions between imported clips, re-centred on the cut when needed.

    The model centres a transition on the cut; an OTIO transition may sit anywhere around it (an EDL
    dissolve starts at the cut). Moving the cut by ``duration // 2 - in_offset`` frames shows the same
    frames: clip A plays on into its handle and clip B starts from its handle either way. ``clips`` is
    updated in place.
    """
    out: list[Transition] = []
    ids = edit.next_ids(tl, len(src.joins), Transition)
    for tid, (ia, ib, left, right, ox) in zip(ids, src.joins):
        a, b = clips[ia], clips[ib]
        duration = left + right
        track_kind = src.tracks[src.clips[ia].track][0]
        where = f"{ox.name or 'transition'} at {src.tc(b.start)} on {tl.track(a.track_id).name}"
        if a.end != b.start or duration < 1:
            src.notes.append(f"{where}: its clips do not meet or it has no length; left out")
            continue
        xmeta = _luma(ox)
        kind = "crossfade"
        if ox.transition_type != otio.schema.TransitionTypes.SMPTE_Dissolve:
            if xmeta.get("kind") in props_spec.TRANSITION_KINDS:
                kind = xmeta["kind"]
            else:
                src.notes.append(f"{where}: {ox.transition_type} imported as a crossfade")
        if track_kind == "audio" and kind not in props_spec.AUDIO_TRANSITION_KINDS:
            src.notes.append(f"{where}: audio tracks take crossfades only; {kind} imported as a crossfade")
            kind = "crossfade"
        try:
            params = json.loads(xmeta["params"]) if isinstance(xmeta.get("params"), str) else {}
        except json.JSONDecodeError:
            params = None
        if not isinstance(params, dict):
            src.notes.append(f"{where}: damaged transition parameters; defaults used")
            params = {}
        bad = sorted(k for k, v in params.items() if isinstance(v, bool) or not isinstance(v, (int, float)))
        if bad:  # transition parameters are numbers (softness, ...)
            src.notes.append(f"{where}: parameters {', '.join(bad)} are not numbers; defaults used")
            params = {k: v for k, v in params.items() if k not in bad}
        delta = duration // 2 - left
        na, nb = a, b
        if delta:
            source_in = b.source_in + delta * Fraction(b.speed)
            na = a.with_(duration=a.duration + delta)
            nb = b.with_(start=b.start + delta, duration=b.duration - delta, source_in=math.floor(source_in),
                         props=_shift_props(b.props, -delta))
            if source_in.denominator != 1:
                src.notes.append(f"{where}: clip {b.name} moved by a fraction of a source frame")
        row = Transition(tid, a.track_id, a.id, b.id, kind, duration, props_text(params))
        try:
            if na.duration < 1 or nb.duration < 1:
                raise EditError("it is longer than its clips")
            edit.validate(tl, edit.ClipChange("check", (), (na, nb, row)))
        except EditError as exc:
            src.notes.append(f"{where}: {exc}; left out")
            continue
        if delta:
            src.notes.append(f"{where}: centred on the cut (the cut moved {delta:+d} frames; the same frames show)")
        clips[ia], clips[ib] = na, nb
        out.append(row)
    return out


def _marker_color(m: otio.schema.Marker) -> str:
    """Luma's colour from the metadata unless the OTIO colour was changed since, else OTIO's, lower case."""
    exact = _luma(m).get("color")
    if isinstance(exact, str) and MARKER_COLORS.get(exact.lower(), otio.schema.MarkerColor.RED) == m.color:
        return exact
    return str(m.color).lower() if m.color else "red"


def _flag(meta: dict, key: str, default: bool) -> bool:
    v = meta.get(key)
    return v if isinstance(v, bool) else default


def _unique_name(project: Project, name: str) -> str:
    taken = {n for (n,) in project.query("SELECT name FROM sequences")}
    if name not in taken:
        return name
    i = 2
    while f"{name} ({i})" in taken:
        i += 1
    return f"{name} ({i})"


def _write_sequence(project: Project, src: _Source, files: dict[str, Path], plan: dict, name: str,
                    source: str) -> ImportResult:
    """Media rows, the sequence, its tracks, clips, transitions and markers: one transaction."""
    width, height = _sequence_size(project, src, files, plan)
    sample_rate = src.meta.get("sample_rate") if isinstance(src.meta.get("sample_rate"), int) else 48000
    seq_props = _check_props(src.meta.get("props"), {}, "sequence", source)
    track_props = [_check_props(m.get("props"), props_spec.TRACK_PROPS, f"track {n}", source)
                   for _k, n, m, _e in src.tracks]
    with project.transaction(f"import {source}"):
        media_ids: dict[Path, int] = {}
        for p, (how, what) in plan.items():
            if how == "add":
                media_ids[p] = media_store.add_analysed(project, what).id
                continue
            if how == "relink":
                media_store.relink(project, what, p)
                src.notes.append(f"{p.name}: the project's media row now points at {p}")
            media_ids[p] = what
        n_video = sum(1 for t in src.tracks if t[0] == "video")
        sid = create_sequence(project, name, rate=src.rate, width=width, height=height, video_tracks=n_video,
                              audio_tracks=len(src.tracks) - n_video, sample_rate=sample_rate)
        tl = Timeline(project, sid)
        rows = tl.video_tracks() + tl.audio_tracks()
        before: list = list(rows)
        after: list = []
        for (kind, tname, tmeta, enabled), row, tprops in zip(src.tracks, rows, track_props):
            # "enabled" is what other editors change: it wins over the metadata for hidden (video) / muted (audio)
            after.append(row.with_(name=tname, props=tprops, solo=_flag(tmeta, "solo", False),
                                   muted=not enabled if kind == "audio" else _flag(tmeta, "muted", False),
                                   hidden=not enabled if kind == "video" else _flag(tmeta, "hidden", False)))
        locked = [t for t, (_k, _n, tmeta, _e) in zip(after, src.tracks) if _flag(tmeta, "locked", False)]
        if seq_props != "{}":
            before.append(SequenceProps(sid, tl.sequence.props))
            after.append(SequenceProps(sid, seq_props))
        clips = [Clip(cid, rows[c.track].id, media_ids[files[c.url]], c.start, c.duration, c.source_in, c.name,
                      c.speed, c.props) for cid, c in zip(edit.next_ids(tl, len(src.clips), Clip), src.clips)]
        try:
            transitions = _transitions(tl, src, clips)
            markers = []
            for mid, (frame, duration, m) in zip(edit.next_ids(tl, len(src.markers), Marker), src.markers):
                if frame < 0:
                    src.notes.append(f"marker {m.name!r}: before the start of the sequence; left out")
                    continue
                color = _marker_color(m)
                markers.append(Marker(mid, sid, frame, max(0, duration), m.name or "", color,
                                      str(getattr(m, "comment", "") or "")))
            edit.apply(tl, edit.ClipChange(f"import {source}", tuple(before),
                                           tuple(after) + tuple(clips) + tuple(transitions) + tuple(markers)))
            if locked:  # last: a locked track takes no clips
                edit.apply(tl, edit.ClipChange("lock tracks", tuple(locked),
                                               tuple(t.with_(locked=True) for t in locked)))
            ip, op = src.meta.get("in_point"), src.meta.get("out_point")
            ip = ip if isinstance(ip, int) and ip >= 0 else None
            op = op if isinstance(op, int) and op >= 0 else None
            if ip is not None or op is not None:
                tl.set_in_out(ip, op)
        except EditError as exc:
            raise LumaError(f"{source}: {exc}") from exc
    return ImportResult(sid, name, len(clips), len(transitions), len(markers),
                        {mid: media_store.media_path(project, mid) for mid in media_ids.values()}, src.notes)


def _bundle_folder(project: Project, path: Path) -> Path:
    """A new folder beside the project to unpack an .otioz bundle's media into."""
    i = 1
    while True:
        folder = project.folder / (f"{path.stem} media" + (f" {i}" if i > 1 else ""))
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            i += 1


def import_timeline(project: Project, path: str | os.PathLike, sequence_name: str | None = None,
                    relink_folders: Iterable[str | os.PathLike] = (), rate=None,
                    adapter: str | None = None) -> ImportResult:
    """Read an interchange file into a new sequence of ``project`` (one transaction).

    Media files are found as the module describes (``relink_folders`` first). ``rate``
    is the frame rate to read an EDL at (EDLs do not say; default: the project's
    newest sequence's rate, else 25). An ``.otioz`` bundle's media are unpacked into
    a new folder beside the project. Raises LumaError, writing nothing, when the
    file cannot be read, media are missing or the edit is not valid; the result's
    ``notes`` say what was left out or adjusted.
    """
    path = Path(path).resolve()
    name = adapter_for(path, adapter)
    if name == "cmx_3600" and rate is None:
        last = project.query("SELECT rate_num, rate_den FROM sequences ORDER BY id DESC LIMIT 1")
        rate = Fraction(*last[0]) if last else Fraction(25)
    bundle = _bundle_folder(project, path) if name == "otioz" else None
    try:
        timeline = read_otio(path, name, rate=rate, extract_to=bundle)
        src = _collect(timeline, path.name, name, rate)
        base = bundle or path.parent
        hashes: dict[Path, str] = {}
        files = _find_media(src.refs, base, [Path(f) for f in relink_folders] + [base, project.folder], hashes,
                            src.notes, path.name)
        plan = _media_plan(project, files, hashes)
        seq_name = _unique_name(project, sequence_name or timeline.name or path.stem)
        result = _write_sequence(project, src, files, plan, seq_name, path.name)
    except BaseException:
        if bundle is not None:
            shutil.rmtree(bundle, ignore_errors=True)
        raise
    if bundle is not None and not any(bundle in p.parents for p in result.media.values()):
        shutil.rmtree(bundle, ignore_errors=True)  # the project had every file already
    return result


def import_otio(project: Project, path: str | os.PathLike, sequence_name: str | None = None,
                relink_folders: Iterable[str | os.PathLike] = (), rate=None) -> int:
    """Read an interchange file into a new sequence; returns its id (see :func:`import_timeline`)."""
    return import_timeline(project, path, sequence_name, relink_folders, rate).sequence_id
