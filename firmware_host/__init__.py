"""Host side of the core: wire protocol, memory map, the Board driver and transports."""


def __getattr__(name: str):
    """``firmware_host.Board``, imported on first use (the gateware imports only the map and the protocol)."""
    if name == "Board":
        from .board import Board

        return Board
    raise AttributeError(f"module 'firmware_host' has no attribute {name!r}")
