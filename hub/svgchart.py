"""Charts drawn on the server as inline SVG: no script, no CDN, readable without a browser's help.

A chart is markup to put in a page as is; every label is escaped here. Pages show a table with the
same figures under each chart (screen readers and copy-paste read the table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

ROW = 26  #: the height of one bar's row, px
LABEL_W = 170  #: the width of the label column, px
VALUE_W = 110  #: room for the value after the longest bar, px
COLOURS = ("#2f6fde", "#e07a1f", "#2e9d5b", "#c2415d", "#7b5cc4", "#6b7280")


def _clip(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    value_text: Callable[[int], str] = str,
    width: int = 620,
    limit: int = 12,
) -> Markup:
    """A horizontal bar chart of ``(label, value)`` pairs (the first ``limit``), bars scaled to the
    largest value; ``value_text`` formats the number written after each bar (e.g. 元)."""
    shown = list(items)[:limit]
    height = max(1, len(shown)) * ROW + 8
    top = max((v for _, v in shown), default=0)
    span = width - LABEL_W - VALUE_W
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not shown:
        parts.append(
            f'<text x="{LABEL_W}" y="{ROW - 8}" class="chart-empty" font-size="13" fill="#6b7280">—</text>'
        )
    for i, (label, value) in enumerate(shown):
        y = 4 + i * ROW
        w = 0 if top <= 0 else max(1, round(span * max(value, 0) / top)) if value else 0
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{y + ROW / 2 + 4:.0f}" text-anchor="end" font-size="13" '
            f'fill="#1f2937">{escape(_clip(label))}</text>'
            f'<rect x="{LABEL_W}" y="{y + 4}" width="{w}" height="{ROW - 8}" rx="3" fill="{colour}">'
            f"<title>{escape(label)}: {escape(value_text(value))}</title></rect>"
            f'<text x="{LABEL_W + w + 6}" y="{y + ROW / 2 + 4:.0f}" font-size="12" '
            f'fill="#374151">{escape(value_text(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
