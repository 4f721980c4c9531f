"""cocotb test module: the exported Verilog of the board top under Icarus, through its
UART pins. Driven by ``test_board_verilog``, which passes the spec, the link parameters
and the request frames (hex) in the environment and the expected replies."""

from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer

PERIOD_NS = 10


@cocotb.test()
async def conversation(dut):
    """Each request frame in, bit by bit; its reply out, compared with the model's."""
    divisor = int(os.environ["SNN_LINK_DIVISOR"])
    frames = [bytes.fromhex(h) for h in json.loads(os.environ["SNN_LINK_FRAMES"])]
    want = [bytes.fromhex(h) for h in json.loads(os.environ["SNN_LINK_REPLIES"])]
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    dut.rx.value = 1
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0

    async def send(byte: int) -> None:
        for level in [0, *((byte >> i) & 1 for i in range(8)), 1]:
            dut.rx.value = level
            await Timer(divisor * PERIOD_NS, unit="ns")

    async def recv() -> int:
        await FallingEdge(dut.tx)
        await Timer(divisor * PERIOD_NS // 2, unit="ns")
        value = 0
        for i in range(8):
            await Timer(divisor * PERIOD_NS, unit="ns")
            value |= int(dut.tx.value) << i
        await Timer(divisor * PERIOD_NS, unit="ns")
        assert int(dut.tx.value) == 1, "stop bit"
        return value

    for frame, expected in zip(frames, want, strict=True):
        reply = bytearray()

        async def listen(reply: bytearray) -> None:
            while not reply.endswith(b"\x00"):
                reply.append(await recv())

        listener = cocotb.start_soon(listen(reply))
        for byte in frame:
            await send(byte)
        await listener
        assert bytes(reply) == expected, f"reply {reply.hex()} != {expected.hex()}"
        dut._log.info(f"{len(frame)} bytes in, {len(reply)} bytes out: as the model")
