"""Random single-port access sequences for :class:`hdl.weight_memory.WeightMemory` and their
expected read data (a Python model), shared by the Amaranth and the cocotb/Icarus tests."""

from __future__ import annotations

import random


def sequence(depth: int, width: int, cycles: int, seed: int) -> list[tuple[str, int, int]]:
    """``(op, addr, data)`` per cycle: ``op`` is ``"w"`` (write), ``"r"`` (read) or ``"-"``
    (neither: ``rd.en`` low). Reads go to written addresses only (SPRAM starts undefined);
    addresses are all over the range, often the other weight of a word just written."""
    rng = random.Random(seed)
    written: list[int] = []
    ops = []
    last = 0
    for _ in range(cycles):
        roll = rng.random()
        if roll < 0.45 or not written:
            if rng.random() < 0.4:
                addr = min(depth - 1, last ^ 1)  # the neighbour in the same SPRAM word
            else:
                addr = rng.randrange(depth)
            ops.append(("w", addr, rng.randrange(1 << width)))
            written.append(addr)
            last = addr
        elif roll < 0.9:
            ops.append(("r", rng.choice(written), rng.randrange(1 << width)))
        else:
            ops.append(("-", rng.randrange(depth), rng.randrange(1 << width)))
    return ops


def expected(ops: list[tuple[str, int, int]]) -> list[int | None]:
    """Read data after each cycle (``None``: unspecified, after a write cycle)."""
    mem: dict[int, int] = {}
    out: list[int | None] = []
    data = None
    for op, addr, value in ops:
        if op == "w":
            mem[addr] = value
            data = None  # the read of a write cycle is lost
        elif op == "r":
            data = mem[addr]
        out.append(data)  # "-": the read port holds its data
    return out
