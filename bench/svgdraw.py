"""SVG drawn by hand for the benchmark's charts (bench/charts.py and its sibling modules):
text, axes, legends, panels of grouped bars and of lines. Python's standard library only."""

import math
from xml.sax.saxutils import escape

FONT = 'font-family="sans-serif"'


def fmt(v):
    """354610 -> '354 610', 2.5 -> '2.5'."""
    if v is None:
        return "n/a"
    if abs(v - round(v)) < 1e-9:
        return f"{int(round(v)):,}".replace(",", " ")
    return f"{v:,.1f}".replace(",", " ")


def nice_ticks(top):
    """0 .. a round maximum >= top, in 4-6 round steps."""
    if not top or top <= 0:
        top = 1
    raw = top / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(f * mag for f in (1, 2, 2.5, 5, 10) if f * mag >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def text(x, y, s, size=11, anchor="middle", weight=None, fill="#222", extra=""):
    w = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" {FONT} font-size="{size}" text-anchor="{anchor}"'
            f' fill="{fill}"{w}{extra}>{escape(str(s))}</text>')


def text_width(s, size):
    return len(str(s)) * size * 0.6


def svg(width, height, title, body):
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        *body,
        "</svg>",
        "",
    ])


def legend(entries, x, y, max_width):
    """Coloured squares and labels, wrapped to max_width. Returns (elements, height)."""
    out, cx, cy = [], x, y
    for colour, label in entries:
        w = 16 + text_width(label, 11) + 18
        if cx > x and cx + w > x + max_width:
            cx, cy = x, cy + 18
        out.append(f'<rect x="{cx:.1f}" y="{cy - 10:.1f}" width="11" height="11" fill="{colour}"/>')
        out.append(text(cx + 16, cy, label, anchor="start"))
        cx += w
    return out, cy - y + 18


def bar_panel(groups, x0, y0, plot_h, unit, heading, bar_w=38, lower_better=False, target=1.0):
    """One panel of grouped bars; a ratio that misses its target in red (below it, or above it
    when lower_better).

    groups: [(group label, [(pair label, [(value, colour)], ratio or None)])]; a pair label may
    hold a newline (two lines under the bars). Returns (elements, width, height)."""
    out = []
    values = [v for _, pairs in groups for _, bars, _ in pairs for v, _ in bars]
    ticks = nice_ticks(max(values) if values else 0)
    top = ticks[-1]
    axis_w = 78
    plot_x, plot_y = x0 + axis_w, y0 + 58  # room above the plot for the heading and the ratios
    gap_in_pair, gap_pairs, gap_groups = 3, 16, 40
    # x layout
    layout, cx = [], plot_x + 20
    for gi, (glabel, pairs) in enumerate(groups):
        gstart, placed = cx, []
        for plabel, bars, ratio in pairs:
            pw = len(bars) * bar_w + (len(bars) - 1) * gap_in_pair
            pw_label = max(pw, max(text_width(l, 10) for l in plabel.split("\n")) + 6)
            px = cx + (pw_label - pw) / 2
            placed.append((px, pw, plabel, bars, ratio))
            cx += pw_label + gap_pairs
        cx -= gap_pairs
        short = text_width(glabel, 12) + 8 - (cx - gstart)
        if short > 0:  # the shape's label is wider than its bars: centre them under it
            placed = [(px + short / 2, pw, pl, b, r) for px, pw, pl, b, r in placed]
            cx += short
        layout.append((glabel, gstart, cx, placed))
        cx += gap_groups
    plot_w = max(cx - gap_groups + 20 - plot_x, 200)
    y_of = lambda v: plot_y + plot_h - (v / top) * plot_h if top else plot_y + plot_h

    out.append(text(x0, y0 + 16, heading, size=13, anchor="start", weight="bold"))
    # grid and y axis
    for t in ticks:
        y = y_of(t)
        out.append(f'<line x1="{plot_x:.1f}" y1="{y:.1f}" x2="{plot_x + plot_w:.1f}" y2="{y:.1f}"'
                   f' stroke="{"#888" if t == 0 else "#e3e3e3"}" stroke-width="1"/>')
        out.append(text(plot_x - 6, y + 4, fmt(t), size=10, anchor="end", fill="#555"))
    mid = plot_y + plot_h / 2
    out.append(text(x0 + 12, mid, unit, size=11, extra=f' transform="rotate(-90 {x0 + 12:.1f} {mid:.1f})"'))
    out.append(f'<line x1="{plot_x:.1f}" y1="{plot_y:.1f}" x2="{plot_x:.1f}" y2="{plot_y + plot_h:.1f}" stroke="#888"/>')
    # bars, values, ratios, labels
    base = plot_y + plot_h
    for glabel, gstart, gend, placed in layout:
        for px, pw, plabel, bars, ratio in placed:
            highest = base
            for i, (v, colour) in enumerate(bars):
                bx = px + i * (bar_w + gap_in_pair)
                y = y_of(v)
                out.append(f'<rect x="{bx:.1f}" y="{y:.1f}" width="{bar_w}" height="{base - y:.1f}" fill="{colour}">'
                           f"<title>{escape(fmt(v))} {escape(unit)}</title></rect>")
                out.append(text(bx + bar_w / 2, y - 4, fmt(v), size=9))
                highest = min(highest, y - 4)
            if ratio is not None:
                worse = ratio > target if lower_better else ratio < target
                out.append(text(px + pw / 2, highest - 15, f"{ratio:.2f}×", size=12, weight="bold",
                                fill="#b3261e" if worse else "#222"))
            for i, line in enumerate(plabel.split("\n")):
                out.append(text(px + pw / 2, base + 15 + 12 * i, line, size=10, fill="#444"))
        out.append(text((gstart + gend) / 2, base + 45, glabel, size=12, weight="bold"))
    width = plot_x + plot_w - x0
    return out, width, plot_y + plot_h + 52 - y0


