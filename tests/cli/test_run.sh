#!/usr/bin/env bash
# bulkcall run against bulkcall-mock on loopback: every row accounted for,
# exactly once, under faults, throttling, retries, stops and signals.
. "$(dirname "$0")/lib.sh"
: "${BULKCALL_MOCK:?BULKCALL_MOCK must point at bulkcall-mock}"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
P=iovox.initiateCall
GEN="$BC_SOURCE_DIR/scripts/gen-campaign"
run() { "$BULKCALL" run -q -p $P --base-url "$MOCK_URL" "$@"; }

# 1. A clean run: every row ok, each call in the ledger once.
"$GEN" 2000 >"$T_TMP/c2k.csv"
mock_start --ledger "$T_TMP/l1.ndjson"
run --rate 0 "$T_TMP/c2k.csv" -o "$T_TMP/r1"
t_eq "clean run exit" "$?" 0
mock_stop
t_invariants "$T_TMP/c2k.csv" "$T_TMP/r1" --rows 2000 --expect ok=2000 --ledger "$T_TMP/l1.ndjson"

# 2. Fault soak: 500s, resets before and after processing, throttling.
"$GEN" 20000 7 >"$T_TMP/c20k.csv"
mock_start --ledger "$T_TMP/l2.ndjson" --fail-rate 0.05 --reset-rate 0.02 \
	--reset-after-rate 0.03 --throttle 4000/1 --block 1 --seed 42
run --rate 0 --concurrency 200 --backoff 5:50 --throttle-cooldown 1 --max-attempts 8 \
	"$T_TMP/c20k.csv" -o "$T_TMP/r2"
t_eq "soak exit (unknown rows)" "$?" 1
mock_stop
t_invariants "$T_TMP/c20k.csv" "$T_TMP/r2" --rows 20000 --ledger "$T_TMP/l2.ndjson"
unknown=$(count_rows "$T_TMP/r2/results.csv" 'r["outcome"] == "unknown"')
t_eq "soak has unknown rows (resets after send, never retried)" "$([ "$unknown" -gt 100 ] && echo yes)" yes
t_contains "summary warns about unknown" "$T_TMP/r2/summary.json" '"unknown":'

# 3. Throttle: account scope paused until the cooldown; no attempt spent.
"$GEN" 300 3 >"$T_TMP/c300.csv"
mock_start --ledger "$T_TMP/l3.ndjson" --throttle 100/1 --block 1
start=$(date +%s%N)
run --rate 0 --concurrency 10 --throttle-cooldown 2 "$T_TMP/c300.csv" -o "$T_TMP/r3"
t_eq "throttled run exit" "$?" 0
secs=$((($(date +%s%N) - start) / 1000000000))
mock_stop
t_invariants "$T_TMP/c300.csv" "$T_TMP/r3" --rows 300 --expect ok=300 --ledger "$T_TMP/l3.ndjson"
t_eq "throttled rows spent no attempt" "$(count_rows "$T_TMP/r3/results.csv" 'r["attempts"] != "1"')" 0
t_eq "cooldowns were waited (>= 4 s for 300 rows at 100 per block)" "$([ "$secs" -ge 4 ] && echo yes)" yes
# After a throttle, nothing more is sent until the pause ends: at most the
# requests already in flight (10) meet each block.
throttled=$(grep -o 'throttled=[0-9]*' "$T_TMP/mock.err" | grep -o '[0-9]*$' | head -1)
t_eq "only in-flight requests hit the block (mock saw $throttled)" "$([ "${throttled:-999}" -le 40 ] && echo yes)" yes

# 4. Retry-After is honoured instead of the (long) cooldown.
mock_start --throttle 100/1 --block 1 --retry-after 1
start=$(date +%s%N)
run --rate 0 --concurrency 10 --throttle-cooldown 60 "$T_TMP/c300.csv" -o "$T_TMP/r4"
t_eq "Retry-After run exit" "$?" 0
secs=$((($(date +%s%N) - start) / 1000000000))
mock_stop
t_eq "Retry-After 1 s used, not the 60 s cooldown (took ${secs}s)" "$([ "$secs" -lt 20 ] && echo yes)" yes

# 5. --max-attempts: every answer a 500 -> retry after exactly N attempts.
"$GEN" 20 4 >"$T_TMP/c20.csv"
mock_start --fail-rate 1
run --backoff 1:5 --max-attempts 3 "$T_TMP/c20.csv" -o "$T_TMP/r5"
t_eq "all-500 run exit" "$?" 1
mock_stop
t_invariants "$T_TMP/c20.csv" "$T_TMP/r5" --rows 20 --expect retry=20
t_eq "each row tried 3 times" "$(count_rows "$T_TMP/r5/results.csv" 'r["attempts"] != "3"')" 0
t_contains "gave-up message" "$T_TMP/r5/results.csv" "gave up after 3 attempts: Internal Server Error"
# The retry file is a valid input: feed it back.
mock_start --ledger "$T_TMP/l5.ndjson"
run "$T_TMP/r5/retry.csv" -o "$T_TMP/r5b"
t_eq "retry file fed back" "$?" 0
mock_stop
t_invariants "$T_TMP/r5/retry.csv" "$T_TMP/r5b" --rows 20 --expect ok=20 --ledger "$T_TMP/l5.ndjson"

