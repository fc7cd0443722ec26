#!/usr/bin/env bash
# Runs transport_bench against a private nginx (bench/nginx.conf) at
# C = 100, 1000, 10000 for both event loops and multi-handle sizes, and
# prints one line per run. Usage: bench/transport_bench.sh [BENCH_BIN] [N]
# Environment: CONCURRENCY="100 1000" to narrow, SLOW=1 for the trickle
# comparison, TLS=1 for HTTP/2 over TLS.
# Needs nginx and openssl; raise `ulimit -n` (>= 2*C + slack) first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/transport_bench}
n=${2:-200000}
dir=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
tlsport=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
sed -e "s#@DIR@#$dir#g" -e "s#@PORT@#$port#g" -e "s#@TLSPORT@#$tlsport#g" \
	"$here/nginx.conf" >"$dir/nginx.conf"
nginx -p "$dir" -c "$dir/nginx.conf" &
ngx=$!
trap 'kill $ngx 2>/dev/null; wait $ngx 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
url=http://127.0.0.1:$port/
echo "# nginx on $url, https://127.0.0.1:$tlsport/ (h2); ulimit -n $(ulimit -n)"
# -k 100: the default spread over multi handles; -k C: one multi handle
for c in ${CONCURRENCY:-100 1000 10000}; do
	for k in $(printf '%s\n' 100 "$c" | sort -un); do
		"$bin" -n "$n" -c "$c" -k "$k" -l epoll "$url"
		"$bin" -n "$n" -c "$c" -k "$k" -l poll "$url"
	done
done
# Trickle: nginx answers /slow at 5,000 req/s in all, so the client waits
# on the server as with a remote API; compare cpu_us/req, not req/s.
if [ -n "${SLOW:-}" ]; then
	for c in 1000 10000; do
		for k in 100 "$c"; do
			"$bin" -n 30000 -c "$c" -k "$k" -l epoll "${url}slow"
			"$bin" -n 30000 -c "$c" -k "$k" -l poll "${url}slow"
		done
	done
fi
if [ -n "${TLS:-}" ]; then
	for c in ${CONCURRENCY:-100 1000 10000}; do
		"$bin" -i -n "$n" -c "$c" -k 100 -l epoll "https://127.0.0.1:$tlsport/"
	done
fi
