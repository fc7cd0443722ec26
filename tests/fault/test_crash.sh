#!/usr/bin/env bash
# kill -9 at random moments, then `bulkcall resume`, again and again: at the
# end every input row has exactly one final record, the retry / errors /
# unknown files hold exactly their rows, every ok row is in the mock's
# ledger once and no call was made twice (SPEC §5). Kills land in the first
# second, mid-run with hundreds of requests in flight, and while the summary
# is being written. BULKCALL_SOAK=1 runs a longer version.
. "$(dirname "$0")/../cli/lib.sh"
: "${BULKCALL_MOCK:?BULKCALL_MOCK must point at bulkcall-mock}"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
GEN="$BC_SOURCE_DIR/scripts/gen-campaign"
ROWS=20000
MIN_KILLS=10
MAX_KILLS=16
KILL_MS="30 250"
if [ "${BULKCALL_SOAK:-0}" = 1 ]; then
	ROWS=200000
	MIN_KILLS=40
	MAX_KILLS=60
	KILL_MS="100 1500"
fi
KILLS=0

# Milliseconds as a sleep argument: rand_sleep MIN_MS MAX_MS.
rand_sleep() {
	local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# start CMD...: runs bulkcall in the background (pid in $pid).
start() {
	"$BULKCALL" "$@" 2>>"$T_TMP/stderr.log" &
	pid=$!
}

# kill_or_wait: SIGKILL if still running (KILLS++), else collect the exit
# status into $rc. Returns 0 when it killed.
kill_or_wait() {
	if kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		KILLS=$((KILLS + 1))
		return 0
	fi
	wait "$pid"
	rc=$?
	return 1
}

# crash_loop OUTDIR MIN MAX RESUME_ARGS...: resume, kill after MIN..MAX ms,
# until the job finishes on its own or MAX_KILLS kills; then resume to the
# end. Sets rc to the last exit status.
crash_loop() {
	local out=$1 lo=$2 hi=$3
	shift 3
	rc=
	while [ "$KILLS" -lt "$MAX_KILLS" ]; do
		start resume -q "$out" "$@"
		rand_sleep "$lo" "$hi"
		kill_or_wait || break
	done
	if [ -z "$rc" ]; then
		"$BULKCALL" resume -q "$out" "$@" 2>>"$T_TMP/stderr.log"
		rc=$?
	fi
}

# 1. initiateCall (not idempotent), 20k rows, ~200 in flight at 20-40 ms.
"$GEN" "$ROWS" 11 >"$T_TMP/c.csv"
mock_start --ledger "$T_TMP/l1.ndjson" --latency 20:20
R="$T_TMP/r1"
RUN=(run -q -p iovox.initiateCall --base-url "$MOCK_URL" --rate 0 --concurrency 200)

# 1a. Killed in its very first moments, possibly before job.json exists.
start "${RUN[@]}" "$T_TMP/c.csv" -o "$R"
rand_sleep 5 60
kill_or_wait
if [ ! -e "$R/job.json" ]; then
	# Nothing can have been sent before job.json: start again.
	t_eq "no call before job.json" "$(cat "$T_TMP/l1.ndjson" 2>/dev/null | wc -l)" 0
	start "${RUN[@]}" --force "$T_TMP/c.csv" -o "$R"
	rand_sleep 200 900
	kill_or_wait
fi
t_contains "job.json written in the first second" "$R/job.json" '"crc32"'

# 1b. Mid-run kills at random moments.
crash_loop "$R" $KILL_MS
t_eq "at least $MIN_KILLS kills mid-run (got $KILLS)" "$([ "$KILLS" -ge "$MIN_KILLS" ] && echo yes)" yes

mock_stop
t_eq "final resume exit (0, or 1 with unknown rows)" "$([ "$rc" -le 1 ] && echo ok)" ok
t_invariants "$T_TMP/c.csv" "$R" --rows "$ROWS" --ledger "$T_TMP/l1.ndjson" --expect retry=0 --expect failed=0
unknown=$(count_rows "$R/results.csv" 'r["outcome"] == "unknown"')
t_eq "every unknown row was in flight at a kill" \
	"$(count_rows "$R/results.csv" 'r["outcome"] == "unknown" and r["error"] != "in flight when the run stopped: may have been sent"')" 0
t_contains "summary counts every row" "$R/summary.json" "\"rows\":	$ROWS"
t_contains "summary explains the unknown rows" "$R/summary.json" '"reason":	"in flight when the run stopped'
"$BULKCALL" resume "$R" 2>"$T_TMP/fin.err"
t_eq "resume of the finished job exit (0: nothing to do)" "$?" 0
t_contains "finished message" "$T_TMP/fin.err" "already finished"
t_contains "finished message says whether every row was ok" "$T_TMP/fin.err" \
	"$([ "$unknown" -gt 0 ] && echo ", some not ok" || echo ", every one ok")"
echo "crash: $KILLS kills, $unknown rows unknown of $ROWS" >&2

# 2. Killed while writing the summary: the test hook pauses after the last
# commit, before summary.json; resume writes it, counting every row.
"$GEN" 2000 13 >"$T_TMP/s.csv"
mock_start --ledger "$T_TMP/l4.ndjson"
R="$T_TMP/r4"
: >"$T_TMP/stderr.log"
BULKCALL_TEST_PAUSE_BEFORE_SUMMARY_MS=20000 start run -q -p iovox.initiateCall \
	--base-url "$MOCK_URL" --rate 0 "$T_TMP/s.csv" -o "$R"
for _ in $(seq 1 400); do
	grep -q "pausing" "$T_TMP/stderr.log" && break
	sleep 0.05
done
kill_or_wait && t_pass || t_fail "the kill before the summary did not land"
t_eq "no summary.json yet" "$([ -e "$R/summary.json" ] && echo yes || echo no)" no
"$BULKCALL" resume -q "$R"
t_eq "resume after the summary kill exit" "$?" 0
mock_stop
t_invariants "$T_TMP/s.csv" "$R" --rows 2000 --expect ok=2000 --ledger "$T_TMP/l4.ndjson"
t_contains "resumed summary counts every row" "$R/summary.json" '"rows":	2000'

# 3. gzip NDJSON output: truncation lands on gzip member boundaries.
KILLS=0
MAX_KILLS=5
"$GEN" 5000 12 >"$T_TMP/g.csv"
mock_start --ledger "$T_TMP/l2.ndjson" --latency 20:20
R="$T_TMP/r2"
start run -q -p iovox.initiateCall --base-url "$MOCK_URL" --rate 0 --concurrency 100 \
	--gzip --results-format ndjson "$T_TMP/g.csv" -o "$R"
rand_sleep 200 400
kill_or_wait
crash_loop "$R" 100 300
mock_stop
t_eq "gzip: resumed to the end" "$([ "$rc" -le 1 ] && echo ok)" ok
t_invariants "$T_TMP/g.csv" "$R" --rows 5000 --ledger "$T_TMP/l2.ndjson" --expect retry=0 --expect failed=0
t_eq "gzip: results are one valid gzip stream" "$(gzip -t "$R/results.ndjson.gz" && echo ok)" ok

# 4. An idempotent profile (smartflo.updateIVR): rows in flight at a kill
# are sent again on resume, never left unknown.
export SMARTFLO_TOKEN=smartflo-token
{
	echo "id,name,description,recording,timeout,incorrect_count,invalid_recording,invalid_destination,timeout_retry_recording,timeout_recording,timeout_destination,timeout_tries,recording_invalid,option,destination"
	for i in $(seq 100001 104000); do
		echo "$i,IVR $i,migrated,recording|1,20,3,recording|2,extension|0504,recording|3,recording|4,extension|0504,2,recording|5,1;2,extension|0504;extension|845"
	done
} >"$T_TMP/ivr.csv"
KILLS=0
MAX_KILLS=5
mock_start --ledger "$T_TMP/l3.ndjson" --latency 20:20
R="$T_TMP/r3"
start run -q -p smartflo.updateIVR --base-url "$MOCK_URL" --rate 0 --concurrency 100 "$T_TMP/ivr.csv" -o "$R"
rand_sleep 200 400
kill_or_wait
crash_loop "$R" 100 300
mock_stop
t_eq "idempotent: resume exit" "$rc" 0
t_invariants "$T_TMP/ivr.csv" "$R" --rows 4000 --expect ok=4000
t_eq "idempotent: every id reached the mock" "$(python3 - "$T_TMP/l3.ndjson" <<'PY'
import json, sys
ids = set(str(json.loads(l).get("id")) for l in open(sys.argv[1]) if l.strip())
print(all(str(i) in ids for i in range(100001, 104001)))
PY
)" True

t_done
