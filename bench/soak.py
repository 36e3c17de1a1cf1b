#!/usr/bin/env python3
"""The soak's figures, from what bench/lib/soak.sh recorded: per window and at the end.

  soak.py SOAK_CSV LATENCY MINUTES      prints the soak section's tables (markdown)

SOAK_CSV: a sample every 10 s (t_s, seen, then rss_kib and cpu_s of the producer, each consumer
and the PostgreSQL server; pg_pss_kib too); a process gone leaves its cells empty. LATENCY: one
line per window, "WINDOW P99_MS ROWS", from PostgreSQL (created_at to the commit of the row).

Windows are 5 minutes long, or 1 minute when the soak is shorter than 10. Per window: the p99
latency, the CPU seconds per message handled (tweetpipe's processes, then PostgreSQL's) and the
mean RSS of each process. At the end, RSS flatness: the mean over the last 10 minutes against
the first 10 after a 5-minute warm-up, or, below 25 minutes, the last third against the first.
Figures only: nothing here fails the benchmark.
"""

import csv
import sys

FLAT = 0.10  # within 10%: flat
SERIES = (("producer", "producer"), ("consumer1", "consumer 1"), ("consumer2", "consumer 2"), ("pg", "PostgreSQL"))


def window_seconds(minutes):
    return 300 if minutes >= 10 else 60


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def read_samples(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    samples = []
    for r in rows:
        s = {k: num(v) for k, v in r.items()}
        # PostgreSQL's processes share its buffers: their PSS adds up to its memory, their RSS
        # counts the shared pages once per process. PSS when it could be read.
        s["pg_mem_kib"] = s.get("pg_pss_kib") or s.get("pg_rss_kib")
        if s.get("t_s") is not None:
            samples.append(s)
    return samples


def read_latency(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.replace("|", " ").split()
            if len(parts) >= 2 and parts[0].lstrip("-").isdigit():
                out[int(parts[0])] = num(parts[1])
    return out


def filled(samples, key):
    """The series with a gone process's last value carried on (its CPU no longer grows)."""
    last, out = None, []
    for s in samples:
        v = s.get(key)
        last = v if v is not None else last
        out.append(last)
    return out


def at(samples, series, t):
    """The value of series at the first sample at or after t (the last one if none)."""
    for s, v in zip(samples, series):
        if s["t_s"] >= t - 1e-6:
            return v
    return series[-1] if series else None


def mean_rss(samples, key, lo, hi):
    vals = [s[key] for s in samples if lo <= s["t_s"] < hi and s.get(key) is not None]
    return sum(vals) / len(vals) / 1024 if vals else None


def windows(samples, latency, minutes):
    w_s = window_seconds(minutes)
    seen = filled(samples, "seen")
    ours = [sum(v or 0 for v in vs) for vs in zip(*(filled(samples, f"{k}_cpu_s") for k in ("producer", "consumer1", "consumer2")))]
    pg = filled(samples, "pg_cpu_s")
    out = []
    for w in range(max(1, -(-minutes * 60 // w_s))):
        lo, hi = w * w_s, min((w + 1) * w_s, minutes * 60)
        handled = (at(samples, seen, hi) or 0) - (at(samples, seen, lo) or 0)
        per = lambda series: (at(samples, series, hi) - at(samples, series, lo)) * 1e6 / handled if handled > 0 else None
        out.append({
            "from": lo / 60, "to": hi / 60, "handled": handled, "p99": latency.get(w),
            "cpu_ours": per(ours), "cpu_pg": per(pg),
            "rss": [mean_rss(samples, f"{k}_rss_kib" if k != "pg" else "pg_mem_kib", lo, hi) for k, _ in SERIES],
        })
    return out


def spans(minutes):
    """(first span, last span, what they are), in seconds."""
    if minutes >= 25:
        return (300, 900), ((minutes - 10) * 60, minutes * 60), "the last 10 minutes against the first 10 after a 5-minute warm-up"
    third = minutes * 60 / 3
    return (0, third), (2 * third, minutes * 60), "the last third against the first"


def flatness(samples, minutes):
    first, last, what = spans(minutes)
    out = []
    for key, name in SERIES:
        k = f"{key}_rss_kib" if key != "pg" else "pg_mem_kib"
        a, b = mean_rss(samples, k, *first), mean_rss(samples, k, *last)
        verdict = None
        if a and b is not None:
            r = b / a
            verdict = (r, "flat" if abs(r - 1) <= FLAT else ("grew" if r > 1 else "shrank"))
        out.append((name, a, b, verdict))
    return what, out


def f0(v):
    return "n/a" if v is None else f"{v:.0f}"


def mins(v):
    return f"{v:g}"


def section(samples, latency, minutes):
    lines = ["| window, min | tweets handled | p99 latency ms | CPU µs per tweet, tweetpipe + PostgreSQL | RSS MiB, producer / consumer 1 / consumer 2 / PostgreSQL |",
             "|---|---|---|---|---|"]
    for w in windows(samples, latency, minutes):
        lines.append(f"| {mins(w['from'])}-{mins(w['to'])} | {f0(w['handled'])} | {f0(w['p99'])} | "
                     f"{f0(w['cpu_ours'])} + {f0(w['cpu_pg'])} | {' / '.join(f0(v) for v in w['rss'])} |")
    what, flat = flatness(samples, minutes)
    lines += ["", f"| RSS flatness: {what} | mean MiB, first → last | last / first |", "|---|---|---|"]
    for name, a, b, verdict in flat:
        v = f"{verdict[0]:.2f}, {verdict[1]}" if verdict else "n/a"
        lines.append(f"| {name} | {f0(a)} → {f0(b)} | {v} |")
    return "\n".join(lines)


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    print(section(read_samples(argv[1]), read_latency(argv[2]), int(argv[3])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