def line_panel(series, x0, y0, plot_w, plot_h, unit, heading, x_unit, x_max=0):
    """One panel of lines from 0: series [(label, colour, [(x, y)])], a marker on every point;
    the x axis reaches x_max at least (panels drawn one above the other share it).
    Returns (elements, width, height)."""
    out = []
    xs = [x_max] + [x for _, _, pts in series for x, _ in pts]
    ys = [y for _, _, pts in series for _, y in pts]
    xt, yt = nice_ticks(max(xs) if xs else 0), nice_ticks(max(ys) if ys else 0)
    axis_w = 78
    plot_x, plot_y = x0 + axis_w, y0 + 30
    x_of = lambda v: plot_x + (v / xt[-1]) * plot_w
    y_of = lambda v: plot_y + plot_h - (v / yt[-1]) * plot_h
    out.append(text(x0, y0 + 16, heading, size=13, anchor="start", weight="bold"))
    for t in yt:
        y = y_of(t)
        out.append(f'<line x1="{plot_x:.1f}" y1="{y:.1f}" x2="{plot_x + plot_w:.1f}" y2="{y:.1f}"'
                   f' stroke="{"#888" if t == 0 else "#e3e3e3"}" stroke-width="1"/>')
        out.append(text(plot_x - 6, y + 4, fmt(t) if t >= 10 else f"{t:g}", size=10, anchor="end", fill="#555"))
    base = plot_y + plot_h
    for t in xt:
        out.append(f'<line x1="{x_of(t):.1f}" y1="{base:.1f}" x2="{x_of(t):.1f}" y2="{base + 4:.1f}" stroke="#888"/>')
        out.append(text(x_of(t), base + 16, f"{t:g}", size=10, fill="#555"))
    out.append(text(plot_x + plot_w / 2, base + 32, x_unit, size=11))
    mid = plot_y + plot_h / 2
    out.append(text(x0 + 12, mid, unit, size=11, extra=f' transform="rotate(-90 {x0 + 12:.1f} {mid:.1f})"'))
    out.append(f'<line x1="{plot_x:.1f}" y1="{plot_y:.1f}" x2="{plot_x:.1f}" y2="{base:.1f}" stroke="#888"/>')
    for label, colour, pts in series:
        pts = sorted(pts)
        if len(pts) > 1:
            path = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in pts:
            out.append(f'<circle cx="{x_of(x):.1f}" cy="{y_of(y):.1f}" r="2.5" fill="{colour}">'
                       f"<title>{escape(label)}: {escape(fmt(y))} {escape(unit)} at {escape(fmt(x))} {escape(x_unit)}</title></circle>")
        if pts:
            x, y = pts[-1]
            out.append(text(x_of(x) + 6, y_of(y) + 4, fmt(round(y) if y >= 10 else y), size=9, anchor="start", fill=colour))
    return out, axis_w + plot_w + 50, base + 40 - y0
