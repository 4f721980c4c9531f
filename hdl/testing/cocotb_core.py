"""cocotb test module: the exported Verilog of the whole core under Icarus.

Driven by ``cocotb_run.run_cocotb``, which passes the core's spec and the cases to run in
the environment (``SNN_HDL_SPEC``, ``SNN_HDL_CASES``, JSON) and reads the results back
from ``SNN_HDL_RESULTS`` (a JSON file: per case, the cycles of every step).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotb.utils import get_sim_time

from hdl.commands import Op
from hdl.driver import CoreSession
from hdl.testing.conformance import load_case, run_network
from snn.core_spec import CoreSpec

PERIOD_NS = 10


class Timed(CoreSession):
    """A session that records the clock cycles of every step (STEP sent to STEP_DONE)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.step_cycles: list[int] = []
        self.step_events: list[tuple[list[int], list[int]]] = []

    async def step(self, inputs=()):
        inputs = list(inputs)
        for i in inputs:
            await self.command(Op.INPUT, data=int(i))
        t0 = get_sim_time("ns")
        await self.command(Op.STEP, data=1)
        out = await self.step_result()
        self.step_cycles.append(round((get_sim_time("ns") - t0) / PERIOD_NS))
        self.step_events.append((sorted(out[1]), [int(i) for i in inputs]))
        return out


@cocotb.test()
async def conformance(dut):
    """Every case of SNN_HDL_CASES: identical spikes, state and weights to the simulator."""
    spec = CoreSpec.from_dict(json.loads(os.environ["SNN_HDL_SPEC"]))
    cases = json.loads(os.environ["SNN_HDL_CASES"])
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    dut.rst.value = 1
    dut.cmd__valid.value = 0
    dut.resp__ready.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0

    async def send(word):
        dut.cmd__payload.value = word
        dut.cmd__valid.value = 1
        while True:
            await RisingEdge(dut.clk)
            if dut.cmd__ready.value:
                break
        dut.cmd__valid.value = 0

    async def recv():
        dut.resp__ready.value = 1
        while True:
            if not dut.resp__valid.value:
                await RisingEdge(dut.resp__valid)  # let a long step run without waking Python
            await RisingEdge(dut.clk)
            if dut.resp__valid.value:
                word = int(dut.resp__payload.value)
                break
        dut.resp__ready.value = 0
        return word

    results = []
    for case in cases:
        network, quantized = load_case(case)
        session = Timed(spec, send, recv)
        counts = await run_network(
            session, network, quantized, case["steps"], check_every=case.get("check_every", 1)
        )
        dut._log.info(f"case {case}: ok, {counts}")
        results.append({"case": case, "cycles": session.step_cycles, "events": session.step_events, **counts})
    Path(os.environ["SNN_HDL_RESULTS"]).write_text(json.dumps(results))
