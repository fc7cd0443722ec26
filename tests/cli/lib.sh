# Shared helpers of the CLI and fault tests: assertions that count, a
# scratch folder, and the mock on a free loopback port. Every test ends
# with t_done, which prints "N passed, N failed" and sets the exit code.
set -u
: "${BULKCALL:?BULKCALL must point at the bulkcall binary}"
: "${BC_SOURCE_DIR:?BC_SOURCE_DIR must point at the source tree}"
T_PASSED=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bulkcall-test.XXXXXX")
T_MOCK_PID=
INVARIANTS="$BC_SOURCE_DIR/tests/cli/invariants.py"
SAMPLES="$BC_SOURCE_DIR/samples"

t_cleanup() {
	[ -n "$T_MOCK_PID" ] && kill "$T_MOCK_PID" 2>/dev/null && wait "$T_MOCK_PID" 2>/dev/null
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT

t_pass() { T_PASSED=$((T_PASSED + 1)); }
t_fail() {
	T_FAILED=$((T_FAILED + 1))
	echo "FAIL: $*" >&2
}
# t_eq WHAT GOT WANT
t_eq() {
	if [ "$2" = "$3" ]; then t_pass; else t_fail "$1: got '$2', want '$3'"; fi
}
# t_contains WHAT FILE STRING
t_contains() {
	if grep -qF -- "$3" "$2"; then t_pass; else
		t_fail "$1: '$3' not found in $2"
		sed 's/^/    | /' "$2" | head -20 >&2
	fi
}
t_lacks() {
	if grep -rqF -- "$3" "$2"; then t_fail "$1: '$3' found in $2"; else t_pass; fi
}
# t_invariants INPUT OUTDIR ARGS...: the output folder's invariants.
t_invariants() {
	if python3 "$INVARIANTS" "$@" >"$T_TMP/inv.out" 2>&1; then t_pass; else
		t_fail "invariants of $2"
		sed 's/^/    | /' "$T_TMP/inv.out" >&2
	fi
}
# t_run CODE_VAR CMD...: runs a command, stores its exit code, never aborts.
t_code() {
	"$@"
	echo $?
}

# mock_start ARGS...: starts bulkcall-mock on 127.0.0.1:0; sets MOCK_URL.
mock_start() {
	local pf="$T_TMP/mock.port"
	rm -f "$pf"
	"$BULKCALL_MOCK" --listen 127.0.0.1:0 --port-file "$pf" "$@" 2>"$T_TMP/mock.err" &
	T_MOCK_PID=$!
	for _ in $(seq 1 200); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	if [ ! -s "$pf" ]; then
		echo "mock did not start:" >&2
		cat "$T_TMP/mock.err" >&2
		exit 1
	fi
	MOCK_URL="http://127.0.0.1:$(cat "$pf")"
}
mock_stop() {
	[ -n "$T_MOCK_PID" ] && kill "$T_MOCK_PID" 2>/dev/null && wait "$T_MOCK_PID" 2>/dev/null
	T_MOCK_PID=
}

t_done() {
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

# count_rows RESULTS_CSV PYTHON_EXPR: results records for which the
# expression (over r, a dict of the record) is true. CSV-aware.
count_rows() {
	python3 - "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(sum(1 for r in rows if eval(sys.argv[2], {}, {"r": r})))
PY
}
