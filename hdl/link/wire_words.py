"""Per-address facts of the memory map as gateware look-ups: region sizes and the wire
format of each word (bytes on the wire, which bits must be a sign extension).

Built at elaboration time from :mod:`firmware_host.memory_map` (``word_bits``,
``region_size``), so the command engine and the host agree by construction. Word widths
repeat with a record stride of 4 or 16 (CONTROL has 4 registers), so the low four bits
of the index and the region select a word's format.
"""

from amaranth.hdl import Module, Signal
from amaranth.utils import bits_for

from firmware_host.memory_map import Region, region_size, word_bits
from snn.core_spec import CoreSpec

SLOTS = 16  # every record stride divides 16


def in_range(m: Module, spec: CoreSpec, region, index, count) -> Signal:
    """``region`` exists and ``index .. index + count - 1`` lies inside it."""
    # every region is smaller than 2**bits: a larger index or count is out of range
    bits = bits_for(max(region_size(spec, r) for r in Region))
    end = Signal(bits + 1)
    m.d.comb += end.eq(index[:bits] + count[:bits])
    size, known = Signal(bits + 1), Signal()  # one compare against the region's size
    with m.Switch(region):
        for r in Region:
            with m.Case(r):
                m.d.comb += [size.eq(region_size(spec, r)), known.eq(1)]
    ok = Signal()
    m.d.comb += ok.eq(known & (index[bits:] == 0) & (count[bits:] == 0) & (end <= size))
    return ok


def word_format(m: Module, spec: CoreSpec, region, slot) -> tuple[Signal, Signal, Signal]:
    """``(nbytes, check, signed)`` of the word at ``index`` with ``slot = index % 16``.

    A word's wire value ``raw`` is valid when ``raw & check`` is 0, or, if ``signed``,
    equal to ``check`` (``check`` covers the bits above the width and the sign bit).
    """
    nbytes, check, signed = Signal(range(5)), Signal(32), Signal()
    with m.Switch(region):
        for r in Region:
            with m.Case(r):
                with m.Switch(slot):
                    for s in range(SLOTS):
                        if r is Region.CONTROL and s >= region_size(spec, r):
                            continue
                        w = word_bits(spec, r, s)
                        n = (w.bits + 7) // 8
                        above = ((1 << (8 * n)) - 1) & ~((1 << w.bits) - 1)
                        mask = above | (1 << (w.bits - 1)) if w.signed else above
                        with m.Case(s):
                            m.d.comb += [nbytes.eq(n), check.eq(mask), signed.eq(w.signed)]
    return nbytes, check, signed
