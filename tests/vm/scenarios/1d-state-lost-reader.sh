#!/bin/bash
# Scenario 1d: scenario 1b with a reader and a walker busy on the same mount
# while the writer loops: their calls must not hide the loop (verify FAILs).
export READER=1
exec bash "$(dirname "$0")/1b-state-lost.sh"