# 6. Bad credentials: fatal, exit 5, every row accounted, nothing sent twice.
mock_start --ledger "$T_TMP/l6.ndjson"
IOVOX_SECURE_KEY=wrong run --rate 0 "$T_TMP/c2k.csv" -o "$T_TMP/r6"
t_eq "401 exit" "$?" 5
mock_stop
t_invariants "$T_TMP/c2k.csv" "$T_TMP/r6" --rows 2000 --expect ok=0 --ledger "$T_TMP/l6.ndjson"
t_contains "fatal reason in summary" "$T_TMP/r6/summary.json" "HTTP 401"

# 6b. Credentials revoked mid-run: the first rows are ok, then 401: exit 5,
# every row accounted for, the unsent ones in retry.
mock_start --ledger "$T_TMP/l6b.ndjson" --auth-fail-after 500
run --rate 0 --concurrency 20 "$T_TMP/c2k.csv" -o "$T_TMP/r6b"
t_eq "401 mid-run exit" "$?" 5
mock_stop
t_invariants "$T_TMP/c2k.csv" "$T_TMP/r6b" --rows 2000 --ledger "$T_TMP/l6b.ndjson"
t_eq "the first 500 calls went through" "$(count_rows "$T_TMP/r6b/results.csv" 'r["outcome"] == "ok"')" 500
t_eq "the rest is retry" "$(count_rows "$T_TMP/r6b/results.csv" 'r["outcome"] == "retry"')" 1500

# 7. --halt-fail: a campaign whose link does not exist stops early.
sed 's/^link[0-9]*,/badlink,/' "$T_TMP/c2k.csv" >"$T_TMP/bad.csv"
mock_start
run --rate 0 --concurrency 20 --halt-fail 50 "$T_TMP/bad.csv" -o "$T_TMP/r7"
t_eq "halt-fail exit" "$?" 1
mock_stop
t_invariants "$T_TMP/bad.csv" "$T_TMP/r7" --rows 2000
failed=$(count_rows "$T_TMP/r7/results.csv" 'r["outcome"] == "failed"')
t_eq "halted after a few rows, not 2000 (failed=$failed)" "$([ "$failed" -lt 400 ] && echo yes)" yes
t_contains "halt reason" "$T_TMP/r7/summary.json" "halt-fail"

# 8. SIGINT mid-run: drains, writes everything, exit 130.
"$GEN" 5000 5 >"$T_TMP/c5k.csv"
mock_start --ledger "$T_TMP/l8.ndjson" --latency 100
"$BULKCALL" run -q -p $P --base-url "$MOCK_URL" --rate 0 --concurrency 50 "$T_TMP/c5k.csv" -o "$T_TMP/r8" &
pid=$!
sleep 1
kill -INT $pid
wait $pid
t_eq "SIGINT exit" "$?" 130
mock_stop
t_invariants "$T_TMP/c5k.csv" "$T_TMP/r8" --rows 5000 --ledger "$T_TMP/l8.ndjson"
t_eq "some rows went to retry" "$([ "$(count_rows "$T_TMP/r8/results.csv" 'r["outcome"] == "retry"')" -gt 0 ] && echo yes)" yes

# 9. not_before holds a row locally; delay is sent to the API.
now=$(date -u +%s)
nb=$(date -u -d "@$((now + 3))" +%Y-%m-%dT%H:%M:%SZ)
printf 'link_id,call_destination,delay,not_before\nlink1,4471,,%s\nlink2,4472,30,\nlink3,4473,,bogus\n' "$nb" >"$T_TMP/nb.csv"
mock_start --ledger "$T_TMP/l9.ndjson"
start=$(date +%s%N)
run "$T_TMP/nb.csv" -o "$T_TMP/r9"
t_eq "not_before run exit (one bad time)" "$?" 1
mock_stop
secs=$((($(date +%s%N) - start) / 1000000))
t_eq "not_before waited (${secs} ms)" "$([ "$secs" -ge 1000 ] && echo yes)" yes
t_contains "delay sent" "$T_TMP/l9.ndjson" '"delay":30'
t_contains "bad not_before rejected" "$T_TMP/r9/errors.csv" "column not_before: 'bogus' is not an RFC 3339 time"

