#!/usr/bin/env bash
# TLS and proxies (src/net/transport.c): certificates are verified by
# default (a self-signed server is refused, nothing is sent, the rows stay
# retry); --cacert trusts a CA; --insecure sends anyway and warns;
# --proxy sends every request through the proxy.
. "$(dirname "$0")/lib.sh"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
P=iovox.initiateCall
TLS="$BC_SOURCE_DIR/tests/data/tls"
SERVER="$BC_SOURCE_DIR/tests/cli/tls_server.py"
"$BC_SOURCE_DIR/scripts/gen-campaign" 20 >"$T_TMP/c20.csv"
PIDS=

# srv_start NAME MODE ARGS...: sets PORT
srv_start() {
	local name=$1
	shift
	python3 "$SERVER" "$1" "$T_TMP/$name.port" "$T_TMP/$name.count" "${@:2}" &
	PIDS="$PIDS $!"
	for _ in $(seq 1 200); do
		[ -s "$T_TMP/$name.port" ] && break
		sleep 0.05
	done
	PORT=$(cat "$T_TMP/$name.port")
}
count() { [ -f "$T_TMP/$1.count" ] && cut -d' ' -f1 "$T_TMP/$1.count" || echo 0; }
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; t_cleanup' EXIT

srv_start tls https "$TLS/server.pem" "$TLS/server.key"
URL="https://127.0.0.1:$PORT"
run() { "$BULKCALL" run -q -p $P --base-url "$URL" --rate 0 --max-attempts 2 \
	--backoff 1:5 "$@"; }

# 1. Verification on by default: the CA is unknown, no request leaves.
run "$T_TMP/c20.csv" -o "$T_TMP/r1" 2>"$T_TMP/r1.err"
t_eq "unverified server: exit" "$?" 1
t_invariants "$T_TMP/c20.csv" "$T_TMP/r1" --rows 20 --expect retry=20
t_contains "the error says why" "$T_TMP/r1/results.csv" "certificate"
t_eq "nothing reached the server" "$(count tls)" 0
t_lacks "no --insecure warning" "$T_TMP/r1.err" "insecure"

# 2. --cacert trusts the test CA: every row ok.
run --cacert "$TLS/ca.pem" "$T_TMP/c20.csv" -o "$T_TMP/r2"
t_eq "--cacert: exit" "$?" 0
t_invariants "$T_TMP/c20.csv" "$T_TMP/r2" --rows 20 --expect ok=20
t_eq "the server answered every row" "$(count tls)" 20

# 3. --insecure: sent without verification, with a warning on stderr.
run --insecure "$T_TMP/c20.csv" -o "$T_TMP/r3" 2>"$T_TMP/r3.err"
t_eq "--insecure: exit" "$?" 0
t_invariants "$T_TMP/c20.csv" "$T_TMP/r3" --rows 20 --expect ok=20
t_contains "--insecure warns" "$T_TMP/r3.err" "warning: --insecure"
t_eq "the server answered 40 rows in all" "$(count tls)" 40

# 4. A CA file that cannot be read is a usage error before anything runs.
run --cacert "$T_TMP/missing.pem" "$T_TMP/c20.csv" -o "$T_TMP/r4" 2>"$T_TMP/r4.err"
t_eq "unreadable --cacert: exit" "$?" 2
t_contains "names the file" "$T_TMP/r4.err" "missing.pem"

# 5. --proxy: the requests go to the proxy, with the API's absolute URL.
srv_start proxy proxy
"$BULKCALL" run -q -p $P --base-url "http://api.example.invalid:8080" --rate 0 \
	--proxy "http://127.0.0.1:$PORT" "$T_TMP/c20.csv" -o "$T_TMP/r5"
t_eq "--proxy: exit" "$?" 0
t_invariants "$T_TMP/c20.csv" "$T_TMP/r5" --rows 20 --expect ok=20
t_eq "the proxy carried every row" "$(count proxy)" 20
t_contains "as absolute URLs" "$T_TMP/proxy.count" \
	"http://api.example.invalid:8080/Calling?v=3&method=initiateCall"

# 6. HTTP/2 where the server offers it (ALPN): requests are multiplexed
# as streams over a few connections. Needs python3-h2 (scripts/setup.sh
# installs it); the interpreter with it may not be the first python3.
H2PY=
for py in python3 /usr/bin/python3; do
	"$py" -c "import h2" 2>/dev/null && { H2PY=$py; break; }
done
if [ -z "$H2PY" ]; then
	t_fail "HTTP/2: no python3 with the h2 module (apt-get install python3-h2)"
else
	"$H2PY" "$BC_SOURCE_DIR/tests/cli/h2_server.py" "$T_TMP/h2.port" \
		"$T_TMP/h2.stats" "$TLS/server.pem" "$TLS/server.key" &
	PIDS="$PIDS $!"
	for _ in $(seq 1 200); do
		[ -s "$T_TMP/h2.port" ] && break
		sleep 0.05
	done
	"$BC_SOURCE_DIR/scripts/gen-campaign" 300 >"$T_TMP/c300.csv"
	"$BULKCALL" run -q -p $P --base-url "https://127.0.0.1:$(cat "$T_TMP/h2.port")" \
		--rate 0 --concurrency 50 --cacert "$TLS/ca.pem" "$T_TMP/c300.csv" -o "$T_TMP/r6"
	t_eq "HTTP/2: exit" "$?" 0
	t_invariants "$T_TMP/c300.csv" "$T_TMP/r6" --rows 300 --expect ok=300
	read -r conns streams max_open <"$T_TMP/h2.stats"
	t_eq "HTTP/2: every row was a stream" "$streams" 300
	# one connection per multi handle at most, not one per request
	t_eq "HTTP/2: a few connections ($conns)" "$([ "$conns" -le 8 ] && echo yes)" yes
	# 50 in flight over those connections: many streams at once on one
	t_eq "HTTP/2: streams multiplexed ($max_open at once)" \
		"$([ "$max_open" -ge 10 ] && echo yes)" yes
fi
t_done
