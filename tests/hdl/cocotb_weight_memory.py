"""cocotb test module: a WeightMemory's Verilog (SPRAM branch or Memory) under Icarus.

Driven by ``test_hdl_weight_memory.py``: the access sequence and the expected read data
come in ``SNN_WM_OPS`` / ``SNN_WM_EXPECTED`` (JSON).
"""

from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


@cocotb.test()
async def random_access(dut):
    """Every cycle's read data equals the model's where the model specifies it."""
    ops = json.loads(os.environ["SNN_WM_OPS"])
    want = json.loads(os.environ["SNN_WM_EXPECTED"])
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.wr__en.value = 0
    dut.rd__en.value = 0
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    pair = hasattr(dut, "rdp__en")
    shared = hasattr(dut, "wr_busy")
    errors = []
    for t, ((op, addr, value, raddr), expect) in enumerate(zip(ops, want, strict=True)):
        await FallingEdge(dut.clk)
        dut.wr__en.value = op in ("w", "x", "c")
        dut.wr__addr.value = addr
        dut.wr__data.value = value
        dut.rd__en.value = op in ("r", "x", "c")
        # a write cycle's read address differs on purpose: the write must win its bank
        dut.rd__addr.value = raddr
        if shared:  # the other matrix writes nothing here: busy when this one writes
            dut.wr_busy.value = op in ("w", "x", "c")
        if pair:
            dut.rdp__en.value = op == "p"
            dut.rdp__addr.value = raddr if op == "p" else 0
        await RisingEdge(dut.clk)
        await ReadOnly()
        if expect is not None:
            got = dut.rdp__data.value if op == "p" else dut.rd__data.value
            if not got.is_resolvable or int(got) != expect:
                errors.append(f"cycle {t} {op} {addr}: read {got}, expected {expect}")
    assert not errors, f"{len(errors)} mismatches, first: {errors[:5]}"
