"""Tests of bench/charts.py: python3 -m unittest bench/charts_test.py (standard library, < 1 s)."""

import contextlib
import io
import os
import sys
import tempfile
import unittest
import xml.dom.minidom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import charts  # noqa: E402

# The shape of what bench/run.sh's "--- report ---" block writes: two shapes, one with the
# Kafka Connect rows, one without, one unreadable drain row.
REPORT = """# tweetpipe benchmark 20261204-120000

2 cores; 1000000 tweets per shape; topics of 12 partitions. CPU is user + system
seconds; "+ PG" adds what the PostgreSQL server spent meanwhile. Ratios are tweetpipe / reference.

## small: 699 bytes per tweet on average (666.6 MiB), 855271 rows stored

| measurement | tweetpipe | reference | ratio |
|---|---|---|---|
| (a) producer, file -> Kafka, tweets/s | 354610 (236.4 MB/s) | ProducerPerformance 220604 (147.1 MB/s) | 1.61 |
| (a) the same with --lineage-headers (one run), tweets/s | 207000 | ProducerPerformance 220604 | 0.94 |
| (a) producer CPU s / peak RSS MiB | 3.8 / 171 | ProducerPerformance 12.7 / 1905 | 0.30 / 0.09 |
| (b) drain, 1 consumer(s): tweets/s (rows/s) | 38687 (33086) | PostgreSQL ceiling 28301 rows/s | 1.17 |
| (b) drain, 1 consumer(s): CPU s + PG / peak RSS MiB | 14.5 + 32.2 / 204 | ceiling: PG 30.0 | |
| (b) drain, 2 consumer(s): tweets/s (rows/s) | 40123 ( ) | PostgreSQL ceiling 28301 rows/s | n/a |
| (b) drain, 1 consumer vs Kafka alone, tweets/s | 38687 | ConsumerPerformance 412345 | 0.10 |
| (b) drain, 1 consumer(s) vs Kafka Connect + Debezium JDBC sink, rows/s | 33086 | Connect 6230 (855271 rows) | 5.31 |
| (b) the same: CPU s + PG | 14.5 + 32.2 | Connect 74.2 + 137.5 | 0.22 |
| (b) the same: peak RSS MiB | 204 | Connect 607 | 0.34 |
| (d) RSS of the single consumer at 1/4, 1/2, 3/4 and the end of its drain | 161 / 189 / 202 / 186 MiB | | |

## standard: 2047 bytes per tweet on average (1952.3 MiB), 855271 rows stored

| measurement | tweetpipe | reference | ratio |
|---|---|---|---|
| (a) producer, file -> Kafka, tweets/s | 203252 (396.8 MB/s) | ProducerPerformance 154320 (301.2 MB/s) | 1.32 |
| (b) drain, 1 consumer(s): tweets/s (rows/s) | 22910 (19594) | PostgreSQL ceiling 13777 rows/s | 1.42 |

## latency

| (c) end-to-end latency at 2000 tweets/s | p50 20 ms, p99 32 ms, max 155 ms |
|---|---|

Logs: /somewhere
"""


# A matrix run's summary (bench/lib/report.sh): two shapes, two sizes, the Connect peer on one
# cell only, a row without its size.
MATRIX = """# tweetpipe benchmark 20261205-090000

2 cores; 100000, 300000 tweets per shape; topics of 4, 12 partitions. CPU is user + system

## summary

| shape | tweets | partitions | rows stored | producer tweets/s | ProducerPerformance tweets/s | producer / PP | 1 consumer(s) rows/s | ceiling rows/s | consumer / ceiling | Connect rows/s | consumer / Connect | CPU µs/row, consumer + PG | ceiling PG CPU µs/row | CPU / ceiling |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
| small | 100000 | 4 | 85568 | 98558 | 115874 | 0.85 | 38030 | 45274 | 0.84 | 6230 | 6.10 | 31 | 21 | 1.48 |
| small | 300000 | 12 | 256704 | 131000 | 120500 | 1.09 | 41200 | 39900 | 1.03 | – | – | 29 | 22 | 1.32 |
| standard | 1000000 | 12 | 855271 | 203252 | 154320 | 1.32 | 19594 | 13777 | 1.42 | – | – | 94 | 72 | 1.31 |
| standard | | 4 | 1 | 2 | 3 | 0.67 | 4 | 5 | 0.80 | – | – | 6 | 7 | 0.86 |

## small, 100000 tweets, 4 partitions: 700 bytes per tweet on average (66.9 MiB), 85568 rows stored

| measurement | tweetpipe | reference | ratio |
|---|---|---|---|
| (a) producer, file -> Kafka, tweets/s | 98558 (66.9 MB/s) | ProducerPerformance 115874 (77.39 MB/s) | 0.85 |
"""

