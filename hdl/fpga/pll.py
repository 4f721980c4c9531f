"""A ``sync`` clock domain at a frequency other than the board oscillator's, from a PLL.

``plan`` picks the divider settings (the searches of icepll and ecppll, within the
datasheets' PFD and VCO ranges) and returns the frequency actually reached, which the
build then uses for the UART divisor and the timing constraint. ``pll_domain`` adds the
PLL and a ``sync`` domain held in reset until the PLL locks.
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, Const, Instance, Signal
from amaranth.lib import io
from amaranth.lib.cdc import ResetSynchronizer

from snn.errors import NetworkError


def _ice40(fin: float, fout: float) -> tuple[dict, float]:
    """SB_PLL40 (SIMPLE feedback): fout = fin (DIVF+1) / ((DIVR+1) 2^DIVQ)."""
    best = None
    for divr in range(16):
        fpfd = fin / (divr + 1)
        if not 10e6 <= fpfd <= 133e6:
            continue
        for divf in range(128):
            fvco = fpfd * (divf + 1)
            if not 533e6 <= fvco <= 1066e6:
                continue
            for divq in range(1, 7):
                f = fvco / (1 << divq)
                if best is None or abs(f - fout) < abs(best[1] - fout):
                    # the loop filter's range follows the PFD frequency (iCE40 sysCLOCK notes)
                    filt = next(
                        i for i, lim in enumerate((17e6, 26e6, 44e6, 66e6, 101e6, 1e12), 1) if fpfd < lim
                    )
                    best = ({"DIVR": divr, "DIVF": divf, "DIVQ": divq, "FILTER_RANGE": filt}, f)
    if best is None:
        raise NetworkError(f"no iCE40 PLL setting reaches {fout / 1e6:g} MHz from {fin / 1e6:g} MHz")
    return best


def _ecp5(fin: float, fout: float) -> tuple[dict, float]:
    """EHXPLLL, feedback from CLKOP: fout = fin CLKFB_DIV / CLKI_DIV, VCO = fout CLKOP_DIV."""
    best = None
    for idiv in range(1, 129):
        fpfd = fin / idiv
        if not 3.125e6 <= fpfd <= 400e6:
            continue
        for fbdiv in range(1, 81):
            f = fpfd * fbdiv
            if not 3.125e6 <= f <= 400e6:
                continue
            odiv = next((o for o in range(1, 129) if 400e6 <= f * o <= 800e6), None)
            if odiv is None:
                continue
            if best is None or abs(f - fout) < abs(best[1] - fout):
                best = ({"CLKI_DIV": idiv, "CLKFB_DIV": fbdiv, "CLKOP_DIV": odiv}, f)
    if best is None:
        raise NetworkError(f"no ECP5 PLL setting reaches {fout / 1e6:g} MHz from {fin / 1e6:g} MHz")
    return best


def plan(family: str, fin_hz: int, fout_hz: int) -> tuple[dict, int]:
    """``(divider settings, reached frequency in Hz)`` for ``family``'s PLL."""
    settings, f = (_ice40 if family == "ice40" else _ecp5)(fin_hz, fout_hz)
    return settings, round(f)


def pll_domain(m, platform, family: str, fin_hz: int, fout_hz: int) -> None:
    """Add a PLL from the platform's default clock and a ``sync`` domain driven by it."""
    settings, reached = plan(family, fin_hz, fout_hz)
    m.domains.sync = ClockDomain("sync")
    locked, clk_out = Signal(), Signal()
    m.d.comb += ClockSignal("sync").eq(clk_out)
    if family == "ice40":
        # the iCEBreaker's oscillator pin is the PLL's own pad: SB_PLL40_PAD takes the pin directly
        pin = platform.request(platform.default_clk, dir="-")
        m.submodules.pll = Instance(
            "SB_PLL40_PAD",
            p_FEEDBACK_PATH="SIMPLE",
            **{
                f"p_{k}": Const(v, 7 if k == "DIVF" else 4 if k == "DIVR" else 3) for k, v in settings.items()
            },
            i_PACKAGEPIN=pin,
            i_RESETB=Const(1),
            i_BYPASS=Const(0),
            o_PLLOUTGLOBAL=clk_out,
            o_LOCK=locked,
        )
    else:
        pin = platform.request(platform.default_clk, dir="-")
        m.submodules.clk_buffer = buffer = io.Buffer("i", pin)
        clk = buffer.i
        m.submodules.pll = Instance(
            "EHXPLLL",
            a_FREQUENCY_PIN_CLKI=str(fin_hz / 1e6),
            a_FREQUENCY_PIN_CLKOP=str(reached / 1e6),
            a_ICP_CURRENT="12",
            a_LPF_RESISTOR="8",
            a_MFG_ENABLE_FILTEROPAMP="1",
            a_MFG_GMCREF_SEL="2",
            p_PLLRST_ENA="DISABLED",
            p_INTFB_WAKE="DISABLED",
            p_STDBY_ENABLE="DISABLED",
            p_DPHASE_SOURCE="DISABLED",
            p_OUTDIVIDER_MUXA="DIVA",
            p_CLKOP_ENABLE="ENABLED",
            p_CLKOP_FPHASE=0,
            p_CLKOP_CPHASE=settings["CLKOP_DIV"] - 1,
            p_FEEDBK_PATH="CLKOP",
            **{f"p_{k}": v for k, v in settings.items()},
            i_CLKI=clk,
            i_CLKFB=clk_out,
            i_RST=Const(0),
            i_STDBY=Const(0),
            i_PHASESEL0=Const(0),
            i_PHASESEL1=Const(0),
            i_PHASEDIR=Const(1),
            i_PHASESTEP=Const(1),
            i_PHASELOADREG=Const(1),
            i_PLLWAKESYNC=Const(0),
            i_ENCLKOP=Const(0),
            o_CLKOP=clk_out,
            o_LOCK=locked,
        )
    platform.add_clock_constraint(clk_out, reached)
    m.submodules.reset_sync = ResetSynchronizer(~locked, domain="sync")
