"""Forward migrations of the project file.

Each migration takes the schema from version N-1 to N inside the same
transaction that records N in ``luma_schema``. Later features add their tables
by appending a :class:`Migration` to :data:`MIGRATIONS`; a migration is never
edited once released. A file whose version is higher than the last migration
here was written by a newer Luma Studio and is refused.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Execute several statements inside the caller's transaction.

    (``executescript`` would COMMIT first, breaking the one-transaction rule.)
    """
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            conn.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:80]}")


def _m1_initial(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE project_meta (
            key TEXT PRIMARY KEY,
            value TEXT
        );
        CREATE TABLE media (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            path TEXT NOT NULL,              -- relative to the project file's folder (POSIX separators)
            content_hash TEXT NOT NULL,
            size INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('video', 'audio', 'image')),
            probe TEXT NOT NULL,             -- JSON of core.media.probe.MediaInfo
            thumbnail BLOB,                  -- PNG
            added_at TEXT NOT NULL
        );
        CREATE TABLE derived_media (
            id INTEGER PRIMARY KEY,
            parent_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,              -- 'proxy', ...
            params TEXT NOT NULL,            -- JSON: how it was made
            path TEXT NOT NULL,              -- relative to the project file's folder
            width INTEGER,
            height INTEGER,
            created_at TEXT NOT NULL,
            UNIQUE (parent_id, kind, params)
        );
        CREATE TABLE sequences (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            rate_num INTEGER NOT NULL CHECK (rate_num > 0),
            rate_den INTEGER NOT NULL CHECK (rate_den > 0),
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            sample_rate INTEGER NOT NULL DEFAULT 48000,
            playhead INTEGER NOT NULL DEFAULT 0,
            in_point INTEGER,
            out_point INTEGER
        );
        CREATE TABLE tracks (
            id INTEGER PRIMARY KEY,
            sequence_id INTEGER NOT NULL REFERENCES sequences(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('video', 'audio')),
            position INTEGER NOT NULL,       -- 0 = the track nearest the centre line
            name TEXT NOT NULL,
            muted INTEGER NOT NULL DEFAULT 0,
            locked INTEGER NOT NULL DEFAULT 0,
            hidden INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE clips (
            id INTEGER PRIMARY KEY,
            track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE RESTRICT,
            start INTEGER NOT NULL,          -- sequence frames
            duration INTEGER NOT NULL CHECK (duration > 0),
            source_in INTEGER NOT NULL DEFAULT 0 CHECK (source_in >= 0),  -- sequence frames into the source
            name TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX clips_by_track ON clips(track_id, start);
        CREATE INDEX tracks_by_sequence ON tracks(sequence_id, kind, position);
        CREATE INDEX derived_by_parent ON derived_media(parent_id);
        """
    )


def _m2_lighting(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE lighting_settings (
            key TEXT PRIMARY KEY,            -- tempo_bpm, tempo_offset, beats_per_bar, sample_rate
            value TEXT NOT NULL
        );
        CREATE TABLE lighting_fixture_defs (
            key TEXT PRIMARY KEY,            -- "Manufacturer/Model"
            definition TEXT NOT NULL,        -- JSON of core.lighting.fixture_def.FixtureDef.to_dict()
            source TEXT NOT NULL DEFAULT ''  -- the file it was imported from (informational)
        );
        CREATE TABLE lighting_fixtures (
            id TEXT PRIMARY KEY,             -- what patterns and show files call it ("par1")
            patch_order INTEGER NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            def_key TEXT NOT NULL REFERENCES lighting_fixture_defs(key) ON DELETE RESTRICT,
            mode TEXT NOT NULL,
            universe INTEGER NOT NULL CHECK (universe >= 1),
            address INTEGER NOT NULL CHECK (address BETWEEN 1 AND 512),
            groups TEXT NOT NULL DEFAULT '[]',   -- JSON list of group names
            x REAL NOT NULL DEFAULT 0,       -- stage position, metres
            y REAL NOT NULL DEFAULT 0,
            z REAL NOT NULL DEFAULT 0
        );
        CREATE TABLE lighting_patterns (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            graph TEXT NOT NULL              -- JSON of core.lighting.pattern.PatternGraph.to_dict()
        );
        CREATE TABLE lighting_layers (
            id INTEGER PRIMARY KEY,
            pattern_id INTEGER NOT NULL REFERENCES lighting_patterns(id) ON DELETE CASCADE,
            track TEXT NOT NULL,
            start_beat REAL NOT NULL,
            end_beat REAL NOT NULL,
            z INTEGER NOT NULL DEFAULT 0,
            blend TEXT NOT NULL DEFAULT 'replace'
                CHECK (blend IN ('replace', 'add', 'multiply', 'screen', 'max', 'min')),
            opacity TEXT NOT NULL DEFAULT '[]',  -- JSON [[beat from layer start, 0..1, interp], ...]
            CHECK (end_beat > start_beat)
        );
        CREATE INDEX lighting_layers_by_track ON lighting_layers(track, start_beat);
        CREATE INDEX lighting_layers_by_pattern ON lighting_layers(pattern_id);
        """
    )


def _m3_tracking(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE track_sessions (
            id INTEGER PRIMARY KEY,
            media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
            subject TEXT NOT NULL DEFAULT '',
            tracker TEXT NOT NULL,           -- registry name: csrt, kcf, follow, botsort, bytetrack, ...
            params TEXT NOT NULL DEFAULT '{}',   -- JSON: keyword arguments for the tracker
            batch INTEGER NOT NULL DEFAULT 25 CHECK (batch > 0),  -- frames per batch = tracker re-init interval
            smoothing TEXT,                  -- JSON {"method": "one_euro"|"savgol", ...}; applied on read
            status TEXT NOT NULL DEFAULT 'not_started'
                CHECK (status IN ('not_started', 'in_progress', 'complete', 'failed')),
            error TEXT,                      -- why it failed (status 'failed')
            note TEXT NOT NULL DEFAULT '',   -- e.g. 'cancelled'
            start_frame INTEGER NOT NULL,    -- the seed frame (source frames of the media)
            first_frame INTEGER NOT NULL,    -- the range to track, inclusive
            last_frame INTEGER NOT NULL,
            checkpoint_frame INTEGER,        -- the seed's forward run has rows up to here (start_frame at first)
            checkpoint_back INTEGER,         -- the seed's backward run has rows down to here
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK (first_frame <= start_frame AND start_frame <= last_frame AND first_frame >= 0)
        );
        CREATE TABLE track_keyframes (
            session_id INTEGER NOT NULL REFERENCES track_sessions(id) ON DELETE CASCADE,
            frame INTEGER NOT NULL,
            x1 REAL NOT NULL,
            y1 REAL NOT NULL,
            x2 REAL NOT NULL,
            y2 REAL NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('user', 'seed')),
            created_at TEXT NOT NULL,
            PRIMARY KEY (session_id, frame)
        ) WITHOUT ROWID;
        CREATE TABLE track_passes (          -- tracking still to do: from a keyframe in one direction
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES track_sessions(id) ON DELETE CASCADE,
            origin INTEGER NOT NULL,         -- the keyframe it starts from
            direction INTEGER NOT NULL CHECK (direction IN (-1, 1)),
            stop INTEGER NOT NULL,           -- the last frame it writes (inclusive)
            cursor INTEGER,                  -- the last frame written so far (NULL: none yet)
            UNIQUE (session_id, origin, direction)
        );
        CREATE TABLE track_rows (
            session_id INTEGER NOT NULL REFERENCES track_sessions(id) ON DELETE CASCADE,
            frame INTEGER NOT NULL,
            x1 REAL,                         -- NULL when there never was a box
            y1 REAL,
            x2 REAL,
            y2 REAL,
            confidence REAL NOT NULL DEFAULT 0,
            lost INTEGER NOT NULL DEFAULT 0 CHECK (lost IN (0, 1)),
            keypoints TEXT,                  -- JSON [[x, y, conf], ...] or NULL
            PRIMARY KEY (session_id, frame)
        ) WITHOUT ROWID;
        CREATE INDEX track_sessions_by_media ON track_sessions(media_id, subject);
        CREATE INDEX track_passes_by_session ON track_passes(session_id, id);
        """
    )


def _m4_roto(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE roto_objects (
            id INTEGER PRIMARY KEY,
            media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            backend TEXT NOT NULL DEFAULT 'classic',   -- segmenter registry name for prompts
            params TEXT NOT NULL DEFAULT '{}',          -- JSON: segmenter options
            propagation TEXT NOT NULL DEFAULT '{}',     -- JSON: propagator options
            track_session_id INTEGER REFERENCES track_sessions(id) ON DELETE SET NULL,  -- box constraint
            first_frame INTEGER NOT NULL,               -- the range to propagate through, inclusive
            last_frame INTEGER NOT NULL,
            batch INTEGER NOT NULL DEFAULT 10 CHECK (batch > 0),   -- frames per committed batch
            feather_inner REAL NOT NULL DEFAULT 0 CHECK (feather_inner >= 0),
            feather_outer REAL NOT NULL DEFAULT 0 CHECK (feather_outer >= 0),
            tolerance REAL NOT NULL DEFAULT 1.0 CHECK (tolerance > 0),  -- Bezier fit, pixels
            point_count INTEGER,                        -- NULL: chosen by the fit
            smoothing REAL NOT NULL DEFAULT 0 CHECK (smoothing >= 0),   -- temporal smoothing of shapes
            shapes TEXT,                                -- JSON RotoAnimation fitted from the mattes (cache)
            next_rev INTEGER NOT NULL DEFAULT 1,        -- revision counter for keyframes
            status TEXT NOT NULL DEFAULT 'empty'
                CHECK (status IN ('empty', 'in_progress', 'complete', 'failed')),
            error TEXT,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (media_id, name),
            CHECK (first_frame >= 0 AND first_frame <= last_frame)
        );
        CREATE TABLE roto_keyframes (
            object_id INTEGER NOT NULL REFERENCES roto_objects(id) ON DELETE CASCADE,
            frame INTEGER NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('prompt', 'shape', 'matte')),
            prompt TEXT,                     -- JSON Prompt (source 'prompt')
            shape TEXT,                      -- JSON list of splines (source 'shape': the user's edit)
            rev INTEGER NOT NULL,            -- changes whenever the keyframe's matte changes
            created_at TEXT NOT NULL,
            PRIMARY KEY (object_id, frame)
        ) WITHOUT ROWID;
        CREATE TABLE roto_masks (            -- PNG-compressed uint8 mattes
            object_id INTEGER NOT NULL REFERENCES roto_objects(id) ON DELETE CASCADE,
            frame INTEGER NOT NULL,
            direction INTEGER NOT NULL CHECK (direction IN (-1, 0, 1)),  -- 0: the keyframe's own matte
            origin INTEGER NOT NULL,         -- the keyframe it was propagated from (itself for 0)
            origin_rev INTEGER NOT NULL,     -- that keyframe's rev when it was propagated
            png BLOB NOT NULL,
            area INTEGER NOT NULL,           -- pixels >= 128
            PRIMARY KEY (object_id, frame, direction)
        ) WITHOUT ROWID;
        CREATE TABLE roto_passes (           -- propagation still to do: from a keyframe in one direction
            id INTEGER PRIMARY KEY,
            object_id INTEGER NOT NULL REFERENCES roto_objects(id) ON DELETE CASCADE,
            origin INTEGER NOT NULL,
            direction INTEGER NOT NULL CHECK (direction IN (-1, 1)),
            stop INTEGER NOT NULL,           -- the last frame it writes (inclusive)
            cursor INTEGER,                  -- the last frame written so far (NULL: none yet)
            UNIQUE (object_id, origin, direction)
        );
        CREATE INDEX roto_objects_by_media ON roto_objects(media_id, name);
        CREATE INDEX roto_passes_by_object ON roto_passes(object_id, id);
        """
    )


