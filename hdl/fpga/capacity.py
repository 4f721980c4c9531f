"""A check before synthesis: do the weight memories fit the device at all?

yosys maps a memory too large for the block RAM to flip-flops, which for the default
core (1 Mbit of weights) means hours of synthesis before nextpnr says it does not fit.
This check refuses such a build at once, with the numbers. On the iCE40 UP the weights
go to SPRAM (:mod:`hdl.weight_memory`: 16k x 16 per SB_SPRAM256KA, two 8-bit weights
per word, each matrix in whole SPRAMs); elsewhere to block RAM.
"""

from __future__ import annotations

from dataclasses import replace

from hdl.weight_memory import is_ice40_up, spram_count
from snn.core_spec import CoreSpec

from .boards import Board

# block RAM bits per device (EBR: iCE40 4 kbit, ECP5 18 kbit), for the families we place
BLOCK_RAM_BITS = {
    "iCE40UP5K-SG48": 30 * 4096,
    "iCE40HX8K-CT256": 32 * 4096,
    "LFE5U-25F-6BG381C": 56 * 18432,
    "LFE5U-45F-6BG381C": 108 * 18432,
    "LFE5U-85F-6BG381C": 208 * 18432,
}
# single-port RAMs (SB_SPRAM256KA, 16k x 16) per device
SPRAMS = {"iCE40UP5K-SG48": 4}


def weight_bits(spec: CoreSpec) -> int:
    """Bits of the FF (``K x N``) and REC (``N x N``) weight memories."""
    k, n = spec.max_inputs, spec.max_neurons
    return (k * n + n * n) * spec.weight_bits


def sprams_needed(spec: CoreSpec) -> int:
    """SPRAMs the two weight matrices take (each matrix in whole SPRAMs)."""
    n = spec.max_neurons
    return sum(spram_count(rows * n, spec.weight_bits, n) for rows in (spec.max_inputs, n))


def uses_spram(board: Board) -> bool:
    """Whether ``board``'s builds put the weights in SPRAM (as :class:`hdl.weight_memory.WeightMemory` decides)."""
    return is_ice40_up(board)


def largest_square(spec: CoreSpec, bits: int) -> int:
    """The largest power-of-two ``K = N`` whose weights take at most half of ``bits``
    (the other memories and the packing losses take the rest)."""
    n = 1
    while 2 * (2 * n) ** 2 * spec.weight_bits <= bits // 2:
        n *= 2
    return n


def largest_square_spram(spec: CoreSpec, sprams: int) -> int:
    """The largest power-of-two ``K = N`` whose weights fit ``sprams`` SPRAMs."""
    n = 1
    while sprams_needed(_square(spec, 2 * n)) <= sprams:
        n *= 2
    return n


def _square(spec: CoreSpec, n: int) -> CoreSpec:
    return replace(spec, max_inputs=n, max_neurons=n)


def weight_problem(spec: CoreSpec, board: Board) -> str | None:
    """A one-line reason why ``spec``'s weights cannot fit ``board``, or ``None``."""
    if uses_spram(board):
        have, need = SPRAMS[board.device], sprams_needed(spec)
        if need <= have:
            return None
        n = largest_square_spram(spec, have)
        return (
            f"the weights need {need} SPRAMs (16k x 16), {board.device} has {have}:"
            f" a core of max_inputs = max_neurons = {n} would fit"
        )
    have = BLOCK_RAM_BITS.get(board.device)
    need = weight_bits(spec)
    if have is None or need <= have:
        return None
    n = largest_square(spec, have)
    return (
        f"the weights need {need // 1024} kbit of block RAM, {board.device} has {have // 1024} kbit"
        f" ({need / have:.1f}x): a core of about max_inputs = max_neurons = {n} would fit its block RAM"
    )


def largest_fitting_square(spec: CoreSpec, board: Board) -> int:
    """The largest power-of-two ``K = N`` whose weights fit ``board`` (SPRAM or block RAM)."""
    if uses_spram(board):
        return largest_square_spram(spec, SPRAMS[board.device])
    return largest_square(spec, BLOCK_RAM_BITS[board.device])
