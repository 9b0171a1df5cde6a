#!/usr/bin/env bash
# The README's run command: installs the dependencies (apt), builds the Release binary,
# seeds a demo lab on the first run, and starts `labcm serve` on ./labcm-data
# (or $LABCM_DATA_DIR). Stop it with Ctrl-C (SIGINT) or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"

DATA_DIR="${LABCM_DATA_DIR:-./labcm-data}"
if [ ! -e "$DATA_DIR/labcm.db" ]; then
  echo "run: new data dir $DATA_DIR: importing the demo phones from deploy/demo-devices.csv"
  ./build/release/labcm --data-dir "$DATA_DIR" import deploy/demo-devices.csv
fi
exec ./build/release/labcm --data-dir "$DATA_DIR" serve "$@"
