"""The boards a core can be built for, and what each build produces.

Bitstream targets use the open flow (yosys + nextpnr + icepack/ecppack) through their
amaranth-boards platform; the Xilinx targets (NeuroCoreX's family) produce Verilog and an
XDC file that a user finishes with Vivado, since there is no open place and route for
them on PyPI.
"""

from __future__ import annotations

from dataclasses import dataclass

from snn.errors import NetworkError


@dataclass(frozen=True)
class Board:
    """One build target.

    ``platform`` is ``"module:Class"`` of its amaranth-boards platform (imported only
    when built); ``family`` is ``ice40``/``ecp5`` for the open flow or ``xilinx`` for a
    Verilog + XDC export; ``clock_hz`` the board oscillator; ``programmer`` the
    openFPGALoader board name; ``credits`` the request frames the link buffers (its
    request ring holds that many longest payloads); ``lanes`` the ``CoreSpec.lanes`` a
    build uses unless the CoreSpec names it: the fastest that fits the default core (the
    UP5K has no cells or block RAM left for a second lane; a wide core of 16 lanes takes
    about 100 DSPs, of 8 about 55).
    """

    name: str
    platform: str
    family: str
    device: str
    clock_hz: int
    programmer: str
    description: str
    credits: int = 2
    lanes: int = 1

    def platform_class(self):
        """The amaranth-boards platform class."""
        import importlib

        module, cls = self.platform.split(":")
        return getattr(importlib.import_module(module), cls)

    @property
    def bitstream(self) -> bool:
        """Whether the open flow builds a bitstream for this board."""
        return self.family in ("ice40", "ecp5")


BOARDS = {
    b.name: b
    for b in (
        Board(
            "icebreaker",
            "amaranth_boards.icebreaker:ICEBreakerPlatform",
            "ice40",
            "iCE40UP5K-SG48",
            12_000_000,
            "icebreaker",
            "1BitSquared iCEBreaker (iCE40 UP5K: 5,280 LCs, 30 EBR, 4 SPRAM, 8 DSP), 12 MHz",
            # one frame in flight: the default core's request ring in 2 block RAMs, not 4
            credits=1,
        ),
        Board(
            "ice40-hx8k-evn",
            "amaranth_boards.ice40_hx8k_b_evn:ICE40HX8KBEVNPlatform",
            "ice40",
            "iCE40HX8K-CT256",
            12_000_000,
            "ice40_generic",
            "Lattice iCE40-HX8K breakout (7,680 LCs, 32 EBR, no DSP), 12 MHz",
        ),
        Board(
            "ulx3s-85f",
            "amaranth_boards.ulx3s:ULX3S_85F_Platform",
            "ecp5",
            "LFE5U-85F-6BG381C",
            25_000_000,
            "ulx3s",
            "Radiona ULX3S 85F (ECP5: 84k LUTs, 208 EBR, 156 DSP), 25 MHz",
            lanes=8,  # (16 lanes place, but nextpnr's router2 stalls at ~900 overused wires)
        ),
        Board(
            "ulx3s-45f",
            "amaranth_boards.ulx3s:ULX3S_45F_Platform",
            "ecp5",
            "LFE5U-45F-6BG381C",
            25_000_000,
            "ulx3s",
            "Radiona ULX3S 45F (ECP5: 44k LUTs, 108 EBR, 72 DSP), 25 MHz",
            lanes=8,  # (16 lanes take ~101 DSPs of its 72)
        ),
        Board(
            "ulx3s-25f",
            "amaranth_boards.ulx3s:ULX3S_25F_Platform",
            "ecp5",
            "LFE5U-25F-6BG381C",
            25_000_000,
            "ulx3s",
            "Radiona ULX3S 25F (ECP5: 24k LUTs, 56 EBR, 28 DSP), 25 MHz",
            lanes=2,
        ),
        Board(
            "cmod-a7-35",
            "amaranth_boards.cmod_a7:CmodA7_35Platform",
            "xilinx",
            "xc7a35tcpg236-1",
            12_000_000,
            "cmoda7_35t",
            "Digilent Cmod A7-35T (NeuroCoreX's board), 12 MHz: Verilog + XDC for Vivado",
        ),
        Board(
            "arty-a7-35",
            "amaranth_boards.arty_a7:ArtyA7_35Platform",
            "xilinx",
            "xc7a35ticsg324-1L",
            100_000_000,
            "arty_a7_35t",
            "Digilent Arty A7-35T, 100 MHz: Verilog + XDC for Vivado",
        ),
    )
}


def get(name: str) -> Board:
    """The board called ``name``, or a one-line error listing the known ones."""
    try:
        return BOARDS[name]
    except KeyError:
        raise NetworkError(f"unknown board {name!r}; known boards: {', '.join(BOARDS)}") from None
