"""The benchmark's summary table (report.md, "## summary": one row per cell, shape x size x
partition count), drawn as matrix.svg by bench/charts.py: small multiples, one panel per
reference, a group of bars per shape, a pair per size and partition count. Above, (a) the
producer against ProducerPerformance; then (b) the drain against the PostgreSQL ceiling and,
when the run had it, against Kafka Connect; last, (d) CPU per stored row against the ceiling's
(there lower is better, and the target is 1.25×: a ratio above it is the one in red)."""

import re

from svgdraw import bar_panel, legend, svg, text, text_width

OURS = "#2f6db5"
# column (by its heading in the report) -> what it holds
COLUMNS = {
    "shape": "shape", "tweets": "size", "partitions": "parts",
    "producer tweets/s": "prod", "ProducerPerformance tweets/s": "pp", "producer / PP": "prod_ratio",
    "ceiling rows/s": "ceiling", "consumer / ceiling": "ceiling_ratio",
    "Connect rows/s": "connect", "consumer / Connect": "connect_ratio",
    "CPU µs/row, consumer + PG": "cpu", "ceiling PG CPU µs/row": "ceiling_cpu", "CPU / ceiling": "cpu_ratio",
}
PANELS = (
    # key of ours, key of the reference, key of the ratio, colour, legend, heading, unit, lower is
    # better, the target ratio
    ("prod", "pp", "prod_ratio", "#9aa5b1", "Kafka ProducerPerformance",
     "(a) producer: file → Kafka", "tweets/s", False, 1.0),
    ("drain", "ceiling", "ceiling_ratio", "#e0a526", "PostgreSQL ceiling (one transaction)",
     "(b) drain: Kafka → PostgreSQL, against the ceiling", "rows/s", False, 1.0),
    ("drain", "connect", "connect_ratio", "#b5533c", "Kafka Connect + Debezium JDBC sink",
     "(b) drain: against Kafka Connect", "rows/s", False, 3.0),
    ("cpu", "ceiling_cpu", "cpu_ratio", "#c9a0dc", "the ceiling's PostgreSQL CPU",
     "(d) CPU per stored row: consumer + PostgreSQL, against the ceiling's PostgreSQL (target ≤ 1.25×)",
     "µs/row", True, 1.25),
)


def value(cell):
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", cell or "")
    return float(m.group(0).replace(",", "")) if m else None


def parse_summary(text, note):
    """The summary table's rows: [{'shape', 'size', 'parts', 'prod', ...}] (numbers or None)."""
    rows, heads, inside = [], None, False
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("## "):
            inside, heads = s == "## summary", None
            continue
        if not inside or not s.startswith("|") or s.startswith("|---"):
            continue
        cells = [c.strip() for c in s.strip("|").split("|")]
        if heads is None:
            heads = cells
            continue
        row = {}
        for head, cell in zip(heads, cells):
            key = "drain" if re.search(r"consumer\(s\) rows/s$", head) else COLUMNS.get(head)
            if key:
                row[key] = cell if key == "shape" else value(cell)
        if not row.get("shape") or row.get("size") is None or row.get("parts") is None:
            note(f"line {lineno}: a summary row without its shape, size or partitions, skipped: {s}")
            continue
        rows.append(row)
    return rows


def short(n):
    """300000 -> '300k', 1000000 -> '1M'."""
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % (div // 10) == 0:
            return f"{n / div:g}{suffix}"
    return f"{n:g}"


def draw_matrix(title, rows):
    if not rows:
        return None
    body, drawn, used, y, width = [], [], [], 72, 640
    for ours, ref, ratio, colour, name, heading, unit, lower, target in PANELS:
        groups = []
        for shape in dict.fromkeys(r["shape"] for r in rows):
            pairs = []
            for r in rows:
                if r["shape"] != shape or r.get(ours) is None or r.get(ref) is None:
                    continue
                label = f"{short(r['size'])} tweets\n{r['parts']:g} partitions"
                pairs.append((label, [(r[ours], OURS), (r[ref], colour)], r.get(ratio)))
            if pairs:
                groups.append((shape, pairs))
        if not groups:
            continue
        used.append((colour, name))
        els, w, h = bar_panel(groups, 16, y, 200, unit, heading, lower_better=lower, target=target)
        drawn += els
        width = max(width, w + 32, text_width(heading, 13) + 32)
        y += h + 18
    if not drawn:
        return None
    subtitle = "every size × shape × partition count; ratio = tweetpipe / reference"
    body.append(text(16, 30, title, size=16, anchor="start", weight="bold"))
    body.append(text(16, 48, subtitle, size=11, anchor="start", fill="#444"))
    lg, lh = legend([(OURS, "tweetpipe")] + used, 16, 66, width - 32)
    body += lg
    body.append(f'<g transform="translate(0 {lh:.0f})">')
    body += drawn
    body.append("</g>")
    return svg(max(width, text_width(subtitle, 11) + 32), y + lh, f"{title}: every cell", body)
