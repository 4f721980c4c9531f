"""Gateware of the UART link (docs/protocol.md, "Gateware"): UART, COBS/CRC framing,
the command engine that executes protocol frames on the core, and the board top."""
