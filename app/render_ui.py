"""File > Render Sequence… (Ctrl+M): the render dialog and the sequence render on the job runner.

:class:`RenderController` opens :class:`~widgets.render_dialog.RenderDialog`
for the current sequence, runs :class:`core.render.sequence_render.SequenceRenderJob`
on the job runner (it reads the project file through its own connection, so
editing goes on meanwhile), shows its progress in the dialog and the Jobs
panel, cancels it from either, and reports the file written or the error.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from core.errors import LumaError

from core.render.profiles import PROFILES
from widgets.render_dialog import RenderDialog, RenderSettings

_FINISHED = ("done", "failed", "cancelled")


def _extension(profile: str) -> str:
    p = PROFILES.get(profile)
    return getattr(p, "container", ".mp4") if p is not None else ".mp4"


class RenderController(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.dialog: RenderDialog | None = None
        self.job_id: int | None = None
        self.last_result = None
        self.last_error = ""
        window.jobs.changed.connect(self._on_job_changed)

    def install_menu(self, file_menu) -> None:
        act = QAction("Render Se&quence…", self.window)
        act.setShortcut(QKeySequence("Ctrl+M"))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _c=False: self.open_dialog())
        quit_action = next((a for a in file_menu.actions() if a.text().replace("&", "") == "Quit"), None)
        if quit_action is not None:  # with the other file actions, above Quit
            file_menu.insertAction(quit_action, act)
            file_menu.insertSeparator(quit_action)
        else:
            file_menu.addAction(act)
        self.window.addAction(act)
        self.render_action = act

    # ------------------------------------------------------------ dialog
    def open_dialog(self) -> RenderDialog | None:
        w = self.window
        tl = w.timeline
        if w.project is None or tl is None:
            w.show_error("Open a project with a sequence to render first (File > Open).")
            return None
        if self.dialog is not None and self.dialog.running:
            self.dialog.show()
            self.dialog.raise_()
            return self.dialog
        if tl.duration == 0:
            w.show_error(f"{tl.sequence.name} is empty: put clips on the timeline before rendering it.")
            return None
        seq = tl.sequence
        in_out = None
        if seq.in_point is not None or seq.out_point is not None:
            start = seq.in_point or 0
            end = (seq.out_point + 1) if seq.out_point is not None else tl.duration
            if end > start:
                in_out = (start, end)
        profiles = [(name, p.description) for name, p in PROFILES.items()]
        base = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{w.project.path.stem}_{seq.name}")
        if self.dialog is not None:
            self.dialog.deleteLater()
        d = RenderDialog(profiles, w.project.folder, base, in_out=in_out, extension_for=_extension, parent=w)
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        if "draft_480p" in PROFILES:
            d.set_profile("draft_480p")
        d.renderRequested.connect(self.start)
        d.cancelRequested.connect(self.cancel)
        self.dialog = d
        d.show()
        return d

    # ------------------------------------------------------------ the render
    def start(self, settings: RenderSettings) -> int | None:
        from core.render.sequence_render import SequenceRenderJob

        w = self.window
        if w.project is None or w.timeline is None:
            return None
        if self.job_id is not None:
            w.show_error("A render is running already: wait for it or cancel it.")
            return None
        out = Path(settings.out_path)
        if not out.is_absolute():
            out = w.project.folder / out
        try:
            job = SequenceRenderJob(w.project.path, w.timeline.sequence_id, settings.profile, out,
                                    start=settings.start, end=settings.end, workers=settings.workers,
                                    scheduler=settings.scheduler, loudness=settings.loudness)
        except LumaError as exc:  # a bad setting (e.g. the wrong file type for the profile)
            self._failed(str(exc))
            return None
        self.last_result, self.last_error = None, ""
        if self.dialog is not None:
            self.dialog.set_running(True)
        self.job_id = w.jobs.submit(job, on_done=self._done, on_error=self._failed)
        return self.job_id

    def cancel(self) -> None:
        if self.job_id is not None:
            self.window.jobs.cancel(self.job_id)

    def running(self) -> bool:
        return self.job_id is not None

    def project_closing(self) -> None:
        if self.job_id is not None:
            self.window.jobs.cancel(self.job_id)
            self.window.jobs.wait(15000)
        if self.dialog is not None and not self.dialog.running:
            self.dialog.close()

    def _on_job_changed(self, job_id: int) -> None:
        if job_id != self.job_id:
            return
        rec = self.window.jobs.jobs[job_id]
        if self.dialog is not None and rec.state not in _FINISHED:
            self.dialog.set_progress(rec.progress, rec.message)
        if rec.state == "cancelled":
            self.job_id = None
            if self.dialog is not None:
                self.dialog.set_cancelled()
            self.window.statusBar().showMessage("Render cancelled", 6000)

    def _done(self, result) -> None:
        self.job_id = None
        self.last_result = result
        path = getattr(result, "path", result)
        detail = self._describe(result)
        if self.dialog is not None:
            self.dialog.set_finished(path, detail)
        self.window.statusBar().showMessage(f"Rendered {path}", 10000)

    def _failed(self, message: str) -> None:
        self.job_id = None
        self.last_error = message
        if self.dialog is not None:
            self.dialog.set_failed(message)
        self.window.show_error(message, "Render")

    @staticmethod
    def _describe(result) -> str:
        parts = []
        frames, size = getattr(result, "frames", None), getattr(result, "size", None)
        if frames is not None:
            parts.append(f"{frames} frames")
        if size is not None:
            parts.append(f"{size[0]}x{size[1]}")
        seconds = getattr(result, "seconds", None)
        if seconds is not None:
            parts.append(f"in {seconds:.1f} s")
        return ", ".join(parts)
