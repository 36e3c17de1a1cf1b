#!/usr/bin/env python3
"""The benchmark's report, drawn: SVG charts beside the report.md that bench/run.sh writes.

  charts.py REPORT_DIR      reads REPORT_DIR/report.md, writes REPORT_DIR/throughput.svg and
                            REPORT_DIR/latency.svg

throughput.svg: two panels of grouped bars, one group per tweet shape. Above, (a) the producer
against Kafka's ProducerPerformance, in tweets/s; below, (b) the consumer drain in rows/s against
the PostgreSQL ceiling (one pair per consumer count) and, when the run had it, against Kafka
Connect + the Debezium JDBC sink. Every bar carries its value, every pair its ratio
(tweetpipe / reference, > 1 means tweetpipe is faster), as the report prints it.
latency.svg: (c) end-to-end latency, p50 / p99 / max bars in milliseconds.

Python's standard library only; the SVG is written by hand, plain enough to read on a forge.
A row it cannot read is skipped with a note on stderr; with nothing to draw it still writes an
SVG that says so, and exits 0.
"""

import math
import os
import re
import sys
from xml.sax.saxutils import escape

NUM = r"(-?\d[\d,]*(?:\.\d+)?)"
FONT = 'font-family="sans-serif"'
COLOURS = {
    "tweetpipe": "#2f6db5",
    "ProducerPerformance": "#9aa5b1",
    "PostgreSQL ceiling": "#e0a526",
    "Kafka Connect": "#b5533c",
}
LEGEND = {
    "tweetpipe": "tweetpipe",
    "ProducerPerformance": "Kafka ProducerPerformance (same lines, same settings)",
    "PostgreSQL ceiling": "PostgreSQL ceiling (psql COPY + INSERT … ON CONFLICT, one transaction)",
    "Kafka Connect": "Kafka Connect + Debezium JDBC sink",
}
LATENCY_COLOURS = {"p50": "#7fa7d6", "p99": "#2f6db5", "max": "#1b3f69"}


def note(msg):
    print(f"charts.py: {msg}", file=sys.stderr)


def number(text):
    """The first number in text, or None."""
    m = re.search(NUM, text or "")
    return float(m.group(1).replace(",", "")) if m else None


def number_after(word, text):
    m = re.search(re.escape(word) + r"\s+" + NUM, text or "")
    return float(m.group(1).replace(",", "")) if m else None


def cells(line):
    parts = [c.strip() for c in line.strip().split("|")]
    return parts[1:-1] if len(parts) >= 3 else parts


# --- parsing ----------------------------------------------------------------------------------


def parse_report(text):
    """{'title', 'subtitle', 'shapes': [{'name', 'about', 'pairs': [...]}], 'latency': [...]}.

    A pair: {'panel': 'producer' | 'drain', 'label', 'ours', 'ref', 'ref_kind', 'ratio'}.
    A latency entry: {'label', 'values': [('p50', ms), ...]}."""
    report = {"title": "tweetpipe benchmark", "subtitle": "", "shapes": [], "latency": []}
    shape = None
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("# "):
            report["title"] = s[2:].strip()
            continue
        if re.match(r"^\d+ cores?;", s):
            report["subtitle"] = s.split(" CPU is")[0].strip()
            continue
        if s.startswith("## "):
            m = re.match(r"^## ([^:]+):\s*(.*)$", s)
            if m:
                shape = {"name": m.group(1).strip(), "about": m.group(2).strip(), "pairs": []}
                report["shapes"].append(shape)
            else:
                shape = None
            continue
        if not s.startswith("|"):
            continue
        row = cells(s)
        what = row[0] if row else ""
        try:
            if what.startswith("(c) end-to-end latency"):
                entry = parse_latency(row, lineno)
                if entry:
                    report["latency"].append(entry)
                continue
            pair = parse_pair(row)
        except Exception as e:  # a malformed row must never stop the drawing
            note(f"line {lineno}: skipped ({e}): {s}")
            continue
        if pair is None:
            continue
        if pair == "bad":
            note(f"line {lineno}: could not read the figures, skipped: {s}")
        elif shape is None:
            note(f"line {lineno}: a measurement outside a shape's section, skipped: {s}")
        else:
            shape["pairs"].append(pair)
    return report


