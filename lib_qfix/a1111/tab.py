"""The A1111 "QFix" tab (gradio 3.41.2): score a folder (or uploads), see the sorted gallery with
scores and reasons and the histogram, move the threshold to re-split keep/reject live, export CSV,
move rejects after a confirmation. Long runs report progress and can be cancelled.

All the work is in :mod:`lib_qfix.filter.session`; this module lays out widgets, wires events and
writes what the user reads (the Markdown summary and messages, the gallery captions). Registered by
:mod:`lib_qfix.a1111.callbacks` through ``script_callbacks.on_ui_tabs``.

Temporary files (full copies of uploads, thumbnails, CSV exports) belong to a session: a browser
session's previous one is closed when it presses Score again (gradio 3.41 has no "session ended"
event), everything of this process is removed at exit, and building the tab removes what earlier,
finished processes left behind (:func:`lib_qfix.filter.tempdirs.remove_stale`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from lib_qfix.a1111 import elements as E
from lib_qfix.a1111 import settings
from lib_qfix.a1111.ui import widget
from lib_qfix.filter import tempdirs
from lib_qfix.filter.cache import default_cache_path
from lib_qfix.filter.records import ERROR, KEEP, REJECT, Decision, count_status
from lib_qfix.filter.scan import ScanError
from lib_qfix.filter.session import Canceller, FilterSession, MoveRefused, run_session, stage_uploads
from lib_qfix.options import DEFAULTS, DETECT_CHOICES, FIELD_BY_KEY, OptionError, Options
from lib_qfix.presets import names, resolve_options
from lib_qfix.registry import scorer_names

_cancel = Canceller()  # one per server: the Cancel button stops the run in progress


def _scorers() -> list[str]:
    return list(scorer_names())


def _presets() -> list[str]:
    """The same presets as the panel: bundled and this server's user presets."""
    try:
        found = names(settings.user_preset_dir())
    except Exception:  # presets unavailable: the built-in defaults still work
        found = []
    return found or ["default"]


def _options(scorer: str, preset: str) -> Options:
    return resolve_options(preset or "default", {"scorer": scorer or "offline"}, settings.user_preset_dir())


def _gallery(session: FilterSession, decisions: Sequence[Decision], limit: int = 1000) -> list[tuple[str, str]]:
    """(thumbnail path, caption) best first; caption: ``#rank quality status: first reasons — rel``."""
    thumbs = session.thumb_paths()
    ordered = sorted((d for d in decisions if d.record.path in thumbs),
                     key=lambda d: (-(d.record.quality or 0.0), d.record.path))
    out = []
    for d in ordered[:limit]:
        why = "; ".join(d.reasons[:2])
        out.append((thumbs[d.record.path], f"#{d.rank} {d.record.quality:.3f} {d.status}"
                    + (f": {why}" if why else "") + f" — {d.record.rel}"))
    return out


def _summary(session: FilterSession, decisions: Sequence[Decision]) -> str:
    """The Markdown line under the controls: counts, partial run, cache hits."""
    n = count_status(decisions)
    extra = " (interrupted: partial)" if session.result.interrupted else ""
    return (f"**{len(decisions)} images**{extra}: {n[KEEP]} keep, {n[REJECT]} reject, {n[ERROR]} unreadable"
            f" · {session.result.cached} from cache")


def _views(session: FilterSession | None, threshold: float, keep_top: str, best: bool) -> tuple[Any, ...]:
    """(gallery, histogram html, summary markdown) for the current split."""
    if session is None:
        return [], "", ""
    try:
        decisions = session.decisions(threshold, keep_top, best)
    except ValueError as e:
        return gr.update(), gr.update(), f"**{e}**"
    line = None if (keep_top or "").strip() else threshold
    return _gallery(session, decisions), session.histogram(line), _summary(session, decisions)


def score(folders: str, files: list | None, scorer: str, preset: str, detect: list[str], threshold: float,
          keep_top: str, best: bool, progress: Any = None) -> tuple[Any, ...]:
    """Event handler of "Score": returns (session, gallery, histogram, summary, message)."""
    _cancel.reset()
    uploads = [getattr(f, "name", f) for f in (files or [])]
    roots = [line.strip() for line in (folders or "").splitlines() if line.strip()]
    staged = bool(uploads) and not roots
    if staged:
        try:
            roots = [stage_uploads(uploads)]
        except OSError as e:
            return None, [], "", "", f"**Cannot copy the uploads: {e.strerror or e}**"
    if not roots:
        return None, [], "", "", "Give a folder (one per line) or upload images."

    def report(done: int, total: int, cached: int) -> None:
        if progress is not None:
            progress((done, total), desc=f"scoring ({cached} from cache)", unit="images")

    settings.use_models_dir()  # the server's model folder for the detectors, its LLM judge for the scorer
    try:
        session = run_session(roots, _options(scorer, preset), uploaded=staged,
                              cache_path=default_cache_path(), detect=tuple(detect or ()), progress=report,
                              should_stop=_cancel)
    except (ScanError, OptionError, ValueError) as e:
        if staged:
            tempdirs.remove_dir(roots[0])
        return None, [], "", "", f"**{e}**"
    except BaseException:
        if staged:
            tempdirs.remove_dir(roots[0])
        raise
    if staged:
        session.staged_dir = roots[0]
    gallery, hist, summary = _views(session, threshold, keep_top, best)
    msg = "Cancelled: showing the images scored so far." if session.result.interrupted else ""
    if session.skipped:
        msg += f" Skipped {len(session.skipped)} path(s) (symlinks, special files, output or unreadable folders)."
    for w in session.result.warnings:
        msg += f" Warning: {w}"
    return session, gallery, hist, summary, msg.strip()


