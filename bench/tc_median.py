#!/usr/bin/env python3
"""Whole-run wall time of a test guest under several --tc settings, side by side.

    bench/tc_median.py [--build build] [--rounds 11] GUEST SETTING...
    e.g. bench/tc_median.py alu superblocks=off superblocks=on

Runs `bt86 run --kernel BUILD/guests/GUEST.elf --tc SETTING` ROUNDS times per setting,
alternating the settings round by round (so host load drifts hit all alike), and prints the
median, minimum and maximum wall time of each. Not a test: numbers for docs/PERFORMANCE.md.
"""
import argparse
import statistics
import subprocess
import time

ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build")
ap.add_argument("--rounds", type=int, default=11)
ap.add_argument("guest")
ap.add_argument("settings", nargs="+")
args = ap.parse_args()
times = {s: [] for s in args.settings}
for _ in range(args.rounds):
    for s in args.settings:
        cmd = [f"{args.build}/bt86", "run", "--kernel", f"{args.build}/guests/{args.guest}.elf",
               "--tc", s]
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times[s].append((time.perf_counter() - t0) * 1000)
for s in args.settings:
    v = sorted(times[s])
    print(f"{args.guest:8} {s:32} median {statistics.median(v):6.0f} ms  min {v[0]:5.0f}  "
          f"max {v[-1]:5.0f}  (n={len(v)})")
