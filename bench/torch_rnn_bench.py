#!/usr/bin/env python3
"""PyTorch's nn.LSTM / nn.GRU on the GPU, timed on the shapes of gpurnn_bench's grid, as rows
named like gpurnn_bench's: <cell>/<mode>/torch/<f32|f16|bf16>/H:<h>/B:<b>/T:<t>/I:<i>, with
us_per_step (µs per timestep, the median iteration over T). Written as Google Benchmark JSON so
bench/gpu_lease.sh tabulates them beside the gpurnn rows.

  python3 bench/torch_rnn_bench.py --grid lease --out torch.json [--min-time 0.05]

Modes: infer (forward under torch.no_grad) and fwd_bwd (forward, then backward of a fixed
random dy into x and every parameter, as gpurnn's fwd_bwd rows do). Each row: 2 warm-up
iterations, then iterations timed with CUDA events until --min-time seconds (at least 3);
inputs are random, never zeros.
"""
import argparse
import json
import statistics
import sys
import time


def grid(name):
    """(cell, mode, H, B, T, directions) in gpurnn_bench's order for `name` (src/perf/bench_cases.h)."""
    cases = []
    if name == "lease":
        for cell in ("lstm", "gru"):
            for h in (256, 512, 1024):
                for b in (1, 8, 32, 128):
                    for mode in ("infer", "fwd_bwd"):
                        cases.append((cell, mode, h, b, 100, 1))
        for mode in ("infer", "fwd_bwd"):
            cases.append(("lstm", mode, 768, 16, 1024, 1))
        for h in (512, 1024):
            for b in (1, 8, 32):
                for mode in ("infer", "fwd_bwd"):
                    cases.append(("lstm", mode, h, b, 100, 2))
    elif name == "tiny":
        for cell in ("lstm", "gru"):
            for mode in ("infer", "fwd_bwd"):
                cases.append((cell, mode, 16, 2, 3, 1))
    else:
        sys.exit(f"torch_rnn_bench: unknown grid '{name}' (expected lease or tiny)")
    return cases


def time_row(torch, module, x, dy, mode, min_time):
    """Median seconds of one iteration."""
    def once():
        if mode == "infer":
            with torch.no_grad():
                module(x)
        else:
            y, _ = module(x)
            y.backward(dy)

    for _ in range(2):
        once()
    torch.cuda.synchronize()
    times = []
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    began = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - began < min_time:
        start.record()
        once()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1e-3)
    return statistics.median(times), len(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", default="lease")
    parser.add_argument("--out", required=True, help="the JSON file to write")
    parser.add_argument("--min-time", type=float, default=0.05, help="seconds of timed iterations per row")
    parser.add_argument("--dtypes", default="f32,f16,bf16",
                        help="f32 rows for every shape; f16 and bf16 for the unidirectional LSTM shapes "
                             "(gpurnn_bench's half rows)")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        sys.exit("torch_rnn_bench: torch sees no CUDA device")
    device = torch.device("cuda:0")
    rows = []
    cases = grid(args.grid)
    dtypes = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
    for k, (cell, mode, h, b, t, directions) in enumerate(cases):
        for dname in args.dtypes.split(","):
            if dname not in dtypes:
                sys.exit(f"torch_rnn_bench: --dtypes: '{dname}' is not one of f32, f16, bf16")
            if dname != "f32" and (cell != "lstm" or directions != 1):
                continue
            name = f"{cell}/{mode}/torch/{dname}/H:{h}/B:{b}/T:{t}/I:{h}" + ("/D:2" if directions == 2 else "")
            row = {"name": name, "run_name": name, "run_type": "iteration", "time_unit": "ms"}
            try:
                torch.manual_seed(k)
                kind = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
                module = kind(h, h, bidirectional=directions == 2).to(device=device, dtype=dtypes[dname])
                x = torch.randn(t, b, h, device=device, dtype=dtypes[dname], requires_grad=(mode == "fwd_bwd"))
                dy = torch.randn(t, b, directions * h, device=device, dtype=dtypes[dname])
                seconds, iterations = time_row(torch, module, x, dy, mode, args.min_time)
                row.update({"real_time": seconds * 1e3, "iterations": iterations, "us_per_step": seconds * 1e6 / t})
            except Exception as e:  # one failing row does not hide the others
                row.update({"error_occurred": True, "error_message": str(e)})
            rows.append(row)
            print(f"{name}: " + (f"{row['us_per_step']:.2f} us/step" if "us_per_step" in row else row["error_message"]),
                  flush=True)
    doc = {
        "context": {
            "torch_version": torch.__version__,
            "cudnn_version": str(torch.backends.cudnn.version()),
            "device": torch.cuda.get_device_name(device),
        },
        "benchmarks": rows,
    }
    with open(args.out + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    import os

    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