def score_with_progress(folders: str, files: list | None, scorer: str, preset: str, detect: list[str],
                        threshold: float, keep_top: str, best: bool,
                        progress: Any = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008 - gradio injects progress this way
    return score(folders, files, scorer, preset, detect, threshold, keep_top, best, progress)


def release(session: FilterSession | None) -> None:
    """A browser session pressed Score again: its previous session ends, its temp files go."""
    if session is not None:
        session.close()


def cancel() -> str:
    _cancel.cancel()
    return "Cancelling after the current batch…"


def export(session: FilterSession | None, threshold: float, keep_top: str, best: bool) -> Any:
    if session is None:
        return None, "Score a folder first."
    return session.export_csv(session.decisions(threshold, keep_top, best)), ""


def ask_move(session: FilterSession | None, threshold: float, keep_top: str, best: bool,
             dest: str) -> tuple[Any, ...]:
    """First step of "Move rejects": show the confirmation box with what would happen."""
    if session is None:
        return gr.update(visible=False), "", "Score a folder first."
    try:
        d, n = session.plan_move(session.decisions(threshold, keep_top, best), dest)
    except MoveRefused as e:
        return gr.update(visible=False), "", str(e)
    return gr.update(visible=True), (f"Move **{n}** rejected image(s) to `{d}`? Relative paths are kept, "
                                     "nothing is overwritten, and a manifest is written there (undo: "
                                     "`qfix filter --undo MANIFEST`)."), ""


def do_move(session: FilterSession | None, threshold: float, keep_top: str, best: bool,
            dest: str) -> tuple[Any, ...]:
    """Second step: move, hide the box, report what happened (the session stays, files moved)."""
    if session is None:
        return gr.update(visible=False), "Score a folder first."
    try:
        res = session.move_rejects(session.decisions(threshold, keep_top, best), dest)
    except ValueError as e:
        return gr.update(visible=False), f"**{e}**"
    msg = f"Moved {len(res.done)} file(s). Manifest: `{res.manifest}`"
    if res.errors:
        msg += "\n\n" + "\n".join(f"- {e}" for e in res.errors[:20])
    return gr.update(visible=False), msg


def build() -> gr.Blocks:
    tempdirs.remove_stale()  # what earlier, finished processes left behind
    with gr.Blocks(analytics_enabled=False) as ui:
        session = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1):
                folders = gr.Textbox(label="Folders (one per line)", lines=2, elem_id=E.TAB_FOLDERS)
                files = gr.File(label="…or upload images", file_count="multiple", file_types=["image"])
                with gr.Row():
                    scorer = gr.Dropdown(_scorers(), value=DEFAULTS.scorer, label=FIELD_BY_KEY["scorer"].label,
                                         elem_id=E.TAB_SCORER)
                    preset = gr.Dropdown(_presets(), value=DEFAULTS.preset, label=FIELD_BY_KEY["preset"].label,
                                         elem_id=E.TAB_PRESET)
                detect = gr.CheckboxGroup(list(DETECT_CHOICES), value=[], label="Detectors (slower)")
                with gr.Row():
                    run_btn = gr.Button("Score", variant="primary", elem_id=E.TAB_SCORE)
                    stop_btn = gr.Button("Cancel", elem_id=E.TAB_CANCEL)
                threshold = widget(FIELD_BY_KEY["quality_threshold"], DEFAULTS.quality_threshold, E.TAB_THRESHOLD)
                keep_top = gr.Textbox(label="…or keep the top N or P% (overrides the threshold)", value="")
                best = gr.Checkbox(False, label="Keep only the best of each near-duplicate burst")
                summary = gr.Markdown()
                message = gr.Markdown()
                hist = gr.HTML()
                with gr.Row():
                    export_btn = gr.Button("Export CSV")
                    csv_file = gr.File(label="CSV", interactive=False)
                dest = gr.Textbox(label="Move rejects to (folder)")
                move_btn = gr.Button("Move rejects…", variant="stop")
                with gr.Group(visible=False) as confirm:
                    confirm_text = gr.Markdown()
                    with gr.Row():
                        yes_btn = gr.Button("Confirm move", variant="stop")
                        no_btn = gr.Button("Keep files where they are")
            with gr.Column(scale=3):
                gallery = gr.Gallery(label="Images, best first", columns=6, object_fit="contain",
                                     elem_id=E.TAB_GALLERY)
        split = [threshold, keep_top, best]
        run_evt = run_btn.click(score_with_progress, [folders, files, scorer, preset, detect, *split],
                                [session, gallery, hist, summary, message])
        # registered after the Score event, so fn_index order is unchanged; gets the state as it was
        # at the click, i.e. the session the new run replaces
        run_btn.click(release, [session], None, queue=False)
        stop_btn.click(cancel, None, message, cancels=[run_evt])
        for comp in split:
            comp.change(_views, [session, *split], [gallery, hist, summary])
        export_btn.click(export, [session, *split], [csv_file, message])
        move_btn.click(ask_move, [session, *split, dest], [confirm, confirm_text, message])
        yes_btn.click(do_move, [session, *split, dest], [confirm, message])
        no_btn.click(lambda: (gr.update(visible=False), "Nothing moved."), None, [confirm, message])
    return ui


def on_ui_tabs() -> list[tuple[gr.Blocks, str, str]]:
    """The A1111 ``on_ui_tabs`` callback."""
    return [(build(), "QFix", E.TAB)]
