#!/usr/bin/python3
"""Prints the PyTorch reference values that tests/train/test_optimizer_golden.cpp asserts.

Run once with Debian's python (torch 1.13): /usr/bin/python3 tests/train/make_optimizer_golden.py
and paste the output into the test. Every case starts from the same parameter and runs STEPS
updates with the gradient and learning rate of each step given by the formulas below, which the
C++ test repeats (param0, grad, lr_at); the printed values are the parameter after each step.
"""
import math

import torch

N = 6
STEPS = 4


def param0(i):
    return 0.3 * (i + 1) * (-1) ** i


def grad(step, i):
    return math.sin(1.3 * i + 0.7 * step + 0.1)


def lr_at(base, step):
    return base * (1.0 + 0.5 * step)


CASES = [
    ("sgd_plain", torch.optim.SGD, dict(lr=0.1)),
    ("sgd_momentum_wd", torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("sgd_nesterov_wd", torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)),
    ("adam_wd", torch.optim.Adam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.02)),
    ("adamw", torch.optim.AdamW, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
]


def run(cls, kwargs):
    p = torch.tensor([param0(i) for i in range(N)], dtype=torch.float64, requires_grad=True)
    opt = cls([p], **kwargs)
    out = []
    for step in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = lr_at(kwargs["lr"], step)
        p.grad = torch.tensor([grad(step, i) for i in range(N)], dtype=torch.float64)
        opt.step()
        out.append([float(v) for v in p.detach()])
    return out


def main():
    print(f"// torch {torch.__version__}, float64: parameter after each of {STEPS} steps")
    for name, cls, kwargs in CASES:
        rows = run(cls, kwargs)
        print(f"const double {name}[{STEPS}][{N}] = {{")
        for row in rows:
            print("    {" + ", ".join(repr(v) for v in row) + "},")
        print("};")


if __name__ == "__main__":
    main()
