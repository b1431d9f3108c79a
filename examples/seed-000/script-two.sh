#!/usr/bin/env bash
# Stage two of the seed-000 sample: its group is `runalways`, so it runs even when
# stage one failed (for instance when PowerShell is not installed).
set -eu
echo "script two: cleaning up (run ${BATON_RUN_ID:-?}, task ${BATON_TASK:-?}, attempt ${BATON_ATTEMPT:-?})"
sleep 1
echo "script two: done"
