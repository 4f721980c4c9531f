"""CRC-16/XMODEM in gateware, one byte per clock cycle.

The same CRC as :func:`firmware_host.framing.crc16` (``binascii.crc_hqx``: polynomial
0x1021, initial value 0, no reflection, no final XOR; check value
:data:`firmware_host.protocol.CRC_CHECK`). The CRC travels most significant byte first,
so the CRC register over a whole good frame ends at 0.
"""

from functools import cache, reduce
from operator import xor

from amaranth.hdl import Cat, Const, Value

POLY = 0x1021
INIT = 0


def _step(crc: int, byte: int) -> int:
    """One byte of CRC-16/XMODEM on integers (bit-serial, as the standard defines it)."""
    c = crc ^ (byte << 8)
    for _ in range(8):
        c = ((c << 1) ^ POLY if c & 0x8000 else c << 1) & 0xFFFF
    return c


@cache
def _taps() -> tuple[tuple[int, ...], ...]:
    """For each CRC bit after a byte, the bits of ``Cat(crc, byte)`` that it XORs.

    The CRC is linear over GF(2) (initial value 0, no final XOR), so the image of each
    input bit on its own gives the whole map; unrolling the shift/XOR loop instead would
    duplicate the expression at every step (3^8 terms).
    """
    cols = [_step(1 << j, 0) for j in range(16)] + [_step(0, 1 << j) for j in range(8)]
    return tuple(tuple(j for j, col in enumerate(cols) if col >> i & 1) for i in range(16))


def crc16_byte(crc: Value, byte: Value) -> Value:
    """The CRC register after ``byte`` (combinational: one XOR tree per bit)."""
    bits = Cat(crc, byte)
    return Cat(*[reduce(xor, [bits[j] for j in taps], Const(0, 1)) for taps in _taps()])
