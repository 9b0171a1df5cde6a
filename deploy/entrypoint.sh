#!/bin/sh
# The container's entrypoint: before `serve`, applies settings given as environment
# variables (LABCM_SETTING_<key>=<value>, e.g. LABCM_SETTING_registrar_address=10.150.0.5)
# and, with LABCM_DEMO=1 on an empty data volume, imports the three demo phones. Any other
# command is passed to labcm as is (docker run ... labcm device list).
set -eu
if [ "${1:-serve}" = "serve" ]; then
  if [ "${LABCM_DEMO:-0}" = "1" ] && [ ! -e "$LABCM_DATA_DIR/labcm.db" ]; then
    labcm import /usr/share/labcm/demo-devices.csv
  fi
  env | while IFS='=' read -r name value; do
    case "$name" in
      LABCM_SETTING_*) labcm setting set "${name#LABCM_SETTING_}" "$value" ;;
    esac
  done
fi
exec labcm "$@"
