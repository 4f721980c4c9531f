"""A check before synthesis: do the weight memories fit the device's block RAM at all?

yosys maps a memory too large for the block RAM to flip-flops, which for the default
core (1 Mbit of weights) means hours of synthesis before nextpnr says it does not fit.
This check refuses such a build at once, with the numbers. (The iCE40 UP5K's SPRAM is
not used: yosys does not infer it, and the core's weight memories would need the
single-port wrapper of docs/core-hardware.md.)
"""

from __future__ import annotations

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


def weight_bits(spec: CoreSpec) -> int:
    """Bits of the FF (``K x N``) and REC (``N x N``) weight memories."""
    k, n = spec.max_inputs, spec.max_neurons
    return (k * n + n * n) * spec.weight_bits


def largest_square(spec: CoreSpec, bits: int) -> int:
    """The largest power-of-two ``K = N`` whose weights take at most half of ``bits``
    (the other memories and the packing losses take the rest)."""
    n = 1
    while 2 * (2 * n) ** 2 * spec.weight_bits <= bits // 2:
        n *= 2
    return n


def weight_problem(spec: CoreSpec, board: Board) -> str | None:
    """A one-line reason why ``spec``'s weights cannot fit ``board``'s block RAM, or ``None``."""
    have = BLOCK_RAM_BITS.get(board.device)
    need = weight_bits(spec)
    if have is None or need <= have:
        return None
    n = largest_square(spec, have)
    return (
        f"the weights need {need // 1024} kbit of block RAM, {board.device} has {have // 1024} kbit"
        f" ({need / have:.1f}x): a core of about max_inputs = max_neurons = {n} would fit its block RAM"
    )
