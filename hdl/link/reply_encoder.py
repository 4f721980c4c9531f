"""Reply kinds: which fixed fields and which tail a reply of the command table carries.

A reply is sent from registers that stay put while it goes out (see
:mod:`hdl.link.command_engine`); its *kind* selects the bytes. Each row of the command
table (:class:`firmware_host.protocol.Command`) maps to a kind by its reply layout
(:func:`reply_kind`); a new reply layout needs a new kind here.
"""

from enum import IntEnum

from firmware_host.protocol import (
    ADDRESS,
    IDENTITY,
    NOTHING,
    SPIKE_RECORD,
    STATUS_REPLY,
    STEP_REPLY,
    Command,
    Tail,
)


class ReplyKind(IntEnum):
    """The fixed fields after the reply head, and the tail."""

    PLAIN = 0  # status and credits only
    IDENT = 1  # IDENTITY, from the ROM
    STATUS = 2  # STATUS_REPLY
    STEP = 3  # STEP_REPLY
    READ = 4  # ADDRESS, then the words read from the core
    RESEND = 5  # SPIKE_RECORD and the record's neurons
    OUT = 6  # SPIKES_OUT: a record without the reply head


#: reply layout of a table row -> kind
KINDS = {
    (NOTHING, Tail.NONE): ReplyKind.PLAIN,
    (IDENTITY, Tail.NONE): ReplyKind.IDENT,
    (STATUS_REPLY, Tail.NONE): ReplyKind.STATUS,
    (STEP_REPLY, Tail.NONE): ReplyKind.STEP,
    (ADDRESS, Tail.WORDS): ReplyKind.READ,
    (SPIKE_RECORD, Tail.INDICES): ReplyKind.RESEND,
}


def reply_kind(command: Command) -> ReplyKind:
    """The kind of a row's reply (``KeyError``: a layout the gateware cannot send yet)."""
    return KINDS[command.reply, command.reply_tail]
