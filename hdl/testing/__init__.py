"""The cocotb harness of the core, installed with the package so that ``snn hdl test``
runs from a wheel: build the Verilog and run it under Icarus (:mod:`.cocotb_run`), the
cocotb module that drives it (:mod:`.cocotb_core`), the conformance checks against the
fixed-mode simulator and the reference core (:mod:`.conformance`) and the cycle formula
for a case (:mod:`.timing_check`)."""
