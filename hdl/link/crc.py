"""CRC-16/XMODEM in gateware, one byte per clock cycle.

The same CRC as :func:`firmware_host.framing.crc16` (``binascii.crc_hqx``: polynomial
0x1021, initial value 0, no reflection, no final XOR; check value
:data:`firmware_host.protocol.CRC_CHECK`). The CRC travels most significant byte first,
so the CRC register over a whole good frame ends at 0.
"""

from amaranth.hdl import Mux, Value

POLY = 0x1021
INIT = 0


def crc16_byte(crc: Value, byte: Value) -> Value:
    """The CRC register after ``byte`` (combinational: eight unrolled shift/XOR steps)."""
    c = (crc ^ (byte << 8))[:16]
    for _ in range(8):
        c = Mux(c[15], (c << 1) ^ POLY, c << 1)[:16]
    return c