# A soak's section (bench/lib/soak.sh, bench/soak.py): two 5-minute windows; and its samples.
SOAK = """# tweetpipe benchmark 20261205-100000

## soak

| window, min | tweets handled | p99 latency ms | CPU µs per tweet, tweetpipe + PostgreSQL | RSS MiB, producer / consumer 1 / consumer 2 / PostgreSQL |
|---|---|---|---|---|
| 0-5 | 900000 | 41 | 120 + 310 | 150 / 201 / 199 / 300 |
| 5-10 | 900000 | 37 | 118 + 305 | 151 / 202 / 200 / n/a |

| RSS flatness: the last third against the first | mean MiB, first → last | last / first |
|---|---|---|
| producer | 150 → 151 | 1.01, flat |
"""
SOAK_CSV = """t_s,seen,producer_rss_kib,producer_cpu_s,consumer1_rss_kib,consumer1_cpu_s,consumer2_rss_kib,consumer2_cpu_s,pg_rss_kib,pg_pss_kib,pg_cpu_s
0,0,153600,0.00,204800,0.00,203776,0.00,900000,307200,0.00
300,900000,154624,20.0,206848,30.0,204800,31.0,950000,309248,90.0
600,1800000,,,208896,60.0,205824,62.0,990000,,180.0
"""


def texts(path):
    doc = xml.dom.minidom.parse(path)  # raises unless well-formed
    return [n.firstChild.data for n in doc.getElementsByTagName("text") if n.firstChild]


