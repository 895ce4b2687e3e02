#!/usr/bin/env python3
"""`cuda/auto`'s crossover from a lease run's benchmark: for each hidden size of LSTM inference
rows, the largest batch at which cuda/persistent was faster than cuda/standard (and at every
smaller batch measured), printed as the rows of kAutoCrossover in src/engine/persistent_plan.h,
with the kAutoCrossoverSource line to paste beside them.

  python3 bench/auto_crossover.py bench.json [--card "NVIDIA H200"] [--commit abc1234]

A hidden size where persistent never won gets max_batch 0 (auto then always takes standard).
"""
import argparse
import json
import re
import statistics

# One direction only: the bidirectional rows (a trailing /D:2) measure the paired launch.
ROW = re.compile(r"^lstm/infer/cuda/(standard|persistent)/H:(\d+)/B:(\d+)/T:(\d+)/I:\d+(?:/real_time)?$")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench_json")
    parser.add_argument("--card", default="the lease run's GPU")
    parser.add_argument("--commit", default="?")
    args = parser.parse_args()
    with open(args.bench_json) as f:
        rows = json.load(f).get("benchmarks", [])
    times = {}
    for r in rows:
        m = ROW.match(r.get("run_name", r.get("name", "")))
        if not m or r.get("error_occurred") or "us_per_step" not in r:
            continue
        algo, h, b = m.group(1), int(m.group(2)), int(m.group(3))
        times.setdefault(h, {}).setdefault(b, {}).setdefault(algo, []).append(float(r["us_per_step"]))
    if not times:
        raise SystemExit("auto_crossover: no lstm/infer/cuda/{standard,persistent} rows in " + args.bench_json)
    lines = []
    for h in sorted(times):
        best = 0
        for b in sorted(times[h]):
            t = {a: statistics.median(v) for a, v in times[h][b].items()}
            if "standard" not in t or "persistent" not in t or t["persistent"] >= t["standard"]:
                break
            best = b
        lines.append((h, best))
    rows_text = ", ".join(f"{{{h}, {b}}}" for h, b in lines[:-1]) + (", " if len(lines) > 1 else "")
    rows_text += f"{{INT64_MAX, {lines[-1][1]}}}"
    print("inline constexpr AutoCrossover kAutoCrossover[] = {\n    " + rows_text + ",\n};")
    print(f'inline constexpr const char* kAutoCrossoverSource =\n    "measured on {args.card} by bench/gpu_lease.sh '
          f'at commit {args.commit} (lstm/infer, T 100): the largest batch at which cuda/persistent beat cuda/standard";')


if __name__ == "__main__":
    main()
