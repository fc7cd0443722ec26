#!/usr/bin/env bash
# Disk faults in the output folder (ENOSPC, EIO on write, EIO on fdatasync),
# injected by an LD_PRELOAD shim (diskfault.c, built here): bulkcall stops
# dispatching, lets requests in flight finish, exits 4 naming the file and
# the cause, and leaves a folder that `bulkcall resume` finishes once the
# disk is fine again: every row once, no call made twice.
. "$(dirname "$0")/../cli/lib.sh"
: "${BULKCALL_MOCK:?BULKCALL_MOCK must point at bulkcall-mock}"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
GEN="$BC_SOURCE_DIR/scripts/gen-campaign"
SHIM="$T_TMP/diskfault.so"
if ! cc -shared -fPIC -O2 -o "$SHIM" "$(dirname "$0")/diskfault.c" -ldl 2>"$T_TMP/cc.err"; then
	echo "cannot build the shim:" >&2
	cat "$T_TMP/cc.err" >&2
	exit 1
fi
"$GEN" 10000 21 >"$T_TMP/c.csv"
# A sanitizer build wants its runtime first in the preload list; its
# interceptors then reach the shim through RTLD_NEXT.
asan_rt=$(ldd "$BULKCALL" 2>/dev/null | awk '/libasan/ { print $3 }')
[ -n "$asan_rt" ] && SHIM="$asan_rt:$SHIM"

# faulty NAME BUDGET ERRNO SYNC PATH_SUFFIX [ARGS...]: a run whose writes
# under OUTDIR/PATH_SUFFIX fail after BUDGET bytes; then resume without
# the fault. Checks exit 4, the message, and the resumed folder.
faulty() {
	local name=$1 budget=$2 errno=$3 sync=$4 suffix=$5
	shift 5
	local out="$T_TMP/$name"
	mkdir -p "$out"
	mock_start --ledger "$T_TMP/$name.ledger" --latency 10:10
	BC_FAULT_PATH="$out/$suffix" BC_FAULT_AFTER=$budget BC_FAULT_ERRNO=$errno \
		BC_FAULT_SYNC=$sync LD_PRELOAD="$SHIM" \
		"$BULKCALL" run -q -p iovox.initiateCall --base-url "$MOCK_URL" --rate 0 \
		--concurrency 100 --force "$@" "$T_TMP/c.csv" -o "$out" 2>"$T_TMP/$name.err"
	t_eq "$name: exit" "$?" 4
	local why="No space left on device"
	[ "$errno" = EIO ] && why="Input/output error"
	t_contains "$name: the message names the cause" "$T_TMP/$name.err" "$why"
	t_contains "$name: the message names a file of the folder" "$T_TMP/$name.err" "'$out/"
	t_contains "$name: the message says how to go on" "$T_TMP/$name.err" "bulkcall resume $out"
	"$BULKCALL" resume -q "$out" 2>>"$T_TMP/$name.err"
	local rc=$?
	t_eq "$name: resume once the disk is fine ($rc)" "$([ "$rc" -le 1 ] && echo ok)" ok
	mock_stop
	t_invariants "$T_TMP/c.csv" "$out" --rows 10000 --ledger "$T_TMP/$name.ledger" --expect retry=0 --expect failed=0
	[ -e "$out/results.csv" ] && t_eq "$name: unknown rows were in flight" \
		"$(count_rows "$out/results.csv" 'r["outcome"] == "unknown" and not r["error"].startswith("in flight when the run stopped")')" 0
}

# ENOSPC somewhere in the folder: early, mid-run, late.
faulty nospc-early 3000 ENOSPC 0 ""
faulty nospc-mid 200000 ENOSPC 0 ""
faulty nospc-late 600000 ENOSPC 0 ""
# The journal alone fails: the "sent" barrier cannot be made durable, so
# those rows are not sent.
faulty journal-eio 40000 EIO 0 journal
# Writes succeed but fdatasync fails (results, then the journal).
faulty sync-results 100000 EIO 1 results.csv
faulty sync-journal 20000 EIO 1 journal
# gzip output: a failed member is cut off on resume.
faulty gzip-nospc 60000 ENOSPC 0 "" --gzip
t_eq "gzip: results are one valid gzip stream" "$(gzip -t "$T_TMP/gzip-nospc/results.csv.gz" && echo ok)" ok

# A resume that itself hits the full disk, then one that can write.
out="$T_TMP/twice"
mkdir -p "$out"
mock_start --ledger "$T_TMP/twice.ledger" --latency 10:10
BC_FAULT_PATH="$out/" BC_FAULT_AFTER=150000 LD_PRELOAD="$SHIM" \
	"$BULKCALL" run -q -p iovox.initiateCall --base-url "$MOCK_URL" --rate 0 \
	--concurrency 100 "$T_TMP/c.csv" -o "$out" 2>"$T_TMP/twice.err"
t_eq "twice: run exit" "$?" 4
BC_FAULT_PATH="$out/" BC_FAULT_AFTER=150000 LD_PRELOAD="$SHIM" \
	"$BULKCALL" resume -q "$out" 2>>"$T_TMP/twice.err"
t_eq "twice: resume on a full disk exit" "$?" 4
"$BULKCALL" resume -q "$out" 2>>"$T_TMP/twice.err"
rc=$?
t_eq "twice: resume once there is room ($rc)" "$([ "$rc" -le 1 ] && echo ok)" ok
mock_stop
t_invariants "$T_TMP/c.csv" "$out" --rows 10000 --ledger "$T_TMP/twice.ledger" --expect retry=0 --expect failed=0

t_done
