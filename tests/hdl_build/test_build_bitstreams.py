"""Synthesis, place and route of a small core with the open toolchain (YoWASP from PyPI).

One ECP5 build must give a bitstream; the iCE40 UP5K build gives a bitstream or, while
the core + link need more logic than the UP5K has, a parsed report that names the
overflow (see docs/hardware-build.md). About 1 to 2 minutes each, the first YoWASP call
of each tool compiling WebAssembly (cached afterwards).
"""

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


@pytest.mark.slow
@needs("ecp5")
def test_ecp5_bitstream_through_a_pll(tmp_path):
    # 30 MHz from the ULX3S's 25 MHz oscillator: exercises the EHXPLLL path
    result = build(SMALL, get("ulx3s-25f"), tmp_path, baud=1_000_000, clock_hz=30_000_000)
    assert result.error is None, result.error
    assert result.bitstream.stat().st_size > 100_000
    report = result.report
    assert report.fits()
    assert 1_000 < report.used("logic") < report.available("logic") == 24288
    assert 500 < report.ffs < 10_000
    assert report.used("pll") == 1
    assert report.target_mhz == pytest.approx(30, abs=0.5)
    assert 10 < report.fmax_mhz < 500


@pytest.mark.slow
@needs("ice40")
def test_ice40_up5k_build_is_reported(tmp_path):
    result = build(CoreSpec(max_inputs=8, max_neurons=8, stdp=False), get("icebreaker"), tmp_path)
    report = result.report
    assert report.available("logic") == 5280 and report.available("spram") == 4
    assert report.used("logic") > 1_000 and report.luts > 1_000
    if result.bitstream is not None:
        assert result.bitstream.stat().st_size > 10_000 and report.fits()
    else:
        assert "ICESTORM_LC" in report.overflow() and result.error
