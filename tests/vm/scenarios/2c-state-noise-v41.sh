#!/bin/bash
# Scenario 2c: scenario 1c with NFSv4.1: locks denied (polled or waited
# for) and writes failing with ENOSPC on a moved mount are never lost state.
export VERS=4.1
exec bash "$(dirname "$0")/1c-state-noise.sh"
