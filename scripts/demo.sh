#!/usr/bin/env bash
# The main job on the embedded default: install, then simulate the CUBA network
# (4000 LIF neurons, 1 s) and write a raster and a rate plot into out/.
source "$(dirname "$0")/_venv.sh"
install_requirements requirements/run.txt
mkdir -p out
.venv/bin/snn run examples/networks/cuba.toml --plot out/cuba_raster.png --rate-plot out/cuba_rate.png \
    --out out/cuba_results.npz "$@"
echo "plots: out/cuba_raster.png out/cuba_rate.png"
