#!/bin/sh
# C unit tests for lib/ (tests/unit.c prints TAP itself).
: "${BIN:?}"
exec "$BIN/tests/unit"
