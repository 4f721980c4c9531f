"""Board builds of the core with the open toolchain (yosys, nextpnr, icepack/ecppack).

``boards`` names the targets, ``toolchain`` finds the YoWASP tools, ``top`` wraps
:class:`hdl.link.board_top.BoardTop` in a board's clock and UART pins, ``flow`` runs a
build, ``report`` reads the tools' reports into resource and timing figures. See
docs/hardware-build.md.
"""
