"""Errors of the board driver, each a one-line message that names the port."""

from __future__ import annotations


class BoardError(Exception):
    """Something went wrong talking to a board (or a simulated one)."""


class NoAnswer(BoardError):
    """The board did not answer within the time-outs and retries."""


class ProtocolMismatch(BoardError):
    """The board answers, but not in this protocol or not in this version of it."""


class DeviceRefused(BoardError):
    """The board answered a request with a NAK that retrying cannot fix."""

    def __init__(self, message: str, status) -> None:
        super().__init__(message)
        self.status = status


class VerifyError(BoardError):
    """Read-back after a load differs from what was written."""


class BadReply(BoardError):
    """The board answered with a frame that is intact (its CRC is right) but that the
    driver cannot parse: too short, too long, or a field out of range."""
