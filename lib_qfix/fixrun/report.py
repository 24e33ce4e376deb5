"""The outputs of a batch fix: ``report.html`` (before/after per image, what was found and done, the
scores) and ``results.json`` (every :class:`~lib_qfix.fixrun.records.FixRecord`).

The page is self-contained like ``qfix diagnose --html`` (:mod:`lib_qfix.report.html`: inline CSS,
JPEG data URIs): the "before" thumbnail has the regions found drawn over it, the "after" one is the
written result's. Images are read back from the files when the page is written, so records stay
small wherever they were made (a Ray actor returns no pixels).
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lib_qfix import __version__
from lib_qfix.fileio import atomic_write_text
from lib_qfix.fixrun.records import ERROR, FIXED, UNCHANGED, FixRecord, count, fixed_counts
from lib_qfix.imageio import load_image
from lib_qfix.report.html import CSS, quality_colour, thumbnail_data_uri
from lib_qfix.report.overlay import draw_regions
from lib_qfix.types import Region

THUMB = 320
STATUS_COLOUR = {FIXED: "#2a9d4a", UNCHANGED: "#888", ERROR: "#d1382e"}
EXTRA_CSS = """
.pair{display:grid;grid-template-columns:1fr 1fr;gap:6px}.pair figure{margin:0}
.pair figcaption{font-size:11px;color:#666;text-align:center}.status{font-weight:600}
.card ul{padding-left:18px;margin:4px 0}.muted{color:#888}
"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _thumb(path: str, regions: Sequence[dict] = ()) -> str:
    """A data URI of the image at ``path`` with ``regions`` drawn ("" when it cannot be read)."""
    if not path:
        return ""
    try:
        img: np.ndarray = load_image(path)
        if regions:
            img = draw_regions(img, [Region.from_json(r) for r in regions])
        return thumbnail_data_uri(img, THUMB)
    except Exception:  # a thumbnail is a convenience: the card still says what happened
        return ""


def _q(q: float | None) -> str:
    return "–" if q is None else f"{q:.3f}"


def _figure(uri: str, caption: str) -> str:
    img = f'<img src="{uri}" alt="{_e(caption)}">' if uri else '<div class="muted">(no image)</div>'
    return f"<figure>{img}<figcaption>{_e(caption)}</figcaption></figure>"


def card_html(r: FixRecord) -> str:
    before = _figure(_thumb(r.path, r.regions_before), "before")
    after = _figure(_thumb(r.dst, r.regions_after), "after") if r.status == FIXED else ""
    q = r.quality_after if r.quality_after is not None else r.quality_before
    score = f"quality {_q(r.quality_before)}" + (f" → <b>{_q(r.quality_after)}</b>" if r.quality_after is not None else "")
    items = [f"<li>found: {_e(', '.join(r.found) or 'nothing')}</li>"]
    if r.fixed:
        items.append(f"<li>fixed: {_e(r.fixed)}</li>")
    items += [f"<li>rejected: {_e(x)}</li>" for x in r.rejected]
    items += [f'<li class="muted">{_e(x)}</li>' for x in r.notes]
    err = f'<div class="error">{_e(r.error)}</div>' if r.error else ""
    out = f'<div class="muted" title="{_e(r.dst)}">→ {_e(Path(r.dst).name)}</div>' if r.dst else ""
    return f"""<div class="card{' err' if r.status == ERROR else ''}">
<div class="pair">{before}{after}</div>
<div class="name" title="{_e(r.path)}">{_e(r.rel)}</div>{out}
<div class="status" style="color:{STATUS_COLOUR.get(r.status, '#888')}">{_e(r.result or r.status)}</div>
<div class="bar"><div style="width:{(q or 0) * 100:.0f}%;background:{quality_colour(q)}"></div></div>
<div class="q">{score} <small>{r.seconds:.1f} s</small></div><ul>{''.join(items)}</ul>{err}
</div>"""


def render(records: Sequence[FixRecord], title: str = "QFix fix", meta: str = "") -> str:
    c = count(records)
    fixed = ", ".join(f"{k} {n}" for k, n in fixed_counts(records).most_common()) or "nothing"
    order = {FIXED: 0, ERROR: 1, UNCHANGED: 2}
    body = "".join(card_html(r) for r in sorted(records, key=lambda r: (order.get(r.status, 3), r.rel)))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{CSS}{EXTRA_CSS}</style></head><body>
<h1>{_e(title)}</h1>
<div class="meta">{len(records)} images · {c[FIXED]} fixed · {c[UNCHANGED]} unchanged · {c[ERROR]} failed ·
repaired: {_e(fixed)} · QFix {__version__}{' · ' + _e(meta) if meta else ''}</div>
<div class="grid">{body}</div></body></html>"""


def write_outputs(records: Sequence[FixRecord], out: str | os.PathLike[str], meta: dict) -> dict[str, str]:
    """Write ``report.html`` and ``results.json`` into ``out``; returns their paths."""
    folder = Path(out)
    html_path = atomic_write_text(folder / "report.html", render(records, meta=", ".join(
        f"{k} {v}" for k, v in meta.items() if v not in (None, ""))))
    doc = {"meta": meta, "records": [r.to_json() for r in records]}
    json_path = atomic_write_text(folder / "results.json", json.dumps(doc, indent=2) + "\n")
    return {"html": str(html_path), "json": str(json_path)}
