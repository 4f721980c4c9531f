"""The board top through its UART pins, bit by bit, in the Amaranth simulator: IDENTIFY,
a write and its read-back, a step; replies equal the device model's, byte for byte."""

from __future__ import annotations

from amaranth.sim import Simulator
from uart_bits import recv_byte, send_byte

from firmware_host.device_model import DeviceModel
from firmware_host.framing import Frame
from firmware_host.memory_map import Region
from firmware_host.protocol import ADDRESS, STEP, Opcode, encode_words
from hdl.link.board_top import BoardTop
from hdl.link.params import LinkParams, identity
from snn.core_spec import CoreSpec

SPEC = CoreSpec(max_inputs=8, max_neurons=8)
PARAMS = LinkParams(clock_hz=4_000_000, baud=1_000_000, timeout_cycles=3000)  # 4 cycles per bit


def conversation() -> list[bytes]:
    """Request frames, each answered by one reply (the STEP by no spike record: nothing loaded)."""
    weights = encode_words(SPEC, Region.FF_WEIGHT, 3, [-5, 7, 0, 127])
    return [
        b"\x00" + Frame(1, Opcode.IDENTIFY).encode(),
        Frame(2, Opcode.WRITE, ADDRESS.pack(Region.FF_WEIGHT, 3, 4) + weights).encode(),
        Frame(3, Opcode.READ, ADDRESS.pack(Region.FF_WEIGHT, 2, 6)).encode(),
        Frame(4, Opcode.STEP, STEP.pack(2)).encode(),
    ]


def model_replies() -> list[bytes]:
    ident = identity(SPEC, PARAMS)
    model = DeviceModel.advertising(SPEC, ident)
    return [model.exchange(frame) for frame in conversation()]


def test_board_top_over_the_uart_pins():
    dut = BoardTop(SPEC, PARAMS)
    div = PARAMS.divisor
    got = []

    async def host(ctx):
        for frame in conversation():
            for byte in frame:
                await send_byte(ctx, dut.rx, byte, div)
            reply = bytearray()
            while not reply.endswith(b"\x00"):
                reply.append(await recv_byte(ctx, dut.tx, div, limit=20_000))
            got.append(bytes(reply))

    sim = Simulator(dut)
    sim.add_clock(1 / PARAMS.clock_hz)
    sim.add_testbench(host)
    sim.run()
    assert got == model_replies()
