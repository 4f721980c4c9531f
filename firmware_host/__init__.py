"""Host side of the core: wire protocol, memory map, the Board driver and transports."""