def parse_pair(row):
    """A pair of bars from a report row; None for rows not drawn, "bad" for unreadable ones."""
    what = row[0]
    ours_cell, ref_cell, ratio_cell = (row + ["", "", ""])[1:4]
    if what.startswith("(a) producer, file -> Kafka"):
        panel, label, ref_kind = "producer", "producer\nvs ProducerPerf.", "ProducerPerformance"
        ours, ref = number(ours_cell), number_after("ProducerPerformance", ref_cell)
    elif re.match(r"^\(b\) drain, \d+ consumer\(s\): tweets/s \(rows/s\)", what):
        n = int(re.match(r"^\(b\) drain, (\d+)", what).group(1))
        panel, ref_kind = "drain", "PostgreSQL ceiling"
        label = f"{n} consumer{'s' if n != 1 else ''}\nvs ceiling"
        m = re.search(r"\(\s*" + NUM + r"\s*\)", ours_cell)
        ours = float(m.group(1).replace(",", "")) if m else None
        ref = number_after("PostgreSQL ceiling", ref_cell)
    elif re.match(r"^\(b\) drain, \d+ consumer\(s\) vs Kafka Connect", what):
        n = int(re.match(r"^\(b\) drain, (\d+)", what).group(1))
        panel, ref_kind = "drain", "Kafka Connect"
        label = f"{n} consumer{'s' if n != 1 else ''}\nvs Connect"
        ours, ref = number(ours_cell), number_after("Connect", ref_cell)
    else:
        return None
    if ours is None or ref is None:
        return "bad"
    ratio = number(ratio_cell)
    if ratio is None and ref > 0:
        ratio = ours / ref
    return {"panel": panel, "label": label, "ours": ours, "ref": ref, "ref_kind": ref_kind, "ratio": ratio}


def parse_latency(row, lineno):
    what, figures = row[0], (row + [""])[1]
    m = re.search(r"at\s+" + NUM + r"\s+tweets/s", what)
    label = f"at {fmt(float(m.group(1).replace(',', '')))} tweets/s" if m else "end-to-end"
    values = []
    for key in ("p50", "p99", "max"):
        v = number_after(key, figures)
        if v is None:
            note(f"line {lineno}: no {key} latency figure, skipped")
        else:
            values.append((key, v))
    return {"label": label, "values": values} if values else None


# --- drawing ----------------------------------------------------------------------------------


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


