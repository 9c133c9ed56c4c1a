"""Charts as inline SVG: progress against targets, the campaign funnel and costs drawn by matplotlib
(a few per run); each identification's posterior against its competitors and the log-LR of each
evidence factor as plain bars from a jinja2 SVG template (two per evidence page, hundreds per run).

matplotlib's SVG needs no JavaScript and no network (pages are opened offline and printed), text
stays text (`svg.fonttype: none`, so labels are searchable and printable) and is XML-escaped by
matplotlib; math parsing is off so that a `$` in a name is a dollar sign, not TeX. Numbers on axes
and labels use `lietsi.ops.formats`.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence

import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from lietsi.ops import formats
from lietsi.ops.pages import environment

_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "lietsi",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
BLUE, TEAL, AMBER, RED, GREY, GREEN = "#1f6f8b", "#3c9d9b", "#e2a03f", "#c0392b", "#8d99ae", "#27ae60"


def _svg(fig: Figure) -> Markup:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    # The XML prolog and DOCTYPE are for a standalone file; inline SVG starts at <svg. The RDF
    # metadata block only names matplotlib.
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg") :], flags=re.S)
    return Markup(text)


def _figure(rows: int, width: float = 7.5) -> Figure:
    return Figure(figsize=(width, max(1.4, 0.32 * rows + 0.8)))


def _label(text: object, width: int = 40) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _bars(
    title: str, axis_label: str, rows: Sequence[tuple[str, float, str, str]], low: float, high: float
) -> Markup:
    """Horizontal bars as a small SVG template (`templates/bars.svg`), escaped by jinja2.

    The evidence pages carry two of these each, a few hundred per run: drawn by matplotlib they took
    about 0.13 s apiece, most of the identification stage's time. `rows`: label, value, colour and
    the value's text; the axis runs from `low` to `high`.
    """
    label_width, plot_width, row = 230, 360, 24
    scale = plot_width / ((high - low) or 1.0)
    zero = label_width + (0.0 - low) * scale
    bars = []
    for i, (label, value, colour, text) in enumerate(rows):
        end = label_width + (min(max(value, low), high) - low) * scale
        x, w = min(zero, end), abs(end - zero)
        right = end >= zero
        bars.append(
            {
                "y": i * row,
                "x": round(x, 1),
                "w": round(w, 1),
                "colour": colour,
                "label": _label(label),
                "text": text,
                "text_x": round(end + 4 if right else end - 4, 1),
                "anchor": "start" if right else "end",
            }
        )
    svg = (
        environment()
        .get_template("bars.svg")
        .render(
            title=title,
            axis_label=axis_label,
            bars=bars,
            label_width=label_width,
            zero=round(zero, 1),
            axis_y=len(rows) * row + 4,
            width=label_width + plot_width + 80,
            height=len(rows) * row + 26,
        )
    )
    return Markup(svg)


def posterior_bars(candidates: Sequence[tuple[str, float]]) -> Markup | None:
    """Horizontal bars: the identified martyr (first) and each competitor's posterior, 0 to 1."""
    if not candidates:
        return None
    rows = [
        (name, float(p or 0), BLUE if i == 0 else GREY, formats.probability(float(p or 0)))
        for i, (name, p) in enumerate(candidates)
    ]
    return _bars("Xác suất hậu nghiệm (posterior)", "Xác suất hậu nghiệm (posterior), 0 – 1", rows, 0.0, 1.0)


def log_lr_bars(factors: Sequence[tuple[str, float]]) -> Markup | None:
    """log10 of each factor's likelihood ratio: right for the identification, left against."""
    if not factors:
        return None
    values = [math.log10(max(lr, 1e-12)) for _, lr in factors]
    rows = [
        (name, v, GREEN if v >= 0 else RED, formats.number(v, 1))
        for (name, _), v in zip(factors, values, strict=True)
    ]
    reach = max(1.0, *(abs(v) for v in values))
    return _bars(
        "log₁₀ tỷ số khả dĩ (log10 likelihood ratio)",
        "log₁₀ LR: > 0 ủng hộ, < 0 phản bác (for / against)",
        rows,
        min(0.0, -reach if min(values) < 0 else 0.0),
        reach if max(values) > 0 else 0.0,
    )


def funnel(stages: Sequence[tuple[str, int]]) -> Markup | None:
    """The campaign funnel: one bar per stage, with its count and its share of the first stage."""
    if not stages:
        return None
    with matplotlib.rc_context(_STYLE):
        fig = _figure(len(stages))
        ax = fig.add_subplot()
        values = [int(v or 0) for _, v in stages][::-1]
        ax.barh(range(len(values)), values, color=TEAL)
        ax.set_yticks(range(len(values)), [_label(n, 50) for n, _ in stages][::-1])
        top = max(values) or 1
        ax.set_xlim(0, top * 1.25)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: formats.number(v)))
        first = int(stages[0][1] or 0)
        for i, value in enumerate(values):
            share = f" ({formats.percent(value / first, 0)})" if first else ""
            ax.text(value + top * 0.01, i, formats.number(value) + share, va="center")
        return _svg(fig)


def progress_against_targets(
    rows: Sequence[tuple[str, dict[str, float | None]]], targets: dict[str, tuple[str, float]]
) -> Markup | None:
    """Per district, each rate (0–1) as a bar, with the target as a dashed line.

    `rows`: (district label, {rate key: value}); `targets`: rate key → (label, target share).
    """
    if not rows or not targets:
        return None
    keys = list(targets)
    colours = [BLUE, AMBER, TEAL, RED]
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7.5, max(1.6, 0.22 * len(rows) * len(keys) + 1.2)))
        ax = fig.add_subplot()
        height = 0.8 / len(keys)
        labels = [_label(d) for d, _ in rows][::-1]
        for k, key in enumerate(keys):
            values = [(r.get(key) or 0.0) for _, r in rows][::-1]
            ys = [i + (k - (len(keys) - 1) / 2) * height for i in range(len(rows))]
            ax.barh(ys, values, height=height, color=colours[k % len(colours)], label=targets[key][0])
            ax.vlines(
                targets[key][1],
                -0.5,
                len(rows) - 0.5,
                colors=colours[k % len(colours)],
                linestyles="dashed",
                linewidth=1,
            )
        ax.set_yticks(range(len(rows)), labels)
        peak = max((r.get(k) or 0.0 for _, r in rows for k in keys), default=0.0)
        ax.set_xlim(0, max(1.05, peak * 1.05))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: formats.percent(v, 0)))
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
        ax.set_xlabel("Tỷ lệ đạt được; vạch đứt: chỉ tiêu (rate achieved; dashed: target)")
        return _svg(fig)


def money_bars(items: Sequence[tuple[str, float]]) -> Markup | None:
    """Cost items in million đồng, labelled in Vietnamese money format."""
    if not items:
        return None
    with matplotlib.rc_context(_STYLE):
        fig = _figure(len(items))
        ax = fig.add_subplot()
        values = [float(v or 0) for _, v in items][::-1]
        ax.barh(range(len(values)), [v / 1e6 for v in values], color=AMBER)
        ax.set_yticks(range(len(values)), [_label(n) for n, _ in items][::-1])
        top = max(values) / 1e6 or 1
        ax.set_xlim(0, top * 1.35)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: formats.number(v)))
        ax.set_xlabel("triệu đồng (million đ)")
        for i, value in enumerate(values):
            ax.text(value / 1e6 + top * 0.01, i, formats.million_vnd(value), va="center")
        return _svg(fig)
