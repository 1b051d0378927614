#!/usr/bin/env python3
"""WAL of a time window by relation and record type, from `pg_waldump` text output.

The peer harness measures WAL per job as the cluster's LSN difference over a run, so anything else the
cluster writes meanwhile (an autovacuum of the tables the system before left full of dead rows) counts
against the system measured. This attributes a window's records: each record is placed at the time of
the last COMMIT record before it (commits carry their timestamp), and grouped by relfilenode and type
(+FPW when it carries a full-page image).

  pg_waldump -p $PGDATA/pg_wal -s START_LSN -e END_LSN > dump.txt
  python3 bench/workloads/wal_window.py dump.txt '2026-11-24 18:42:10' '2026-11-24 18:42:21' [TOP]
"""
import collections
import datetime
import re
import sys

FMT = "%Y-%m-%d %H:%M:%S"
LEN = re.compile(r"len \(rec/tot\):\s*\d+/\s*(\d+)")
REL = re.compile(r"rel \d+/\d+/(\d+)")
COMMIT_AT = re.compile(r"desc: COMMIT (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
DESC = re.compile(r"desc: ([A-Z_0-9+]+)")


def main(path, start, end, top):
    t0, t1 = (datetime.datetime.strptime(t, FMT) for t in (start, end))
    at, total = None, 0
    size, count = collections.Counter(), collections.Counter()
    with open(path, errors="replace") as dump:
        for line in dump:
            commit = COMMIT_AT.search(line)
            if commit:
                at = datetime.datetime.strptime(commit.group(1), FMT)
            length = LEN.search(line)
            if at is None or not t0 <= at < t1 or not length:
                continue
            rel = REL.search(line)
            desc = DESC.search(line)
            key = (rel.group(1) if rel else "-",
                   line.split()[1] + "/" + (desc.group(1) if desc else "?") + ("+FPW" if " FPW" in line else ""))
            size[key] += int(length.group(1))
            count[key] += 1
            total += int(length.group(1))
    print(f"window {start} .. {end}: {total} bytes")
    print("| relfilenode | record | records | bytes |")
    print("|---|---|---|---|")
    for (rel, kind), nbytes in size.most_common(top):
        print(f"| {rel} | {kind} | {count[(rel, kind)]} | {nbytes} |")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 25)
