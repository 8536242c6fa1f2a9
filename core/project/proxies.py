"""Which proxies a media file needs, and where they go (beside the project file)."""

from __future__ import annotations

from pathlib import Path

from core.media.proxy import ProxyJob
from core.project import media_store
from core.project.project import Project

PROXY_HEIGHTS = (360, 720)


def proxies_dir(project: Project) -> Path:
    return project.folder / f"{project.path.stem}.proxies"


def proxy_jobs_for(project: Project, record: media_store.MediaRecord,
                   heights: tuple[int, ...] = PROXY_HEIGHTS) -> list[ProxyJob]:
    """Jobs for the proxies a video still lacks: each height smaller than the source."""
    info = record.info
    if info.kind != "video" or info.video is None:
        return []
    have = {d["height"] for d in media_store.list_derived(project, record.id, "proxy") if Path(d["path"]).is_file()}
    folder = proxies_dir(project)
    jobs = []
    for h in heights:
        if h < info.video.height and h not in have:
            folder.mkdir(exist_ok=True)
            jobs.append(ProxyJob(media_store.media_path(project, record.id), folder / f"{record.id}_{h}p.mp4",
                                 height=h))
    return jobs
