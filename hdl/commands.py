"""The core's internal command interface: layouts of the command and response streams.

A later UART/frame layer turns host frames into these commands. ``Op.WRITE``/``Op.READ``
address a word by ``(region, index)`` of :mod:`firmware_host.memory_map`; ``Op.INPUT``
queues one input spike (``data`` = input index) for the next timestep; ``Op.STEP``
runs ``data`` timesteps, ``Op.RUN`` runs until ``Op.HALT``; ``Op.RESET_STATE`` puts
every neuron at ``v_init`` with zero currents, counters, traces and accumulators.

Every timestep answers with one ``Resp.SPIKE`` per spiking neuron (``index`` = neuron,
``data`` = step number) and then ``Resp.STEP_DONE`` (``data`` = step number); a read
answers ``Resp.READ_DATA`` (``data`` = the word, sign-extended when signed).

``pack_command``/``unpack_response`` give the integer encoding of a payload (as on the
Verilog ports ``cmd__payload``/``resp__payload``).
"""

from __future__ import annotations

import enum
from functools import cache

from amaranth.hdl import unsigned
from amaranth.lib import data

from firmware_host.memory_map import Region, region_size
from snn.core_spec import CoreSpec


class Op(enum.IntEnum):
    """Command opcodes."""

    NOP = 0
    WRITE = 1
    READ = 2
    STEP = 3
    RUN = 4
    HALT = 5
    RESET_STATE = 6
    INPUT = 7


class Resp(enum.IntEnum):
    """Response kinds."""

    READ_DATA = 0
    SPIKE = 1
    STEP_DONE = 2


DATA_BITS = 32


def index_bits(spec: CoreSpec) -> int:
    """Bits of the ``index`` field: enough for the largest region."""
    return max(region_size(spec, r) for r in Region).bit_length()


@cache
def command_layout(spec: CoreSpec) -> data.StructLayout:
    """Payload of the command stream."""
    return data.StructLayout(
        {
            "op": unsigned(3),
            "region": unsigned(4),
            "index": unsigned(index_bits(spec)),
            "data": unsigned(DATA_BITS),
        }
    )


@cache
def response_layout(spec: CoreSpec) -> data.StructLayout:
    """Payload of the response stream."""
    return data.StructLayout(
        {"kind": unsigned(2), "index": unsigned(index_bits(spec)), "data": unsigned(DATA_BITS)}
    )


@cache
def _fields(layout: data.StructLayout) -> tuple[tuple[str, int, int], ...]:
    """``(name, offset, mask)`` of every field (plain ints: packing runs once per command)."""
    return tuple((name, field.offset, (1 << field.width) - 1) for name, field in layout)


def _pack(layout: data.StructLayout, values: dict[str, int]) -> int:
    word = 0
    for name, offset, mask in _fields(layout):
        word |= (int(values.get(name, 0)) & mask) << offset
    return word


def _unpack(layout: data.StructLayout, word: int) -> dict[str, int]:
    return {name: (word >> offset) & mask for name, offset, mask in _fields(layout)}


def pack_command(spec: CoreSpec, op: Op, region: int = 0, index: int = 0, data: int = 0) -> int:
    """The integer payload of one command (``data`` may be negative: two's complement)."""
    return _pack(command_layout(spec), {"op": op, "region": region, "index": index, "data": data})


def unpack_response(spec: CoreSpec, word: int) -> tuple[Resp, int, int]:
    """``(kind, index, data)`` of a response payload."""
    f = _unpack(response_layout(spec), word)
    return Resp(f["kind"]), f["index"], f["data"]
