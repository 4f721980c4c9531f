"""Errors raised at the boundary: one line that names the problem and the fix."""

from __future__ import annotations


class NetworkError(ValueError):
    """A network description (API call or file) is invalid.

    The message is a single line: what is wrong, where, and how to fix it.
    """


class FitError(NetworkError):
    """A network does not fit a :class:`snn.CoreSpec` (too large, out of range, ...)."""
