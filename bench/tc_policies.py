#!/usr/bin/env python3
"""Each translation-cache eviction policy on the same guests, side by side.

    bench/tc_policies.py [--build build] [--rounds 3] [--size GUEST=SIZE ...]
    (default: --size alu=256K --size paging=132K --size linux=2M)

For each guest and each policy (flush, fifo, generational) runs
`bt86 run --kernel BUILD/guests/GUEST.elf --tc size=SIZE,evict=POLICY --stats=json`, ROUNDS
times, alternating policies round by round (host load drifts hit all alike), and prints the
median of: whole-run wall time, translations (cache misses: units made, promotions included),
time translating, time making room (flushes, evictions), evictions and promotions. The guest
`linux` is the Debian boot (BUILD/linux-guest with its test initramfs: `cmake --build build -t
linux_guest`) to the shell, a fixed command script typed into its console (LINUX_COMMANDS)
and the ACPI power-off; a run that does not power off is reported and left out. Not a test:
numbers for docs/PERFORMANCE.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# The Linux boot's workload: the same as tests/linux/debian_tc_policy.sh.
LINUX_COMMANDS = (
    "uname -a\n"
    "md5sum /bin/bt86_probe\n"
    "i=0; while [ $i -lt 10 ]; do /bin/true; i=$((i + 1)); done; echo FORKS $i\n"
    "poweroff\n")
POLICIES = ["flush", "fifo", "generational"]
FIELDS = ["wall_ms", "units", "translate_ms", "make_room_ms", "evictions", "promotions"]


def one(build, guest, size, policy):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    cmd = [f"{build}/bt86", "run", "--tc", f"size={size},evict={policy}", "--stats=json",
           "--stats-file", path]
    stdin = None
    if guest == "linux":
        d = f"{build}/linux-guest"
        cmd += ["--kernel", f"{d}/vmlinuz", "--initrd", f"{d}/initramfs-test.cpio.gz", "--append",
                "console=ttyS0", "--mem", "256M"]
        stdin = LINUX_COMMANDS.encode()
    else:
        cmd += ["--kernel", f"{build}/guests/{guest}.elf"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       check=False)
    wall = (time.perf_counter() - t0) * 1000
    if guest == "linux" and (r.returncode != 0 or b"FORKS 10" not in r.stdout):
        print(f"linux, {policy}: no clean power-off (status {r.returncode}); run left out",
              file=sys.stderr)
        os.unlink(path)
        return None
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
                    help="GUEST=SIZE, repeatable, a guest may come with several sizes "
                         "(default alu=256K, paging=132K, and linux=2M if the Debian guest "
                         "is built)")
    args = ap.parse_args()
    sizes = [tuple(s.split("=", 1)) for s in args.size]
    if not sizes:
        sizes = [("alu", "256K"), ("paging", "132K")]
        if os.path.exists(f"{args.build}/linux-guest/vmlinuz"):
            sizes.append(("linux", "2M"))
    runs = {(g, size, p): [] for g, size in sizes for p in POLICIES}
    for _ in range(args.rounds):
        for g, size in sizes:
            for p in POLICIES:
                r = one(args.build, g, size, p)
                if r:
                    runs[(g, size, p)].append(r)
    print("| guest, --tc size | policy | " + " | ".join(FIELDS) + " |")
    print("|---|---|" + "---:|" * len(FIELDS))
    for g, size in sizes:
        for p in POLICIES:
            if not runs[(g, size, p)]:
                print(f"| {g}, {size} | {p} | no run ended cleanly |")
                continue
            med = {k: statistics.median(r[k] for r in runs[(g, size, p)]) for k in FIELDS}
            cells = [f"{med[k]:.0f}" if k.endswith("ms") else f"{int(med[k])}" for k in FIELDS]
            print(f"| {g}, {size} | {p} | " + " | ".join(cells) + " |")

if __name__ == "__main__":
    main()
