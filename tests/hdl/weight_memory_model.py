"""Random access sequences for :class:`hdl.weight_memory.WeightMemory` and their expected read
data (a Python model), shared by the Amaranth and the cocotb/Icarus tests."""

from __future__ import annotations

import random

from hdl.weight_memory import banked


def bank(addr: int, stride: int | None) -> int:
    """The bank of ``addr``: row parity xor column parity with two banks, else 0."""
    if not banked(stride):
        return 0
    return (addr ^ (addr >> (stride.bit_length() - 1))) & 1


def sequence(depth: int, width: int, cycles: int, seed: int, stride: int | None = None, pair: bool = False):
    """``(op, addr, data, raddr)`` per cycle: ``op`` is ``"w"`` (write ``addr``, ``rd.en`` low),
    ``"r"`` (read ``raddr``), ``"x"`` (write ``addr`` and read ``raddr`` in the other bank, two
    banks only), ``"c"`` (write ``addr`` and read ``raddr`` in the same bank: the read is lost)
    or ``"-"`` (neither); with ``pair``, also ``"p"`` (a pair read of ``raddr``: the weights
    ``2 raddr`` and ``2 raddr + 1``). Reads go to written addresses only (SPRAM starts
    undefined); addresses are all over the range, often the other weight of a word just written."""
    rng = random.Random(seed)
    written: list[int] = []
    ops = []
    last = 0
    mask = (1 << max(1, (depth - 1).bit_length())) - 1
    for _ in range(cycles):
        roll = rng.random()
        if roll < 0.45 or not written:
            if rng.random() < 0.4:
                addr = min(depth - 1, last ^ 1)  # the neighbour in the same SPRAM word
            elif banked(stride) and rng.random() < 0.3:
                addr = min(depth - 1, last ^ stride)  # the same column's next row
            else:
                addr = rng.randrange(depth)
            op, raddr = "w", (addr + 1) & mask
            if written and rng.random() < 0.5:
                other = [a for a in written[-20:] if bank(a, stride) != bank(addr, stride)]
                same = [a for a in written[-20:] if bank(a, stride) == bank(addr, stride)]
                if other:
                    op, raddr = "x", rng.choice(other)
                elif same:
                    op, raddr = "c", rng.choice(same)
            ops.append((op, addr, rng.randrange(1 << width), raddr))
            written.append(addr)
            last = addr
        elif pair and roll < 0.6 and any(a ^ 1 in written for a in written[-20:]):
            addr = rng.choice([a for a in written[-20:] if a ^ 1 in written])
            ops.append(("p", addr, 0, addr >> 1))
        elif roll < 0.9:
            addr = rng.choice(written)
            ops.append(("r", addr, rng.randrange(1 << width), addr))
        else:
            addr = rng.randrange(depth)
            ops.append(("-", addr, rng.randrange(1 << width), addr))
    return ops


def expected(ops, width: int = 8) -> list[int | None]:
    """Read data after each cycle (``None``: unspecified: a read lost to a write); after a
    pair read (``"p"``), the pair port's data (two ``width``-bit weights)."""
    mem: dict[int, int] = {}
    out: list[int | None] = []
    data = None
    for op, addr, value, raddr in ops:
        if op == "p":
            out.append(mem[2 * raddr] | mem[2 * raddr + 1] << width)
            data = None  # the single read port's data is unspecified after it
            continue
        if op == "r":
            data = mem[raddr]
        elif op == "x":
            data = mem[raddr]  # the other bank: read beside the write
        elif op in ("w", "c"):
            data = None  # the written bank's data is unspecified
        if op in ("w", "x", "c"):
            mem[addr] = value
        out.append(data)  # "-": the read port holds its data
    return out
