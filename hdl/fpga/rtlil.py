"""Read-during-write freedom for synthesis: what Amaranth's RTLIL cannot say by itself.

A :class:`hdl.block_memory.BlockMemory` never uses a word read in a cycle that writes it
and carries Yosys's attribute ``no_rw_check`` ("a read may return don't-care on a
read/write collision"). Yosys reads that attribute only when it builds a read port from
flip-flops, never for a synchronous port such as Amaranth emits, so it would still add the
delayed write and bypass that make block RAM return the old word (iCE40 and ECP5 block
RAMs do not by themselves). :func:`mark_collision_free` sets the read ports'
``COLLISION_X_MASK`` for such memories, which is what the attribute means."""

from __future__ import annotations

import re

from hdl.block_memory import NO_RW_CHECK

_MEMORY = re.compile(
    r"^  attribute \\" + NO_RW_CHECK + r" 1\n((?:  attribute .*\n)*)  memory .* (\S+)$", re.M
)
_READ_PORT = re.compile(r"^  cell \$memrd_v2 .*?^  end$", re.M | re.S)
_MASK = re.compile(r"(parameter \\COLLISION_X_MASK )(\d+)'[01]*")


def mark_collision_free(text: str) -> str:
    """``text`` (Amaranth's RTLIL) with every read port of a ``no_rw_check`` memory marked
    as don't-care on a collision with any write port of its memory."""
    modules = re.split(r"(?m)^(?=module )", text)
    return "".join(_mark_module(module) for module in modules)


def _mark_module(module: str) -> str:
    names = {match.group(2) for match in _MEMORY.finditer(module)}
    if not names:
        return module

    def mark(cell: re.Match) -> str:
        body = cell.group(0)
        memid = re.search(r'parameter \\MEMID "(\S+)"', body)
        if memid is None or memid.group(1).replace("\\\\", "\\") not in names:
            return body
        return _MASK.sub(lambda m: f"{m.group(1)}{m.group(2)}'{'1' * int(m.group(2))}", body)

    return _READ_PORT.sub(mark, module)
