#!/bin/bash
# Scenario 8c: scenario 8 with tracefs (and the upcall hint) disabled: the
# kernel's uevents (SUBSYSTEM=sunrpc: the new transport) catch the move.
export WATCH_CONF=$'tracefs = no\nupcall = no'
export WANT_TRIGGER='^uevent$'
exec bash "$(dirname "$0")/8-watch-v40.sh"