def _m5_editing(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        ALTER TABLE clips ADD COLUMN speed_num INTEGER NOT NULL DEFAULT 1 CHECK (speed_num > 0);
        ALTER TABLE clips ADD COLUMN speed_den INTEGER NOT NULL DEFAULT 1 CHECK (speed_den > 0);
        ALTER TABLE clips ADD COLUMN props TEXT NOT NULL DEFAULT '{}';   -- JSON: core.timeline.props
        ALTER TABLE tracks ADD COLUMN solo INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE tracks ADD COLUMN props TEXT NOT NULL DEFAULT '{}';  -- JSON: filters, volume
        ALTER TABLE sequences ADD COLUMN props TEXT NOT NULL DEFAULT '{}';  -- JSON: sequence filters
        CREATE TABLE transitions (
            id INTEGER PRIMARY KEY,
            track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            clip_a INTEGER NOT NULL,         -- outgoing clip: it ends at the cut
            clip_b INTEGER NOT NULL,         -- incoming clip: it starts at the cut
            kind TEXT NOT NULL,              -- core.render.transitions kinds ('crossfade', 'dip_black', ...)
            duration INTEGER NOT NULL CHECK (duration > 0),  -- sequence frames, centred on the cut
            params TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX transitions_by_track ON transitions(track_id);
        CREATE TABLE markers (
            id INTEGER PRIMARY KEY,
            sequence_id INTEGER NOT NULL REFERENCES sequences(id) ON DELETE CASCADE,
            frame INTEGER NOT NULL CHECK (frame >= 0),
            duration INTEGER NOT NULL DEFAULT 0 CHECK (duration >= 0),
            name TEXT NOT NULL DEFAULT '',
            color TEXT NOT NULL DEFAULT 'red',
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX markers_by_sequence ON markers(sequence_id, frame);
        CREATE TABLE beat_grids (
            media_id INTEGER PRIMARY KEY REFERENCES media(id) ON DELETE CASCADE,
            bpm REAL NOT NULL,
            beats TEXT NOT NULL,             -- JSON list of beat times, seconds from the media start
            downbeats TEXT NOT NULL,         -- JSON list of downbeat times (first beat of each bar)
            beats_per_bar INTEGER NOT NULL DEFAULT 4,
            params TEXT NOT NULL DEFAULT '{}',  -- how it was analysed
            created_at TEXT NOT NULL
        );
        """
    )


MIGRATIONS: list[Migration] = [
    Migration(1, "initial: media, lineage, sequences, tracks, clips", _m1_initial),
    Migration(2, "lighting: fixture definitions, patch, patterns, layers", _m2_lighting),
    Migration(3, "tracking sessions: keyframes, passes, per-frame rows", _m3_tracking),
    Migration(4, "rotoscoping: objects, keyframes, per-frame mattes, propagation passes", _m4_roto),
    Migration(5, "editing: clip speed and properties, track solo, transitions, markers, beat grids", _m5_editing),
]


def latest_version() -> int:
    return MIGRATIONS[-1].version if MIGRATIONS else 0
