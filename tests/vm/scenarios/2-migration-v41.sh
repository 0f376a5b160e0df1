#!/bin/bash
# Scenario 2: scenario 1 with NFSv4.1 (sessions): the same checks.
export VERS=4.1
exec bash "$(dirname "$0")/1-migration-v40.sh"
