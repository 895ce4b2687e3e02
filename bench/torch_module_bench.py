#!/usr/bin/env python3
"""gpurnn.torch.LSTM/GRU against torch.nn.LSTM/GRU on the CPU, in one process.

For each shape, both modules hold the same weights and run the same inputs; a row times
forward (under torch.no_grad) and forward+backward (sum(y * dy) backward into the input and
every parameter) with padded input and with a PackedSequence of ragged lengths (torch's
packed path is its slow one: pytorch/pytorch#149194). Repetitions alternate between the two
modules (A B A B ...), so drift hits both alike; each repetition is the mean over enough
iterations to last --min-time seconds, and the table reports the median repetition in
microseconds per time step and the ratio torch / gpurnn with its min and max over the
repetitions paired in order (above 1: gpurnn is faster).

  PYTHONPATH=build-python/python_bindings_disabled/python \\
    /usr/bin/python3 bench/torch_module_bench.py [--cells lstm gru] [--hidden 256 512] \\
    [--batch 1 32] [--steps 100] [--reps 5] [--min-time 0.2] [--threads N] [--json out.json]
    [--dtype float32|bfloat16]

--dtype bfloat16 converts both modules and the inputs to torch.bfloat16 (torch 1.13 runs a bf16
LSTM/GRU on the CPU; libgpurnn runs its half rule: README, Half precision).
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
from torch.nn.utils.rnn import pack_padded_sequence



def make_pair(cell, hidden, input_size, torch_only, dtype):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    reference = cls(input_size, hidden).to(dtype)
    if torch_only:
        return reference, None
    import gpurnn.torch
    return reference, gpurnn.torch.from_torch(reference).to(dtype)


def make_work(module, x, lengths, packed, mode, dy):
    """A function running one timed iteration of `mode` on `module`."""
    def inputs():
        if packed:
            return pack_padded_sequence(x, lengths, enforce_sorted=False)
        return x

    if mode == "infer":
        def work():
            with torch.no_grad():
                module(inputs())
        return work

    def work():
        module.zero_grad(set_to_none=True)
        x.grad = None
        out = module(inputs())[0]
        y = out.data if packed else out
        (y * dy[: y.numel()].view_as(y)).sum().backward()
    return work


def time_once(work, min_time):
    work()  # warm-up
    n, start = 0, time.perf_counter()
    while True:
        work()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and n >= 3:
            return elapsed / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", nargs="+", default=["lstm"], choices=["lstm", "gru"])
    ap.add_argument("--hidden", nargs="+", type=int, default=[256, 512])
    ap.add_argument("--batch", nargs="+", type=int, default=[1, 32])
    ap.add_argument("--steps", type=int, default=100, help="sequence length T (default 100)")
    ap.add_argument("--input-size", type=int, default=0, help="I (default: H)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per module (default 5)")
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition")
    ap.add_argument("--threads", type=int, default=0, help="threads of both (default: every core)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                    help="the modules' and inputs' dtype (default float32)")
    ap.add_argument("--torch-only", action="store_true",
                    help="time torch.nn alone, without importing gpurnn (which sets the "
                         "process's OpenBLAS threads): a check that gpurnn's presence does "
                         "not change torch's rows")
    args = ap.parse_args()
    for name in ("steps", "reps"):
        if getattr(args, name) < 1:
            sys.exit(f"torch_module_bench: --{name.replace('_', '-')} must be at least 1")
    if args.min_time <= 0:
        sys.exit("torch_module_bench: --min-time must be positive")
    torch.set_num_threads(args.threads or os.cpu_count())  # gpurnn.torch follows torch's count

    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)
    rows = []
    version = "not loaded" if args.torch_only else __import__("gpurnn").__version__
    print(f"# torch {torch.__version__}, gpurnn {version}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"threads {torch.get_num_threads()}, {args.dtype}, T={args.steps}, {args.reps} reps of "
          f">= {args.min_time} s", flush=True)
    print("| cell | mode | input | H | B | torch us/step | gpurnn us/step | torch/gpurnn (min-max) |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    for cell in args.cells:
        for hidden in args.hidden:
            input_size = args.input_size or hidden
            reference, ours = make_pair(cell, hidden, input_size, args.torch_only, dtype)
            for batch in args.batch:
                x = torch.randn(args.steps, batch, input_size, dtype=dtype, requires_grad=True)
                lengths = torch.randint(args.steps // 2, args.steps + 1, (batch,))
                lengths[0] = args.steps
                dy = torch.randn(args.steps * batch * hidden, dtype=dtype)
                for mode in ("infer", "fwd_bwd"):
                    for packed in (False, True):
                        works = [make_work(m, x, lengths, packed, mode, dy)
                                 for m in (reference, ours) if m is not None]
                        times = [[] for _ in works]
                        for _ in range(args.reps):
                            for i, work in enumerate(works):
                                times[i].append(time_once(work, args.min_time) / args.steps * 1e6)
                        if args.torch_only:
                            times.append([float("nan")] * args.reps)
                        ratios = [a / b for a, b in zip(*times)]
                        row = dict(cell=cell, mode=mode, input="packed" if packed else "padded",
                                   H=hidden, B=batch, T=args.steps,
                                   torch_us_per_step=statistics.median(times[0]),
                                   gpurnn_us_per_step=statistics.median(times[1]),
                                   ratio_median=statistics.median(ratios),
                                   ratio_min=min(ratios), ratio_max=max(ratios))
                        rows.append(row)
                        print(f"| {cell} | {mode} | {row['input']} | {hidden} | {batch} | "
                              f"{row['torch_us_per_step']:.1f} | {row['gpurnn_us_per_step']:.1f} | "
                              f"{row['ratio_median']:.2f} ({row['ratio_min']:.2f}-"
                              f"{row['ratio_max']:.2f}) |", flush=True)
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"torch": torch.__version__, "gpurnn": version, "dtype": args.dtype,
                       "threads": torch.get_num_threads(), "rows": rows}, f, indent=1)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
