#!/usr/bin/python3
"""The timeseries table of bench/results/tasks.md: `gpurnn train timeseries` on its default flags,
five seeds on each series, against persistence and the AR baseline (all nrmse on the held-out
last 20%; lower is better).

  bench/timeseries_data.py /tmp/tsdata        # the CSVs, from python3-statsmodels
  bench/timeseries_table.py build/gpurnn /tmp/tsdata [--seeds 1,2,3,4,5] [-- EXTRA FLAGS]

Series: sunspots (yearly), El Nino (monthly), the built-in Mackey-Glass, and CO2 (weekly, with
--fill interpolate --difference: a trend). Prints one markdown row per series, each run's result
line to stderr.
"""
import statistics
import subprocess
import sys

SERIES = [
    ("sunspots", ["--csv", "{data}/sunspots.csv", "--column", "sunactivity"]),
    ("El Niño", ["--csv", "{data}/elnino.csv", "--column", "temperature"]),
    ("Mackey–Glass", []),
    ("CO2 (--fill interpolate --difference)",
     ["--csv", "{data}/co2.csv", "--column", "co2", "--fill", "interpolate", "--difference"]),
]


def run(gpurnn, args):
    out = subprocess.run([gpurnn, "train", "timeseries", "--progress", "none"] + args,
                         check=True, capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.startswith("result: ")][-1]
    print(line, file=sys.stderr, flush=True)
    return dict(pair.split("=", 1) for pair in line[len("result: "):].split())


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    seeds = [1, 2, 3, 4, 5]
    if "--seeds" in argv:
        i = argv.index("--seeds")
        seeds = [int(s) for s in argv[i + 1].split(",")]
        del argv[i:i + 2]
    if len(argv) != 2:
        sys.exit(__doc__)
    gpurnn, data = argv
    only = None
    print("| series | LSTM nrmse median (min–max) | persistence | AR (order) | median / AR | "
          "median best step | seconds per run |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, flags in SERIES:
        args = [f.format(data=data) for f in flags] + extra
        results = [run(gpurnn, args + ["--seed", str(s)]) for s in seeds]
        nrmse = [float(r["nrmse"]) for r in results]
        med = statistics.median(nrmse)
        ar = float(results[0]["ar_nrmse"])
        best = statistics.median(int(r.get("best_step", r["steps"])) for r in results)
        secs = statistics.median(float(r["seconds"]) for r in results)
        print(f"| {name} | {med:.4g} ({min(nrmse):.4g}–{max(nrmse):.4g}) | {float(results[0]['persistence_nrmse']):.4g} "
              f"| {ar:.4g} ({results[0]['ar_order']}) | {med / ar:.3f} | {best:g} | {secs:.3g} |", flush=True)


if __name__ == "__main__":
    main()
