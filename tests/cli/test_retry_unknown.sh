#!/usr/bin/env bash
# --retry-unknown (src/run/engine.c): a non-idempotent row sent again after
# an answer was lost may have acted already. If it then gives up, or the
# run stops before it finishes, it is unknown, never retry: retry.* is fed
# back as is, and would call the person again.
. "$(dirname "$0")/lib.sh"
: "${BULKCALL_MOCK:?BULKCALL_MOCK must point at bulkcall-mock}"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
P=iovox.initiateCall
"$BC_SOURCE_DIR/scripts/gen-campaign" 5 >"$T_TMP/c5.csv"
run() { "$BULKCALL" run -q -p $P --base-url "$MOCK_URL" --rate 0 --retry-unknown "$@"; }

# 1. Every answer lost after the call was placed: 3 attempts each, all in
# the ledger, so every row is unknown.
mock_start --ledger "$T_TMP/l1.ndjson" --reset-after-rate 1
run --backoff 1:5 --max-attempts 3 "$T_TMP/c5.csv" -o "$T_TMP/r1"
t_eq "gave-up run exit" "$?" 1
mock_stop
t_eq "the mock accepted 3 calls per row" "$(wc -l <"$T_TMP/l1.ndjson")" 15
t_invariants "$T_TMP/c5.csv" "$T_TMP/r1" --rows 5 --expect unknown=5 --expect retry=0 \
	--ledger "$T_TMP/l1.ndjson" --ledger-allow-repeats
t_eq "retry file holds only the header" "$(wc -l <"$T_TMP/r1/retry.csv")" 1
t_contains "says why" "$T_TMP/r1/results.csv" "may have been sent (--retry-unknown): gave up after 3 attempts: "

# 2. The run stops while the rows wait for their next attempt: the stop
# writes them unknown, not retry.
mock_start --ledger "$T_TMP/l2.ndjson" --reset-after-rate 1
run --backoff 4000:4000 --max-attempts 5 --max-runtime 1s "$T_TMP/c5.csv" -o "$T_TMP/r2"
t_eq "stopped run exit" "$?" 1
mock_stop
t_invariants "$T_TMP/c5.csv" "$T_TMP/r2" --rows 5 --expect unknown=5 --expect retry=0 \
	--ledger "$T_TMP/l2.ndjson" --ledger-allow-repeats
t_contains "stop reason kept" "$T_TMP/r2/results.csv" "may have been sent (--retry-unknown): "

# 3. Attempts that provably never went out (connection refused: nothing
# listens on the port any more) stay retry.
mock_start
mock_stop
run --backoff 1:5 --max-attempts 2 "$T_TMP/c5.csv" -o "$T_TMP/r3"
t_eq "refused run exit" "$?" 1
t_invariants "$T_TMP/c5.csv" "$T_TMP/r3" --rows 5 --expect retry=5

t_done
