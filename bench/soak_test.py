"""Tests of bench/soak.py: python3 -m unittest bench/soak_test.py (standard library, < 1 s)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402

HEAD = "t_s,seen,producer_rss_kib,producer_cpu_s,consumer1_rss_kib,consumer1_cpu_s,consumer2_rss_kib,consumer2_cpu_s,pg_rss_kib,pg_pss_kib,pg_cpu_s\n"


def csv_of(rows):
    return HEAD + "".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows)


class SoakTest(unittest.TestCase):
    def run_soak(self, samples_csv, latency, minutes):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        paths = [os.path.join(d.name, n) for n in ("soak.csv", "latency.txt")]
        for path, content in zip(paths, (samples_csv, latency)):
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
        return soak.read_samples(paths[0]), soak.read_latency(paths[1])

    def test_short_soak_per_minute(self):
        # 2 minutes at 100 tweets/s: the producer gone after the first minute, its CPU carried on;
        # consumer 1 growing by half in the last third, the others flat.
        rows = []
        for k in range(13):
            t = k * 10
            alive = t <= 60
            rows.append((t, min(t * 100, 12000), 102400 if alive else None, (t * 0.01) if alive else None,
                         102400 + (51200 if t >= 80 else 0), t * 0.02, 204800, t * 0.02, 900000, 409600, t * 0.05))
        samples, latency = self.run_soak(csv_of(rows), "0 25 5400\n1 31 5300\n", 2)
        wins = soak.windows(samples, latency, 2)
        self.assertEqual([(w["from"], w["to"]) for w in wins], [(0, 1), (1, 2)])
        self.assertEqual([w["handled"] for w in wins], [6000, 6000])
        self.assertEqual([w["p99"] for w in wins], [25, 31])
        # first minute: (0.6 + 1.2 + 1.2) s over 6000 tweets; then the producer's CPU stays at 0.6
        self.assertAlmostEqual(wins[0]["cpu_ours"], 500)
        self.assertAlmostEqual(wins[1]["cpu_ours"], 400)
        self.assertAlmostEqual(wins[0]["cpu_pg"], 500)
        self.assertAlmostEqual(wins[0]["rss"][3], 400)  # PostgreSQL: its PSS, not its summed RSS
        what, flat = soak.flatness(samples, 2)
        self.assertEqual(what, "the last third against the first")
        verdicts = {name: v[1] for name, _, _, v in flat if v}
        self.assertEqual(verdicts, {"consumer 1": "grew", "consumer 2": "flat", "PostgreSQL": "flat"})
        text = soak.section(samples, latency, 2)
        self.assertIn("| 0-1 | 6000 | 25 | 500 + 500 | 100 / 100 / 200 / 400 |", text)
        self.assertIn("| producer | 100 → n/a | n/a |", text)
        self.assertIn("| consumer 1 | 100 → 150 | 1.50, grew |", text)

    def test_long_soak_in_five_minute_windows(self):
        # 30 minutes: windows of 5; flatness over minutes 5-15 against 20-30, the warm-up left out
        rows = [(t, t * 3000, 100000 if t < 300 else 120000, t * 0.001, 200000, t * 0.001, 200000, t * 0.001,
                 900000, "", t * 0.002) for t in range(0, 1801, 10)]
        samples, latency = self.run_soak(csv_of(rows), "", 30)
        wins = soak.windows(samples, latency, 30)
        self.assertEqual(len(wins), 6)
        self.assertEqual(wins[-1]["to"], 30)
        self.assertIsNone(wins[0]["p99"])
        what, flat = soak.flatness(samples, 30)
        self.assertIn("after a 5-minute warm-up", what)
        self.assertEqual(flat[0][3][1], "flat")  # the producer's growth was all in the warm-up
        self.assertAlmostEqual(flat[3][1], 900000 / 1024)  # PostgreSQL: its RSS when no PSS


if __name__ == "__main__":
    unittest.main()
