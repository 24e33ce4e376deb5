"""The self-contained HTML report of ``qfix diagnose``: one card per image with a thumbnail and
region overlays, the quality score, its reasons and the suggested weighted negative.

Everything is inline (CSS, images as JPEG data URIs), so the file can be mailed or attached.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from lib_qfix import __version__
from lib_qfix.fileio import atomic_write_text
from lib_qfix.guides.preview import caption, guide_tiles
from lib_qfix.judge.verdicts import rating_text
from lib_qfix.report.overlay import draw_regions
from lib_qfix.types import ImageReport


def thumbnail_data_uri(image: np.ndarray, max_side: int = 256, quality: int = 82) -> str:
    """A JPEG data URI of ``image`` scaled so its long side is at most ``max_side`` pixels."""
    img = Image.fromarray(image).convert("RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return jpeg_data_uri(buf.getvalue())


def jpeg_data_uri(data: bytes) -> str:
    """A ``data:`` URI for JPEG bytes (reports embed their images, so they work as single files)."""
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Card:
    """One image's entry: its report and its overlay thumbnail (data URI, or "" if unreadable);
    ``guides``: (caption, data URI) of the ControlNet guide QFix would use over each hand/face."""

    report: ImageReport
    thumb: str
    guides: tuple[tuple[str, str], ...] = ()


def make_card(report: ImageReport, image: np.ndarray | None, max_side: int = 320) -> Card:
    if image is None:
        return Card(report, "")
    guides = tuple((caption(r), thumbnail_data_uri(tile, tile.shape[0], 90))
                   for r, tile in guide_tiles(image, report.regions))
    return Card(report, thumbnail_data_uri(draw_regions(image, report.regions), max_side), guides)


def _e(x: object) -> str:
    return html.escape(str(x))


def quality_colour(q: float | None) -> str:
    """Red (0) through amber to green (1)."""
    if q is None:
        return "#888"
    q = min(1.0, max(0.0, q))
    r = int(220 * min(1.0, 2 * (1 - q)))
    g = int(180 * min(1.0, 2 * q))
    return f"rgb({r},{g},60)"


def _card_html(card: Card) -> str:
    r = card.report
    name = Path(r.path).name if r.path else "(image)"
    if r.error:
        return (f'<div class="card err"><div class="name" title="{_e(r.path)}">{_e(name)}</div>'
                f'<div class="error">error: {_e(r.error)}</div></div>')
    q = r.quality if r.quality is not None else 0.0
    regions = "".join(
        f'<li class="{"defect" if g.is_defect else "ok"}"><b>{_e(g.kind)}</b> {g.confidence:.2f}'
        f'{" — " + _e("; ".join(g.reasons)) if g.reasons else ""}</li>' for g in r.regions
    ) or '<li class="ok">nothing found</li>'
    signals = "".join(f"<tr><td>{_e(k)}</td><td>{v:.3f}</td></tr>" for k, v in r.signals.items())
    warn = "".join(f'<div class="warn">{_e(w)}</div>' for w in r.warnings)
    neg = (f'<div class="neg"><span>negative</span><code>{_e(r.negative)}</code>'
           f'<button onclick="navigator.clipboard.writeText(this.previousSibling.textContent)">copy</button></div>'
           if r.negative else "")
    return f"""<div class="card">
