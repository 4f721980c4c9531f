"""Benchmarks run side by side with peer simulators (``snn bench ...``)."""
