#!/usr/bin/env python3
"""dlq against the issue-5 targets that come from the peer workloads, from a raw TSV of the peer
harness (run.sh -o). Ratios are medians of per-round ratios to MINIMAL, as in summarize.py.

usage: targets.py RAW.tsv
"""
import csv
import statistics
import sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = defaultdict(dict)  # (workload, batch, system) -> round -> row
for r in rows:
    by[(r["workload"], r["batch"], r["system"])][r["round"]] = r


def ratio(w, b):
    d, m = by.get((w, b, "dlq"), {}), by.get((w, b, "minimal"), {})
    rs = [float(d[k]["jobs_per_s"]) / float(m[k]["jobs_per_s"]) for k in d if k in m and float(m[k]["jobs_per_s"]) > 0]
    return statistics.median(rs) if rs else None


def wal(w, b):
    d = by.get((w, b, "dlq"), {})
    xs = [float(r["wal_b_per_job"]) for r in d.values() if r["wal_b_per_job"]]
    return statistics.median(xs) if xs else None


checks = [("W1c jobs/s ≥ 0.90 × floor", ratio("W1c", "1"), 0.90, "×", True),
          ("W2c jobs/s ≥ 1.00 × floor", ratio("W2c", "100"), 1.00, "×", True),
          ("W3 drain b1 jobs/s ≥ 1.00 × floor", ratio("W3", "1"), 1.00, "×", True),
          ("W3 drain b100 jobs/s ≥ 1.00 × floor", ratio("W3", "100"), 1.00, "×", True),
          ("WAL per completed job ≤ 600 B at batch 1 (W1c)", wal("W1c", "1"), 600, "B", False),
          ("WAL per completed job ≤ 400 B at batch 100 (W2c)", wal("W2c", "100"), 400, "B", False),
          ("WAL per completed job ≤ 400 B at batch 100 (W3 drain)", wal("W3", "100"), 400, "B", False)]
print("| target | dlq | met |")
print("|---|---|---|")
for label, v, limit, unit, higher in checks:
    if v is None:
        print(f"| {label} | not measured | – |")
        continue
    met = v >= limit if higher else v <= limit
    shown = f"{v:.2f}×" if unit == "×" else f"{v:,.0f} B"
    print(f"| {label} | {shown} | {'yes' if met else '**no**'} |")