# 10. --max-runtime: rows not sent go to retry.
mock_start --latency 200
run --rate 20 --max-runtime 1s "$T_TMP/c300.csv" -o "$T_TMP/r10"
t_eq "max-runtime exit" "$?" 1
mock_stop
t_invariants "$T_TMP/c300.csv" "$T_TMP/r10" --rows 300
t_eq "max-runtime left rows to retry" "$([ "$(count_rows "$T_TMP/r10/results.csv" 'r["outcome"] == "retry"')" -gt 200 ] && echo yes)" yes

# 11. Output formats: ndjson results, gzip files; invariants hold the same.
mock_start --ledger "$T_TMP/l11.ndjson" --fail-rate 0.2
run --rate 0 --backoff 1:5 --max-attempts 2 --gzip --results-format ndjson "$T_TMP/c2k.csv" -o "$T_TMP/r11"
code=$?
mock_stop
t_eq "gzip run exit (some retry)" "$code" 1
t_eq "results are gzip ndjson" "$(ls "$T_TMP/r11" | grep -c 'results.ndjson.gz')" 1
t_invariants "$T_TMP/c2k.csv" "$T_TMP/r11" --rows 2000 --ledger "$T_TMP/l11.ndjson"

# 12. A second signal abandons requests in flight: not idempotent -> unknown.
mock_start --ledger "$T_TMP/l12.ndjson" --latency 3000
"$BULKCALL" run -q -p $P --base-url "$MOCK_URL" --rate 0 --concurrency 40 "$T_TMP/c300.csv" -o "$T_TMP/r12" &
pid=$!
sleep 1
kill -INT $pid
sleep 0.3
kill -INT $pid
wait $pid
t_eq "second SIGINT exit" "$?" 130
mock_stop
t_invariants "$T_TMP/c300.csv" "$T_TMP/r12" --rows 300 --ledger "$T_TMP/l12.ndjson"
t_eq "abandoned in-flight rows are unknown" "$(count_rows "$T_TMP/r12/results.csv" 'r["outcome"] == "unknown"')" 40

# 13. --rate end to end (loose): 150 rows at 50/s with a burst of 10 take ~3 s.
mock_start
start=$(date +%s%N)
run --rate 50 --burst 10 "$T_TMP/c300.csv" -o "$T_TMP/r13" --max-runtime 3.5s 2>/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
mock_stop
okn=$(count_rows "$T_TMP/r13/results.csv" 'r["outcome"] == "ok"')
t_eq "about 50/s: $okn rows ok in 3.5 s" "$([ "$okn" -ge 150 ] && [ "$okn" -le 200 ] && echo yes)" yes

# 14. --concurrency caps what is at the server, although a non-idempotent
# run admits rows beyond it while they wait parked for the journal's sync
# (docs/durability.md). The mock delays every answer and keeps the peak.
"$GEN" 600 5 >"$T_TMP/c600.csv"
mock_start --ledger "$T_TMP/l14.ndjson" --latency 40
run --rate 0 --concurrency 20 "$T_TMP/c600.csv" -o "$T_TMP/r14"
t_eq "capped run exit" "$?" 0
mock_stop
t_invariants "$T_TMP/c600.csv" "$T_TMP/r14" --rows 600 --expect ok=600 --ledger "$T_TMP/l14.ndjson"
peak=$(grep -o 'peak_delayed=[0-9]*' "$T_TMP/mock.err" | cut -d= -f2)
t_eq "at most --concurrency 20 at the server at once (peak ${peak:-none})" \
	"$([ "${peak:-999}" -le 20 ] && echo yes)" yes
t_eq "the window was used (peak ${peak:-none})" "$([ "${peak:-0}" -ge 15 ] && echo yes)" yes

# 15. --rate holds where rows leave, not only where they are admitted: a
# non-idempotent run parks admitted rows until their "sent" record is
# synced, and a stalled sync (the 3rd, 600 ms here) would release every
# row admitted meanwhile at once. No 100 ms window of the mock's ledger may
# hold more than rate x 0.1 s + burst = 10 + 5.
"$GEN" 120 6 >"$T_TMP/c120.csv"
mock_start --ledger "$T_TMP/l15.ndjson"
BULKCALL_TEST_SYNC_STALL=3:600 run --rate 100 --burst 5 "$T_TMP/c120.csv" -o "$T_TMP/r15"
t_eq "stalled-sync run exit" "$?" 0
mock_stop
t_invariants "$T_TMP/c120.csv" "$T_TMP/r15" --rows 120 --expect ok=120 --ledger "$T_TMP/l15.ndjson"
peak=$(python3 - "$T_TMP/l15.ndjson" <<'PY'
import json, sys
t = sorted(json.loads(l)["t"] for l in open(sys.argv[1]) if l.strip())
j = 0
best = 0
for i in range(len(t)):
    while t[i] - t[j] >= 100:
        j += 1
    best = max(best, i - j + 1)
print(best)
PY
)
t_eq "at most 15 sends in any 100 ms after a stalled sync (peak ${peak:-none})" \
	"$([ "${peak:-999}" -le 15 ] && echo yes)" yes

t_done
