#!/bin/bash
# Scenario 8d: scenario 8 with every source but the rescan timer disabled
# (tracefs, uevents, the upcall hint; kmsg says nothing of a move that
# works; the mount table's monitor does not wake for one): the rescan, every
# 5 s here, finds it.
export WATCH_CONF=$'tracefs = no\nuevent = no\nupcall = no\nkmsg = no\nrescan = 5'
export WANT_TRIGGER='^rescan$'
exec bash "$(dirname "$0")/8-watch-v40.sh"
