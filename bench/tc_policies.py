#!/usr/bin/env python3
"""Each translation-cache eviction policy on the same guests, side by side.

    bench/tc_policies.py [--build build] [--rounds 3] [--size alu=256K --size paging=132K]

For each guest and each policy (flush, fifo, generational) runs
`bt86 run --kernel BUILD/guests/GUEST.elf --tc size=SIZE,evict=POLICY --stats=json`, ROUNDS
times, alternating policies round by round (host load drifts hit all alike), and prints the
median of: whole-run wall time, translations (cache misses: units made, promotions included),
time translating, time making room (flushes, evictions), evictions and promotions. Not a test:
numbers for docs/PERFORMANCE.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

POLICIES = ["flush", "fifo", "generational"]
FIELDS = ["wall_ms", "units", "translate_ms", "make_room_ms", "evictions", "promotions"]


def one(build, guest, size, policy):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    cmd = [f"{build}/bt86", "run", "--kernel", f"{build}/guests/{guest}.elf", "--tc",
           f"size={size},evict={policy}", "--stats=json", "--stats-file", path]
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = (time.perf_counter() - t0) * 1000
    with open(path) as f:
        tr = json.loads(f.read().splitlines()[-1])["translator"]
    os.unlink(path)
    return {"wall_ms": wall, "units": tr["units"], "translate_ms": tr["translate_ns"] / 1e6,
            "make_room_ms": tr["make_room_ns"] / 1e6, "evictions": tr["evictions"],
            "promotions": tr["promotions"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", action="append", default=[],
                    help="GUEST=SIZE (default alu=256K, paging=132K)")
    args = ap.parse_args()
    sizes = dict(s.split("=", 1) for s in args.size) or {"alu": "256K", "paging": "132K"}
    runs = {(g, p): [] for g in sizes for p in POLICIES}
    for _ in range(args.rounds):
        for g, size in sizes.items():
            for p in POLICIES:
                runs[(g, p)].append(one(args.build, g, size, p))
    print("| guest, --tc size | policy | " + " | ".join(FIELDS) + " |")
    print("|---|---|" + "---:|" * len(FIELDS))
    for g, size in sizes.items():
        for p in POLICIES:
            med = {k: statistics.median(r[k] for r in runs[(g, p)]) for k in FIELDS}
            cells = [f"{med[k]:.0f}" if k.endswith("ms") else f"{int(med[k])}" for k in FIELDS]
            print(f"| {g}, {size} | {p} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
