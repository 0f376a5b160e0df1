#!/bin/bash
# Scenario 2b: scenario 1b with NFSv4.1: the client loops on BAD_STATEID and
# TEST_STATEID instead of STALE_STATEID and RENEW; verify must FAIL the same.
export VERS=4.1
exec bash "$(dirname "$0")/1b-state-lost.sh"
