#!/usr/bin/python3
"""Translation-cache behaviour over time under each eviction policy, as one PNG.

    bench/tc_plot.py [--build build] [--guest smc] [--size 132K] [--interval 0.005]
                     [--out docs/tc_policies.png]

Runs `bt86 run --kernel BUILD/guests/GUEST.elf --tc size=SIZE,evict=POLICY --stats=json
--stats-interval INTERVAL` once per policy (flush, fifo, generational) and draws, against the
run's wall time: cache occupancy (translator.code_bytes, and the persistent ring's share under
generational), translations per second (Δ translator.units / Δ wall_ns between snapshots) and
the jump-cache hit rate (Δ lookup_hits / Δ(lookup_hits + lookup_misses)). Snapshots are taken
at exits to the monitor (docs/STATS.md), so the guest must leave translated code now and then:
smc does (alu does not). Needs python3-matplotlib (Debian). Not a test.
"""
import argparse
import json
import os
import subprocess
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

POLICIES = ["flush", "fifo", "generational"]


def run(build, guest, size, policy, interval):
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
        path = f.name
    cmd = [f"{build}/bt86", "run", "--kernel", f"{build}/guests/{guest}.elf", "--tc",
           f"size={size},evict={policy}", "--stats=json", "--stats-file", path,
           "--stats-interval", str(interval)]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    with open(path) as f:
        docs = [json.loads(line) for line in f if line.strip()]
    os.unlink(path)
    if len(docs) < 3:
        raise SystemExit(f"{guest} under {policy}: only {len(docs)} snapshots; "
                         "use a guest that exits to the monitor, or a shorter interval")
    return docs


def series(docs):
    t, occ, pers, rate, hit = [], [], [], [], []
    prev = None
    for d in docs:
        tr = d["translator"]
        now = d["wall_ns"] / 1e6
        if prev is not None and now > prev[0]:
            dt = (now - prev[0]) / 1e3
            probes = (tr["lookup_hits"] - prev[2]) + (tr["lookup_misses"] - prev[3])
            t.append(now)
            occ.append(tr["code_bytes"] / 1024)
            pers.append(tr.get("persistent_bytes", 0) / 1024)
            rate.append((tr["units"] - prev[1]) / dt)
            hit.append(100.0 * (tr["lookup_hits"] - prev[2]) / probes if probes else float("nan"))
        prev = (now, tr["units"], tr["lookup_hits"], tr["lookup_misses"])
    return t, occ, pers, rate, hit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--guest", default="smc")
    ap.add_argument("--size", default="132K")
    ap.add_argument("--interval", type=float, default=0.005)
    ap.add_argument("--out", default="docs/tc_policies.png")
    args = ap.parse_args()
    fig, axes = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    for policy in POLICIES:
        docs = run(args.build, args.guest, args.size, policy, args.interval)
        t, occ, pers, rate, hit = series(docs)
        tr = docs[-1]["translator"]
        label = (f"{policy}: {tr['units']} translations, {tr['flushes']} flushes, "
                 f"{tr['evictions']} evictions, {tr.get('promotions', 0)} promotions")
        line, = axes[0].plot(t, occ, label=label)
        if policy == "generational":
            axes[0].plot(t, pers, linestyle="--", color=line.get_color(),
                         label="generational: persistent ring")
        axes[1].plot(t, rate, label=policy)
        axes[2].plot(t, hit, label=policy)
    axes[0].set_ylabel("cache occupancy (KiB)")
    axes[1].set_ylabel("translations / s")
    axes[1].set_yscale("symlog")
    axes[2].set_ylabel("jump-cache hit rate (%)")
    axes[2].set_xlabel("wall time (ms)")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    fig.suptitle(f"bt86 --tc size={args.size}: the {args.guest} guest under each eviction policy "
                 f"(--stats-interval {args.interval})")
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print(args.out)


if __name__ == "__main__":
    main()
