"""Filter outputs: CSV and JSON of every decision, and one self-contained HTML contact sheet
(thumbnails sorted by score, found regions drawn over them, a score histogram with the threshold
line, reasons under every reject). No external files, scripts or fonts: the page works offline."""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections.abc import Sequence
from typing import Any

from lib_qfix.fileio import atomic_write_text
from lib_qfix.filter.records import ERROR, KEEP, REJECT, Decision, count_status
from lib_qfix.judge.verdicts import rating_text
from lib_qfix.report.html import jpeg_data_uri

CSV_FIELDS = ("rank", "status", "quality", "path", "rel", "width", "height", "burst", "burst_best",
              "scorer", "reasons", "error")
STATUS_COLOUR = {KEEP: "#2a9d4a", REJECT: "#d1382e", ERROR: "#888888"}
REGION_COLOUR = {"face": "#29a3ff", "hand": "#ffb000", "text": "#ff3fd2", "watermark": "#ff3fd2"}


def _sorted(decisions: Sequence[Decision]) -> list[Decision]:
    return sorted(decisions, key=lambda d: (d.record.quality is None, -(d.record.quality or 0.0), d.record.path))


def write_csv(decisions: Sequence[Decision], path: str | os.PathLike[str]) -> None:
    """One row per image, best first; ``reasons`` joined with " | "."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(CSV_FIELDS)
    for d in _sorted(decisions):
        r = d.record
        w.writerow([d.rank, d.status, "" if r.quality is None else f"{r.quality:.4f}", r.path, r.rel,
                    r.width, r.height, d.burst, int(d.burst_best), r.scorer, " | ".join(d.reasons),
                    r.error or ""])
    atomic_write_text(path, buf.getvalue())


def summary(decisions: Sequence[Decision], **extra: Any) -> dict[str, Any]:
    """``{"images": n, "keep": n, "reject": n, "error": n, **extra}``."""
    return {"images": len(decisions), **count_status(decisions), **extra}


def write_json(decisions: Sequence[Decision], path: str | os.PathLike[str], **meta: Any) -> None:
    """``{"summary": {...}, "decisions": [...]}`` with one decision per line: each line encoded by
    json's C encoder (``indent`` would switch to the pure-Python one, ~5x slower: most of a cached
    run's time)."""
    rows = ",\n  ".join(json.dumps(d.to_json()) for d in _sorted(decisions))
    body = f"[\n  {rows}\n ]" if rows else "[]"
    atomic_write_text(path, f'{{"summary": {json.dumps(summary(decisions, **meta))},\n "decisions": {body}}}\n')


def histogram_svg(qualities: Sequence[float], threshold: float | None, bins: int = 20,
                  width: int = 560, height: int = 180) -> str:
    """An inline SVG bar chart of ``qualities`` (0..1) in ``bins`` bins, with a dashed red line at
    ``threshold`` (None: no line)."""
    counts = [0] * bins
    for q in qualities:
        counts[min(bins - 1, max(0, int(q * bins)))] += 1
    top = max(counts) or 1
    pad_l, pad_b, pad_t = 36, 22, 8
    pw, ph = width - pad_l - 8, height - pad_b - pad_t
    bw = pw / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="hist" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
             f'<rect x="{pad_l}" y="{pad_t}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>']
    for i, c in enumerate(counts):
        h = ph * c / top
        x = pad_l + i * bw
        parts.append(f'<rect class="bar" x="{x + 1:.1f}" y="{pad_t + ph - h:.1f}" width="{bw - 2:.1f}" '
                     f'height="{h:.1f}" fill="#5b7db1"><title>{i / bins:.2f}-{(i + 1) / bins:.2f}: {c}</title></rect>')
    for t in range(0, 11, 2):
        x = pad_l + pw * t / 10
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{t / 10:.1f}</text>')
    parts.append(f'<text x="{pad_l - 4}" y="{pad_t + 10}" text-anchor="end">{top}</text>'
                 f'<text x="{pad_l - 4}" y="{pad_t + ph}" text-anchor="end">0</text>')
    if threshold is not None:
        x = pad_l + pw * threshold
        parts.append(f'<line class="threshold" x1="{x:.1f}" y1="{pad_t}" x2="{x:.1f}" y2="{pad_t + ph}" '
                     f'stroke="#d1382e" stroke-width="2" stroke-dasharray="5,3"/>'
                     f'<text x="{x + 3:.1f}" y="{pad_t + 12}" fill="#d1382e">threshold {threshold:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _thumb(d: Decision) -> str:
    """A thumbnail <div> with the image and an SVG layer drawing the found regions' boxes."""
    r = d.record
    if not r.thumb:
        return '<div class="thumb missing">no preview</div>'
    uri = jpeg_data_uri(r.thumb)
    boxes = []
    for g in r.regions:
        if g.box is None:
            continue
        x0, y0, x1, y1 = g.box
        col = "#d1382e" if g.is_defect else REGION_COLOUR.get(g.kind, "#29a3ff")
        boxes.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" '
                     f'stroke="{col}" stroke-width="{max(2, r.width // 150)}"><title>{html.escape(g.kind)}'
                     f'</title></rect>')
    overlay = (f'<svg class="ov" viewBox="0 0 {r.width} {r.height}" preserveAspectRatio="none">'
               + "".join(boxes) + "</svg>") if boxes else ""
    return f'<div class="thumb"><img src="{uri}" alt="">{overlay}</div>'


