#!/bin/bash
# Scenario 8b: scenario 8 with NFSv4.1 (sessions).
export VERS=4.1
exec bash "$(dirname "$0")/8-watch-v40.sh"
