#!/usr/bin/env python3
"""The benchmark's report, drawn: SVG charts beside the report.md that bench/run.sh writes.

  charts.py REPORT_DIR      reads REPORT_DIR/report.md, writes REPORT_DIR/throughput.svg and
                            REPORT_DIR/latency.svg, and matrix.svg and soak.svg when it has them

throughput.svg: two panels of grouped bars, one group per tweet shape. Above, (a) the producer
against Kafka's ProducerPerformance, in tweets/s; below, (b) the consumer drain in rows/s against
the PostgreSQL ceiling (one pair per consumer count) and, when the run had it, against Kafka
Connect + the Debezium JDBC sink. Every bar carries its value, every pair its ratio
(tweetpipe / reference, > 1 means tweetpipe is faster), as the report prints it.
latency.svg: (c) end-to-end latency, p50 / p99 / max bars in milliseconds.
matrix.svg: the summary table, every size x shape x partition count (bench/matrix_chart.py).
soak.svg: the soak's p99 latency and RSS over time (bench/soak_chart.py, with soak.csv).

Python's standard library only; the SVG is written by hand (bench/svgdraw.py), plain enough to
read on a forge. A row it cannot read is skipped with a note on stderr; with nothing to draw,
throughput.svg and latency.svg say so (matrix.svg and soak.svg are not written); it exits 0.
"""

import os
import re
import sys

from matrix_chart import draw_matrix, parse_summary
from soak_chart import draw_soak, parse_soak, read_samples
from svgdraw import bar_panel, fmt, legend, svg, text, text_width

NUM = r"(-?\d[\d,]*(?:\.\d+)?)"
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
    """Reads report_dir/report.md, writes throughput.svg and latency.svg beside it, and
    matrix.svg and soak.svg when the report has their figures; the paths written."""
    path = os.path.join(report_dir, "report.md")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text_ = f.read()
    except OSError as e:
        note(f"cannot read {path}: {e}")
        text_ = ""
    report = parse_report(text_)
    title = report["title"]
    out = []
    for name, draw_one, what in (
        ("throughput.svg", lambda: draw_throughput(report), "throughput"),
        ("latency.svg", lambda: draw_latency(report), "latency"),
        ("matrix.svg", lambda: draw_matrix(title, parse_summary(text_, note)), None),
        ("soak.svg", lambda: draw_soak(title, parse_soak(text_, note),
                                       read_samples(os.path.join(report_dir, "soak.csv"), note)), None),
    ):
        try:
            doc = draw_one()
        except Exception as e:  # a chart must never fail the benchmark
            note(f"{name}: could not draw ({e!r})")
            doc = None
        if doc is None and what is None:
            continue  # drawn only for the runs that have it
        if doc is None:
            note(f"{name}: no {what} figures in {path}")
            doc = nothing(title, what)
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
        print("usage: charts.py REPORT_DIR  (reads REPORT_DIR/report.md, writes its charts beside it)",
              file=sys.stderr)
        return 2
    for path in draw(argv[1]):
        note(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
