"""Testbench helpers: bytes as UART (8N1) waveforms on a pin, and back."""

from __future__ import annotations


async def send_byte(ctx, pin, byte: int, divisor: int, *, stop: int = 1) -> None:
    """Drive one 8N1 byte on ``pin`` (``stop=0``: a framing error)."""
    for level in [0, *((byte >> i) & 1 for i in range(8)), stop]:
        ctx.set(pin, level)
        await ctx.tick().repeat(divisor)
    ctx.set(pin, 1)


async def recv_byte(ctx, pin, divisor: int, *, limit: int = 100_000) -> int:
    """Wait for a start bit on ``pin`` and sample the byte in the middle of each bit."""
    for _ in range(limit):
        if not ctx.get(pin):
            break
        await ctx.tick()
    else:
        raise TimeoutError("no start bit")
    await ctx.tick().repeat(divisor // 2)
    assert ctx.get(pin) == 0, "start bit too short"
    value = 0
    for i in range(8):
        await ctx.tick().repeat(divisor)
        value |= ctx.get(pin) << i
    await ctx.tick().repeat(divisor)
    assert ctx.get(pin) == 1, "stop bit low"
    return value