def bar_panel(groups, x0, y0, plot_h, unit, heading, bar_w=38):
    """One panel of grouped bars.

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
                # below 1, the reference is faster: in red
                out.append(text(px + pw / 2, highest - 15, f"{ratio:.2f}×", size=12, weight="bold",
                                fill="#b3261e" if ratio < 1 else "#222"))
            for i, line in enumerate(plabel.split("\n")):
                out.append(text(px + pw / 2, base + 15 + 12 * i, line, size=10, fill="#444"))
        out.append(text((gstart + gend) / 2, base + 45, glabel, size=12, weight="bold"))
    width = plot_x + plot_w - x0
    return out, width, plot_y + plot_h + 52 - y0


def draw_throughput(report):
    shapes = [s for s in report["shapes"] if s["pairs"]]
    if not shapes:
        return None
    used = {"tweetpipe"}
    panels = []
    for panel, heading, unit in (
        ("producer", "(a) producer: file → Kafka", "tweets/s"),
        ("drain", "(b) drain: Kafka → PostgreSQL", "rows/s"),
    ):
        groups = []
        for s in shapes:
            pairs = []
            for p in s["pairs"]:
                if p["panel"] != panel:
                    continue
                used.add(p["ref_kind"])
                bars = [(p["ours"], COLOURS["tweetpipe"]), (p["ref"], COLOURS[p["ref_kind"]])]
                pairs.append((p["label"], bars, p["ratio"]))
            if pairs:
                about = re.match(r"^(\d+) bytes per tweet", s["about"])
                groups.append((f"{s['name']} ({about.group(1)} B/tweet)" if about else s["name"], pairs))
        if groups:
            panels.append((groups, heading, unit))

    body, y, width = [], 14, 0
    drawn = []
    y_panels = y + 58
    for groups, heading, unit in panels:
        els, w, h = bar_panel(groups, 16, y_panels, 230, unit, heading)
        drawn.append(els)
        width = max(width, w + 32)
        y_panels += h + 18
    width = max(width, 640)
    body.append(text(16, y + 16, report["title"], size=16, anchor="start", weight="bold"))
    subtitle = "throughput, tweetpipe against its references; ratio = tweetpipe / reference (> 1: tweetpipe is faster)"
    body.append(text(16, y + 34, subtitle, size=11, anchor="start", fill="#444"))
    width = max(width, text_width(subtitle, 11) + 32)
    if report["subtitle"]:
        body.append(text(16, y + 50, report["subtitle"], size=11, anchor="start", fill="#444"))
        width = max(width, text_width(report["subtitle"], 11) + 32)
    entries = [(COLOURS[k], LEGEND[k]) for k in COLOURS if k in used]
    lg, lh = legend(entries, 16, y + 72, width - 32)
    body += lg
    # below the subtitle's second line and a legend that may have wrapped
    shift = 18 + lh
    for els in drawn:
        body.append(f'<g transform="translate(0 {shift})">')
        body += els
        body.append("</g>")
    return svg(width, y_panels + shift, f"{report['title']}: throughput", body)


def draw_latency(report):
    entries = [e for e in report["latency"] if e["values"]]
    if not entries:
        return None
    groups = [(e["label"], [(k, [(v, LATENCY_COLOURS[k])], None) for k, v in e["values"]]) for e in entries]
    heading = "(c) end-to-end latency: tweet created → row committed"
    els, w, h = bar_panel(groups, 16, 44, 200, "ms", heading)
    width = max(w + 32, text_width(heading, 13) + 32, text_width(report["title"], 16) + 32)
    body = [text(16, 30, report["title"], size=16, anchor="start", weight="bold")] + els
    return svg(width, 44 + h + 10, f"{report['title']}: latency", body)


def nothing(title, what):
    body = [text(16, 30, title, size=14, anchor="start", weight="bold"),
            text(16, 56, f"no figures: the report has no {what} to draw", size=12, anchor="start", fill="#555")]
    return svg(420, 76, f"{title}: no figures", body)


def draw(report_dir):
    """Reads report_dir/report.md, writes throughput.svg and latency.svg beside it; their paths."""
    path = os.path.join(report_dir, "report.md")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text_ = f.read()
    except OSError as e:
        note(f"cannot read {path}: {e}")
        text_ = ""
    report = parse_report(text_)
    out = []
    for name, draw_one, what in (
        ("throughput.svg", draw_throughput, "throughput"),
        ("latency.svg", draw_latency, "latency"),
    ):
        try:
            doc = draw_one(report)
        except Exception as e:  # a chart must never fail the benchmark
            note(f"{name}: could not draw ({e!r})")
            doc = None
        if doc is None:
            note(f"{name}: no {what} figures in {path}")
            doc = nothing(report["title"], what)
        target = os.path.join(report_dir, name)
        try:
            with open(target, "w", encoding="utf-8") as f:
                f.write(doc)
            out.append(target)
        except OSError as e:
            note(f"cannot write {target}: {e}")
    return out


def main(argv):
    if len(argv) != 2:
        print("usage: charts.py REPORT_DIR  (reads REPORT_DIR/report.md, writes throughput.svg and latency.svg beside it)",
              file=sys.stderr)
        return 2
    for path in draw(argv[1]):
        note(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
