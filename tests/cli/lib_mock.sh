# Helpers for tests that run bulkcall-mock; sourced, not run (ctest runs
# test_*.sh only). Needs TMP (a scratch folder) set before mock_start.
#   check NAME EXPECTED ACTUAL    counts a pass or prints both values
#   check_true NAME COMMAND...    counts a pass if COMMAND succeeds
#   mock_start NAME [OPTIONS...]  starts the mock on 127.0.0.1:0 with
#                                 --ledger $TMP/NAME.ndjson; sets MOCK_PID,
#                                 MOCK_BASE (http://127.0.0.1:PORT)
#   mock_stop                     SIGTERM + wait; MOCK_RC; stderr if not 0
#   mock_ledger NAME              the ledger without its "t" stamps
#   mock_kill_all                 for the EXIT trap: kills running mocks
#   finish                        prints "N passed, N failed"; status
MOCK=${BULKCALL_MOCK:-${BC_SOURCE_DIR:-.}/build/bulkcall-mock}
pass=0
fail=0
MOCK_PIDS=()

check() {
	if [ "$2" == "$3" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'FAIL %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"
	fi
}

check_true() {
	local name=$1
	shift
	if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name"; fi
}

mock_start() {
	local name=$1
	shift
	rm -f "$TMP/$name.port"
	"$MOCK" --listen 127.0.0.1:0 --port-file "$TMP/$name.port" \
		--ledger "$TMP/$name.ndjson" "$@" 2>"$TMP/$name.err" &
	MOCK_PID=$!
	MOCK_NAME=$name
	MOCK_PIDS+=("$MOCK_PID")
	for _ in $(seq 1 200); do
		[ -s "$TMP/$name.port" ] && break
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -s "$TMP/$name.port" ]; then
		echo "$0: mock '$name' did not start:" >&2
		cat "$TMP/$name.err" >&2
		exit 1
	fi
	MOCK_BASE="http://127.0.0.1:$(cat "$TMP/$name.port")"
}

mock_stop() {
	local p rest=()
	kill -TERM "$MOCK_PID" 2>/dev/null
	wait "$MOCK_PID"
	MOCK_RC=$?
	# Reaped: its pid may be reused by anything now, never kill it again.
	for p in "${MOCK_PIDS[@]}"; do [ "$p" = "$MOCK_PID" ] || rest+=("$p"); done
	MOCK_PIDS=("${rest[@]}")
	if [ "$MOCK_RC" != 0 ]; then
		echo "mock '$MOCK_NAME' exited with status $MOCK_RC; its stderr:"
		sed 's/^/  /' "$TMP/$MOCK_NAME.err"
	fi
}

mock_ledger() { sed -E 's/,"t":[0-9]+\}$/}/' "$TMP/$1.ndjson"; }

mock_kill_all() {
	local p
	for p in "${MOCK_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	MOCK_PIDS=()
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
