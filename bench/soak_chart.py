"""The soak (report.md, "## soak", and soak.csv beside it), drawn as soak.svg by
bench/charts.py: above, the p99 end-to-end latency of each window, at the window's end; below,
the RSS of the producer, each consumer and the PostgreSQL server over time, from soak.csv's
10-second samples (from the report's per-window means when soak.csv is missing)."""

import csv
import re

from svgdraw import legend, line_panel, svg, text, text_width

PROCESSES = (  # soak.csv's columns, the report's order, colours
    ("producer", "producer_rss_kib", "#9aa5b1"),
    ("consumer 1", "consumer1_rss_kib", "#2f6db5"),
    ("consumer 2", "consumer2_rss_kib", "#7fa7d6"),
    ("PostgreSQL", "pg_mem_kib", "#e0a526"),
)
WINDOW = re.compile(r"^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$")


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def parse_soak(text, note):
    """The soak's windows: [{'to': minutes, 'p99': ms or None, 'rss': [MiB or None, ...]}]."""
    out, heads, inside = [], None, False
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("## "):
            inside, heads = s == "## soak", None
            continue
        if not inside or not s.startswith("|") or s.startswith("|---"):
            continue
        cells = [c.strip() for c in s.strip("|").split("|")]
        m = WINDOW.match(cells[0])
        if not m:
            heads = cells
            continue
        if not heads or len(cells) != len(heads):
            note(f"line {lineno}: a soak row the table's heading does not describe, skipped: {s}")
            continue
        row = dict(zip(heads, cells))
        p99 = next((num(v) for h, v in row.items() if h.startswith("p99")), None)
        rss = next((v for h, v in row.items() if h.startswith("RSS")), "")
        out.append({"to": float(m.group(2)), "p99": p99, "rss": [num(v.strip()) for v in rss.split("/")]})
    return out


def read_samples(path, note):
    """soak.csv as [(minutes, {process: MiB})]; [] when it cannot be read."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return []
    out = []
    for r in rows:
        t = num(r.get("t_s"))
        if t is None:
            note(f"{path}: a sample without its time, skipped")
            continue
        r["pg_mem_kib"] = r.get("pg_pss_kib") or r.get("pg_rss_kib")
        out.append((t / 60, {name: num(r.get(col)) for name, col, _ in PROCESSES}))
    return out


def draw_soak(title, windows, samples):
    if not windows and not samples:
        return None
    series = []
    lat = [(w["to"], w["p99"]) for w in windows if w["p99"] is not None]
    for i, (name, _, colour) in enumerate(PROCESSES):
        if samples:
            pts = [(t, v[name] / 1024) for t, v in samples if v[name] is not None]
        else:
            pts = [(w["to"], w["rss"][i]) for w in windows if i < len(w["rss"]) and w["rss"][i] is not None]
        if pts:
            series.append((name, colour, pts))
    body, y, width = [text(16, 30, title, size=16, anchor="start", weight="bold")], 44, 640
    x_max = max([x for x, _ in lat] + [x for _, _, pts in series for x, _ in pts])
    if lat:
        els, w, h = line_panel([("p99", "#1b3f69", lat)], 16, y, 520, 180, "ms",
                               "(f) soak: p99 end-to-end latency per window", "minutes", x_max)
        body += els
        width, y = max(width, w + 32), y + h + 10
    if series:
        els, w, h = line_panel(series, 16, y, 520, 200, "MiB",
                               "(f) soak: RSS over time (PostgreSQL: its processes' PSS, summed)", "minutes", x_max)
        body += els
        width, y = max(width, w + 32, text_width("(f) soak: RSS over time (PostgreSQL: its processes' PSS, summed)", 13) + 32), y + h
        lg, lh = legend([(c, n) for n, c, _ in series], 16, y + 14, width - 32)
        body += lg
        y += lh + 10
    return svg(width, y + 10, f"{title}: soak", body)