<img src="{card.thumb}" alt="{_e(name)}">
<div class="name" title="{_e(r.path)}">{_e(name)} <small>{r.width}×{r.height}</small></div>
<div class="bar"><div style="width:{q * 100:.0f}%;background:{quality_colour(q)}"></div></div>
<div class="q">quality <b>{q:.2f}</b> <small>{_e(r.scorer)}</small></div>{_judge_html(r)}
<ul class="regions">{regions}</ul>{_guides_html(card)}{neg}{warn}
<details><summary>signals</summary><table>{signals}</table></details>
</div>"""


def _guides_html(card: Card) -> str:
    """The guide tiles: what QFix would give ControlNet for each hand and face (a defective hand:
    the fitted plausible hand in colour over the detected one in grey)."""
    if not card.guides:
        return ""
    tiles = "".join(f'<figure><img src="{uri}" alt="{_e(cap)}" title="{_e(cap)}"><figcaption>{_e(cap)}'
                    f'</figcaption></figure>' for cap, uri in card.guides)
    return f'<details class="guides" open><summary>ControlNet guides</summary>{tiles}</details>'


def _judge_html(report: ImageReport) -> str:
    """The LLM judge's ratings (its findings are in the region list, reasons prefixed "judge:")."""
    rating = rating_text(report.signals)
    return f'<div class="judge">LLM judge: <b>{_e(rating)}</b></div>' if rating else ""


def _summary_svg(cards: Sequence[Card]) -> str:
    """A horizontal bar chart of how many images have each defect kind."""
    counts = Counter(g.kind for c in cards for g in c.report.defects)
    if not counts:
        return "<p>No defects found.</p>"
    items = counts.most_common()
    top = items[0][1]
    rows = []
    for i, (kind, n) in enumerate(items):
        w = 300 * n / top
        rows.append(f'<text x="0" y="{i * 22 + 15}">{_e(kind)}</text>'
                    f'<rect x="110" y="{i * 22 + 3}" width="{w:.0f}" height="16" fill="#eb4034"/>'
                    f'<text x="{115 + w:.0f}" y="{i * 22 + 15}">{n}</text>')
    return f'<svg width="460" height="{len(items) * 22 + 4}" class="chart">{"".join(rows)}</svg>'


CSS = """
body{font:14px system-ui,sans-serif;margin:20px;background:#f4f5f7;color:#222}
h1{font-size:20px;margin:0 0 6px} .meta{color:#666;margin-bottom:14px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:14px}
.card{background:#fff;border-radius:8px;padding:10px;box-shadow:0 1px 3px #0002}
.card img{width:100%;border-radius:4px;display:block}
.card.err{border-left:4px solid #eb4034}.error,.warn{color:#b03a2e;margin-top:4px}
.name{font-weight:600;margin-top:6px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar{height:6px;background:#eee;border-radius:3px;margin:6px 0}.bar div{height:6px;border-radius:3px}
.regions{padding-left:18px;margin:6px 0}.regions .defect{color:#b03a2e}.regions .ok{color:#1e8449}
.neg{background:#f7f7f7;border-radius:4px;padding:4px 6px;margin:4px 0;font-size:12px}
.neg span{color:#888;margin-right:4px}.neg button{margin-left:6px;font-size:11px}
table{font-size:12px;border-collapse:collapse}td{padding:1px 8px 1px 0}
.chart text{font-size:12px}
.guides figure{display:inline-block;margin:2px 4px 2px 0;width:128px;vertical-align:top}
.guides img{width:128px;height:128px;border-radius:3px}
.guides figcaption{font-size:10px;color:#666;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
"""


def render_report(cards: Sequence[Card], title: str = "QFix diagnosis") -> str:
    ok = [c for c in cards if not c.report.error]
    qs = [c.report.quality for c in ok if c.report.quality is not None]
    mean = f"{sum(qs) / len(qs):.2f}" if qs else "–"
    ordered = sorted(cards, key=lambda c: (c.report.error is None, c.report.quality or 0.0))
    body = "".join(_card_html(c) for c in ordered)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{CSS}</style></head><body>
<h1>{_e(title)}</h1>
<div class="meta">{len(cards)} images · {len(cards) - len(ok)} unreadable · mean quality {mean} ·
worst first · QFix {__version__}</div>
<h2 style="font-size:16px">Defects found</h2>{_summary_svg(ok)}
<h2 style="font-size:16px">Images</h2><div class="grid">{body}</div></body></html>"""


def write_report(cards: Sequence[Card], path: str | Path, title: str = "QFix diagnosis") -> Path:
    """Write the report atomically (temp file + rename) and return its path."""
    return atomic_write_text(path, render_report(cards, title))
