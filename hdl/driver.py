"""Drive a core through its command stream, whatever simulates it.

:class:`CoreSession` speaks the commands of :mod:`hdl.commands` over two coroutines,
``send(payload)`` and ``recv() -> payload``, so the same test code runs against the
Amaranth simulator and against the exported Verilog under cocotb/Icarus.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import numpy as np

from firmware_host.memory_map import STATE_STRIDE, Control, CoreImage, NeuronState, Region, Word, word_bits
from snn.core_spec import CoreSpec

from .commands import Op, Resp, pack_command, unpack_response


class CoreSession:
    """Commands to one core: load an image, step with inputs, read state and weights."""

    def __init__(self, spec: CoreSpec, send: Callable[[int], Awaitable], recv: Callable[[], Awaitable[int]]):
        self.spec = spec
        self._send = send
        self._recv = recv

    async def command(self, op: Op, region: int = 0, index: int = 0, data: int = 0) -> None:
        """Send one command."""
        await self._send(pack_command(self.spec, op, region, index, data))

    async def write(self, region: Region, index: int, words) -> None:
        """Write consecutive words from ``index`` on."""
        for i, word in enumerate(np.asarray(words).ravel()):
            await self.command(Op.WRITE, region, index + i, int(word))

    async def read(self, region: Region, index: int, count: int = 1) -> list[int]:
        """Read ``count`` consecutive words, as signed or unsigned integers per the memory map."""
        out = []
        for i in range(count):
            await self.command(Op.READ, region, index + i)
            kind, _, value = unpack_response(self.spec, await self._recv())
            if kind is not Resp.READ_DATA:
                raise RuntimeError(f"expected READ_DATA, got {kind.name}")
            out.append(_word(value, word_bits(self.spec, region, index + i)))
        return out

    async def load(self, image: CoreImage) -> None:
        """Write every word of ``image`` and reset the state."""
        for region, index, words in image.writes():
            await self.write(region, index, words)
        await self.command(Op.RESET_STATE)
        # a read waits for the reset pass to end (and checks it cleared the step counter)
        if await self.read(Region.CONTROL, Control.STEP_COUNT) != [0]:
            raise RuntimeError("RESET_STATE did not clear the step counter")

    async def step(self, inputs=()) -> tuple[int, list[int]]:
        """Queue ``inputs``, run one step; return ``(step number, spiking neurons)``."""
        for i in inputs:
            await self.command(Op.INPUT, data=int(i))
        await self.command(Op.STEP, data=1)
        return await self.step_result()

    async def step_result(self) -> tuple[int, list[int]]:
        """Collect the replies of a STEP just sent: ``(step number, spiking neurons)``."""
        spikes = []
        while True:
            kind, index, value = unpack_response(self.spec, await self._recv())
            if kind is Resp.SPIKE:
                spikes.append(index)
            elif kind is Resp.STEP_DONE:
                return value, spikes
            else:
                raise RuntimeError(f"unexpected {kind.name} during a step")

    async def neuron_state(self, n_neurons: int) -> dict[str, np.ndarray]:
        """``v``, ``i_e``, ``i_i``, ``ref`` of neurons ``0..n_neurons-1``."""
        words = np.array(await self.read(Region.NEURON_STATE, 0, n_neurons * STATE_STRIDE), np.int64)
        words = words.reshape(n_neurons, STATE_STRIDE)
        return {f.name.lower(): words[:, f] for f in NeuronState}

    async def weights(self, region: Region, rows: int, cols: int) -> np.ndarray:
        """A dense ``rows x cols`` block of a weight matrix."""
        out = np.zeros((rows, cols), np.int64)
        for r in range(rows):
            out[r] = await self.read(region, r * self.spec.max_neurons, cols)
        return out


def _word(value: int, word: Word) -> int:
    value &= (1 << word.bits) - 1
    if word.signed and value >> (word.bits - 1):
        value -= 1 << word.bits
    return value
