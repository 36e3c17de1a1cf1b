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


def texts(path):
    doc = xml.dom.minidom.parse(path)  # raises unless well-formed
    return [n.firstChild.data for n in doc.getElementsByTagName("text") if n.firstChild]


class ChartsTest(unittest.TestCase):
    def draw(self, report):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        if report is not None:
            with open(os.path.join(self.dir.name, "report.md"), "w", encoding="utf-8") as f:
                f.write(report)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            written = charts.draw(self.dir.name)
        self.assertEqual(sorted(os.path.basename(p) for p in written), ["latency.svg", "throughput.svg"])
        return (texts(os.path.join(self.dir.name, "throughput.svg")),
                texts(os.path.join(self.dir.name, "latency.svg")), err.getvalue())

    def test_report(self):
        throughput, latency, err = self.draw(REPORT)
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


if __name__ == "__main__":
    unittest.main()
