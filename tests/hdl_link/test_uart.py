"""UART receiver and transmitter in the Amaranth simulator: bytes, framing errors, a byte
at the wrong baud, and a loopback of the transmitter into the receiver."""

from __future__ import annotations

import pytest
from amaranth.hdl import Module
from amaranth.sim import Simulator
from uart_bits import recv_byte, send_byte

from hdl.link.uart_rx import UartRx
from hdl.link.uart_tx import UartTx

DIV = 6


def _run(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def _collector(dut, got, errors):
    async def collect(ctx):
        async for _, _, valid, data, error in ctx.tick().sample(
            dut.bytes.valid, dut.bytes.payload, dut.error
        ):
            if valid:
                got.append(data)
            if error:
                errors.append(len(got))

    return collect


def test_rx_bytes_framing_error_and_wrong_baud():
    dut = UartRx(DIV)
    got, errors = [], []

    async def bench(ctx):
        for byte in (0x00, 0x55, 0xA3, 0xFF):
            await send_byte(ctx, dut.rx, byte, DIV)
        await send_byte(ctx, dut.rx, 0x42, DIV, stop=0)  # framing error: nothing delivered
        await ctx.tick().repeat(3 * DIV)
        await send_byte(ctx, dut.rx, 0x37, DIV)
        # a byte at half the rate: garbage or an error, but the next byte is clean again
        await send_byte(ctx, dut.rx, 0x00, 2 * DIV)
        await ctx.tick().repeat(12 * DIV)
        mark = len(got)
        await send_byte(ctx, dut.rx, 0x81, DIV)
        await ctx.tick().repeat(2 * DIV)
        assert got[mark:] == [0x81]

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_process(_collector(dut, got, errors))
    sim.add_testbench(bench)
    sim.run()
    assert got[:5] == [0x00, 0x55, 0xA3, 0xFF, 0x37]
    assert errors[0] == 4  # the framing error came after the fourth byte
    assert len(errors) == 2  # the slow 0x00's stop bit is low at our rate: a second error


def test_rx_ignores_a_glitch():
    dut = UartRx(DIV)
    got, errors = [], []

    async def bench(ctx):
        ctx.set(dut.rx, 0)
        await ctx.tick()
        ctx.set(dut.rx, 1)
        await ctx.tick().repeat(12 * DIV)
        await send_byte(ctx, dut.rx, 0x5A, DIV)
        await ctx.tick().repeat(2 * DIV)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_process(_collector(dut, got, errors))
    sim.add_testbench(bench)
    sim.run()
    assert got == [0x5A] and errors == []


def test_tx_waveform():
    dut = UartTx(DIV)
    sent = [0x00, 0xFF, 0x5A, 0x01]
    received = []

    async def driver(ctx):
        for byte in sent:
            ctx.set(dut.bytes.payload, byte)
            ctx.set(dut.bytes.valid, 1)
            await ctx.tick().until(dut.bytes.ready)
        ctx.set(dut.bytes.valid, 0)

    async def line(ctx):
        for _ in sent:
            received.append(await recv_byte(ctx, dut.tx, DIV))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_process(driver)
    sim.add_testbench(line)
    sim.run()
    assert received == sent


@pytest.mark.parametrize("divisor", [4, 7])
def test_loopback(divisor):
    m = Module()
    m.submodules.tx = tx = UartTx(divisor)
    m.submodules.rx = rx = UartRx(divisor)
    m.d.comb += rx.rx.eq(tx.tx)
    data = list(range(0, 256, 37)) + [0, 255]
    got = []

    async def bench(ctx):
        for byte in data:
            ctx.set(tx.bytes.payload, byte)
            ctx.set(tx.bytes.valid, 1)
            await ctx.tick().until(tx.bytes.ready)
        ctx.set(tx.bytes.valid, 0)
        await ctx.tick().repeat(12 * divisor)

    async def collect(ctx):
        async for _, _, valid, byte, error in ctx.tick().sample(rx.bytes.valid, rx.bytes.payload, rx.error):
            assert not error
            if valid:
                got.append(byte)

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_process(collect)
    sim.add_testbench(bench)
    sim.run()
    assert got == data