CSS = """body{font-family:sans-serif;margin:16px;background:#fff;color:#222}
.grid{display:flex;flex-wrap:wrap;gap:10px}.card{width:180px;border:3px solid;border-radius:6px;padding:4px;
font-size:11px}.thumb{position:relative;width:170px;height:170px;display:flex;align-items:center;
justify-content:center;background:#eee}.thumb img{max-width:170px;max-height:170px}
.thumb .ov{position:absolute;pointer-events:none}.reasons{color:#a22;margin:2px 0 0 14px;padding:0}
.name{word-break:break-all}.status{font-weight:bold}"""


def write_html(decisions: Sequence[Decision], path: str | os.PathLike[str], threshold: float | None,
               title: str = "QFix filter", **meta: Any) -> None:
    """The contact sheet (best first). Region overlays are sized to each thumbnail with the
    thumbnail's own aspect ratio, so they line up for any image size."""
    s = summary(decisions, **meta)
    quals = [d.record.quality for d in decisions if d.record.quality is not None]
    cards = []
    for d in _sorted(decisions):
        r = d.record
        col = STATUS_COLOUR[d.status]
        q = "n/a" if r.quality is None else f"{r.quality:.3f}"
        reasons = "".join(f"<li>{html.escape(x)}</li>" for x in d.reasons)
        rating = rating_text(r.signals)  # the LLM judge's ratings (its findings are among the reasons)
        if rating:
            reasons = f"<li>LLM judge: {html.escape(rating)}</li>" + reasons
        burst = f" · burst {d.burst}{' (best)' if d.burst_best else ''}" if d.burst >= 0 else ""
        thumb = _thumb(d)
        if r.thumb and r.width and r.height:  # make the overlay match the displayed image box
            k = 170 / max(r.width, r.height)
            thumb = thumb.replace('class="ov"', f'class="ov" width="{r.width * k:.0f}" height="{r.height * k:.0f}"')
        cards.append(f'<div class="card {d.status}" style="border-color:{col}">{thumb}'
                     f'<div class="status" style="color:{col}">#{d.rank} {d.status} · {q}{burst}</div>'
                     f'<div class="name">{html.escape(r.rel or r.path)}</div>'
                     f'<ul class="reasons">{reasons}</ul></div>')
    head = " · ".join(f"{k}: {html.escape(str(v))}" for k, v in s.items())
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1><p>{head}</p>"
            f"<h2>Scores</h2>{histogram_svg(quals, threshold)}"
            f"<h2>Images, best first</h2><div class='grid'>{''.join(cards)}</div></body></html>")
    atomic_write_text(path, page)
