"""Test oracles shipped with the package: an independent pure-Python transcription of
docs/core-arithmetic.md (:mod:`.reference_core`) and seeded random networks that fit a
core (:mod:`.random_networks`). The test suite, ``snn hdl test`` and the board checks use
them; they import nothing but ``snn`` and numpy."""