class ChartsTest(unittest.TestCase):
    def draw(self, report, files=None, also=()):
        """Draws report (with files beside it); the texts of throughput.svg and latency.svg, and of
        the charts in also, which must be the only others written; what went to stderr."""
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        for name, content in dict(files or {}, **({"report.md": report} if report is not None else {})).items():
            with open(os.path.join(self.dir.name, name), "w", encoding="utf-8") as f:
                f.write(content)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            written = charts.draw(self.dir.name)
        self.assertEqual(sorted(os.path.basename(p) for p in written), sorted(["latency.svg", "throughput.svg", *also]))
        return (texts(os.path.join(self.dir.name, "throughput.svg")),
                texts(os.path.join(self.dir.name, "latency.svg")), err.getvalue(),
                *(texts(os.path.join(self.dir.name, name)) for name in also))

    def test_report(self):
        throughput, latency, err = self.draw(REPORT)  # neither matrix.svg nor soak.svg
        for label in ("354 610", "220 604", "33 086", "28 301", "6 230", "203 252", "154 320", "19 594",
                      "13 777", "1.61×", "1.17×", "5.31×", "1.32×", "1.42×", "tweetpipe",
                      "Kafka Connect + Debezium JDBC sink", "tweets/s", "rows/s",
                      "small (699 B/tweet)", "standard (2047 B/tweet)", "vs Connect",
                      "tweetpipe benchmark 20261204-120000"):
            self.assertIn(label, throughput)
        self.assertTrue(any(t.startswith("Kafka ProducerPerformance") for t in throughput))
        self.assertTrue(any(t.startswith("PostgreSQL ceiling") for t in throughput))
        # rows not drawn: lineage headers, ConsumerPerformance; the unreadable row is skipped, noted
        self.assertNotIn("207 000", throughput)
        self.assertNotIn("412 345", throughput)
        self.assertNotIn("40 123", throughput)
        self.assertIn("could not read the figures", err)
        self.assertEqual(sum(t == "vs ceiling" for t in throughput), 2)
        self.assertEqual(sum(t == "vs Connect" for t in throughput), 1)
        for label in ("20", "32", "155", "p50", "p99", "max", "ms", "at 2 000 tweets/s"):
            self.assertIn(label, latency)

    def test_ratio_computed_when_the_report_has_none(self):
        report = ("## small: 1 bytes per tweet\n"
                  "| (a) producer, file -> Kafka, tweets/s | 300 (1 MB/s) | ProducerPerformance 200 (1 MB/s) | n/a |\n")
        throughput, _, _ = self.draw(report)
        self.assertIn("1.50×", throughput)

    def test_nothing_to_draw(self):
        for report in (None, "", "# tweetpipe benchmark x\n\n| (c) end-to-end latency at 2000 tweets/s | p50  ms |\n"):
            throughput, latency, _ = self.draw(report)
            self.assertTrue(any(t.startswith("no figures") for t in throughput))
            self.assertTrue(any(t.startswith("no figures") for t in latency))

    def test_matrix(self):
        throughput, _, err, matrix = self.draw(MATRIX, also=["matrix.svg"])
        for label in ("98 558", "115 874", "0.85×", "38 030", "45 274", "0.84×", "6 230", "6.10×", "131 000",
                      "1.09×", "19 594", "13 777", "1.42×", "31", "21", "1.48×", "100k tweets", "300k tweets",
                      "1M tweets", "4 partitions", "12 partitions", "small", "standard", "tweetpipe",
                      "Kafka Connect + Debezium JDBC sink", "tweets/s", "rows/s", "µs/row",
                      "tweetpipe benchmark 20261205-090000"):
            self.assertIn(label, matrix)
        # one panel per reference; the Connect pair only where the run had the peer
        self.assertEqual(sum(t.startswith("(b) drain") for t in matrix), 2)
        self.assertEqual(sum(t == "6.10×" for t in matrix), 1)
        self.assertEqual(sum(t == "1M tweets" for t in matrix), 3)
        # the row without its size is skipped, and said so
        self.assertNotIn("0.67×", matrix)
        self.assertIn("a summary row without its shape, size or partitions", err)
        # the detail section still draws, under its cell's name
        self.assertIn("small, 100000 tweets, 4 partitions (700 B/tweet)", throughput)

    def test_matrix_without_the_peer(self):
        report = MATRIX.replace("| 6230 | 6.10 |", "| – | – |")
        _, _, _, matrix = self.draw(report, also=["matrix.svg"])
        self.assertEqual(sum(t.startswith("(b) drain") for t in matrix), 1)
        self.assertNotIn("Kafka Connect + Debezium JDBC sink", matrix)

    def test_ratios_in_red_are_the_missed_targets(self):
        from svgdraw import bar_panel
        groups = [("small", [("a", [(30, "#000"), (24, "#111")], 1.20), ("b", [(31, "#000"), (24, "#111")], 1.30)])]
        els, _, _ = bar_panel(groups, 0, 0, 100, "µs/row", "(d) CPU", lower_better=True, target=1.25)
        fills = {t.firstChild.data: t.getAttribute("fill")
                 for t in xml.dom.minidom.parseString("<g>" + "".join(els) + "</g>").getElementsByTagName("text")
                 if t.firstChild is not None and t.firstChild.data.endswith("×")}
        self.assertEqual(fills, {"1.20×": "#222", "1.30×": "#b3261e"})

    def test_soak(self):
        _, latency, _, soak = self.draw(SOAK, {"soak.csv": SOAK_CSV}, also=["soak.svg"])
        self.assertTrue(any(t.startswith("no figures") for t in latency))
        for label in ("ms", "MiB", "minutes", "producer", "consumer 1", "consumer 2", "PostgreSQL",
                      "tweetpipe benchmark 20261205-100000"):
            self.assertIn(label, soak)
        self.assertTrue(any(t.startswith("(f) soak: p99") for t in soak))
        self.assertTrue(any(t.startswith("(f) soak: RSS") for t in soak))
        # each line ends on its last value: p99 37 ms; the samples' RSS in MiB, PostgreSQL's PSS
        # (its RSS where the PSS is missing), the producer's last before it ended
        for label in ("37", "204", "201", "967", "151"):
            self.assertIn(label, soak)

    def test_soak_without_its_samples(self):
        _, _, _, soak = self.draw(SOAK, also=["soak.svg"])
        # the RSS from the report's windows: PostgreSQL's last known window, the others' last
        for label in ("151", "202", "200", "300"):
            self.assertIn(label, soak)


if __name__ == "__main__":
    unittest.main()
