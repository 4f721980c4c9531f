"""Synthesis, place and route of a small core with the open toolchain (YoWASP from PyPI).

One ECP5 build (8 x 8 with STDP, a wide core of 4 lanes: skewed weight banks, matrix
engines, pipelined neuron engine; through a PLL) and one iCE40 UP5K build (the default
core: 256 x 256 with STDP, weights in all four SPRAMs, ~98 % of the logic cells and all
30 block RAMs) must give bitstreams (see docs/hardware-build.md). About 1 to 2 minutes each, the first YoWASP call
of each tool compiling WebAssembly (cached afterwards).
"""

import dataclasses

import pytest

from hdl.fpga import toolchain
from hdl.fpga.boards import get
from hdl.fpga.flow import build
from snn.core_spec import CoreSpec

SMALL = CoreSpec(max_inputs=8, max_neurons=8)


def needs(family):
    lacking = toolchain.missing(family)
    return pytest.mark.skipif(
        bool(lacking), reason=f"{', '.join(lacking)} not installed: `bash scripts/test.sh` installs them"
    )


@pytest.mark.slow(seconds=150)
@needs("ecp5")
def test_ecp5_bitstream_through_a_pll(tmp_path):
    # 30 MHz from the ULX3S's 25 MHz oscillator: exercises the EHXPLLL path
    # (the 25F's 28 DSPs are one short of four lanes' 24 and the neuron engine's 5)
    wide = dataclasses.replace(SMALL, lanes=4)
    result = build(wide, get("ulx3s-45f"), tmp_path, baud=1_000_000, clock_hz=30_000_000)
    assert result.error is None, result.error
    assert result.bitstream.stat().st_size > 100_000
    report = result.report
    assert report.fits()
    assert 1_000 < report.used("logic") < report.available("logic") == 43848
    assert 500 < report.ffs < 10_000
    assert report.used("pll") == 1
    assert report.used("dsp") >= 2 * 4  # each lane's products
    assert report.target_mhz == pytest.approx(30, abs=0.5)
    assert 10 < report.fmax_mhz < 500


@pytest.mark.slow(seconds=270)
@needs("ice40")
def test_ice40_up5k_bitstream_for_the_default_core(tmp_path):
    result = build(CoreSpec(), get("icebreaker"), tmp_path)
    assert result.error is None, result.error
    assert result.bitstream.stat().st_size > 100_000
    report = result.report
    assert report.available("logic") == 5280 and report.available("spram") == 4
    assert report.fits() and 2_000 < report.used("logic") <= 5280
    assert report.used("spram") == 4  # 256 x 256 x 8 bits twice: two SPRAMs per matrix
    assert report.target_mhz == pytest.approx(12, abs=0.1)
    assert report.fmax_mhz > 12  # meets the iCEBreaker's oscillator
