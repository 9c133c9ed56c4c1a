"""Charts as inline SVG drawn by matplotlib: progress against targets, the campaign funnel, each
identification's posterior against its competitors, the log-LR of each evidence factor.

matplotlib's SVG needs no JavaScript and no network (pages are opened offline and printed), text
stays text (`svg.fonttype: none`, so labels are searchable and printable) and is XML-escaped by
matplotlib; math parsing is off so that a `$` in a name is a dollar sign, not TeX. Numbers on axes
and labels use `lietsi.formats`.
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

from lietsi import formats

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


def posterior_bars(candidates: Sequence[tuple[str, float]]) -> Markup | None:
    """Horizontal bars: the identified martyr (first) and each competitor's posterior, 0 to 1."""
    if not candidates:
        return None
    with matplotlib.rc_context(_STYLE):
        fig = _figure(len(candidates))
        ax = fig.add_subplot()
        labels = [_label(n) for n, _ in candidates][::-1]
        values = [float(p or 0) for _, p in candidates][::-1]
        colours = [GREY] * (len(values) - 1) + [BLUE]
        bars = ax.barh(range(len(values)), values, color=colours)
        ax.set_yticks(range(len(values)), labels)
        ax.set_xlim(0, 1.12)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: formats.number(v, 1)))
        ax.set_xlabel("Xác suất hậu nghiệm (posterior)")
        for bar, value in zip(bars, values, strict=True):
            ax.text(value + 0.01, bar.get_y() + bar.get_height() / 2, formats.probability(value), va="center")
        return _svg(fig)


def log_lr_bars(factors: Sequence[tuple[str, float]]) -> Markup | None:
    """log10 of each factor's likelihood ratio: right for the identification, left against."""
    if not factors:
        return None
    with matplotlib.rc_context(_STYLE):
        fig = _figure(len(factors))
        ax = fig.add_subplot()
        values = [math.log10(max(lr, 1e-12)) for _, lr in factors][::-1]
        labels = [_label(n) for n, _ in factors][::-1]
        ax.barh(range(len(values)), values, color=[GREEN if v >= 0 else RED for v in values])
        ax.set_yticks(range(len(values)), labels)
        ax.axvline(0, color="#333", linewidth=0.8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: formats.number(v, 1)))
        ax.set_xlabel("log₁₀ tỷ số khả dĩ (log10 likelihood ratio): > 0 ủng hộ, < 0 phản bác")
        return _svg(fig)


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
