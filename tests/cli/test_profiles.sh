#!/usr/bin/env bash
# The provider profiles end to end against bulkcall-mock: the samples give
# their documented outcomes; every profile survives 500s and resets
# (before and after the server acted) with every row accounted for and
# every ok row in the mock's ledger; a non-idempotent http profile leaves
# rows reset after the server acted unknown, never sent twice; throttling,
# OAuth minting (before expiry: no 401) and re-minting after a 401, fatal
# credentials, usage errors; `bulkcall profiles NAME` documents each one.
. "$(dirname "$0")/lib.sh"
: "${BULKCALL_MOCK:?BULKCALL_MOCK must point at bulkcall-mock}"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
export SMARTFLO_TOKEN=smartflo-token VOIPNOW_TOKEN=voipnow-token
export MOR_USER=admin MOR_API_SECRET=mor-secret
unset VOIPNOW_CLIENT_ID VOIPNOW_CLIENT_SECRET
cd "$BC_SOURCE_DIR" || exit 1 # the sample configs name files under samples/

run() { "$BULKCALL" run -q --base-url "$MOCK_URL" "$@"; }
# mock_stat NAME: a count from the mock's exit line ("N requests: ok=..
# unauthorized=.. token=.. reset_after=.."), read after mock_stop.
mock_stat() { grep -oE " $1=[0-9]+" "$T_TMP/mock.err" | grep -oE '[0-9]+$' | tail -1; }
# Faults for the soak runs: 500s, resets before and after processing.
FAULTS=(--fail-rate 0.1 --reset-rate 0.02 --reset-after-rate 0.05)
# Retry quickly and often enough that every row gets through.
FAST=(--rate 0 --concurrency 50 --backoff 5:50 --max-attempts 12)
N=400

gen() { # gen KIND N > file: a soak input whose ledger key is unique per row
	python3 - "$@" <<'PY'
import gzip, json, sys
kind, n = sys.argv[1], int(sys.argv[2])
out = []
if kind == "callflow":
    out.append("name,new_name,notes,agent_phone,ring_seconds,whisper")
    for i in range(n):
        out.append('flow-%05d,,"Notes, with <markup> & ""quotes""",4477009%05d,%d,Lead %d'
                   % (i, i, 10 + i % 50, i))
elif kind == "smartflo":
    out.append("id,name,description,recording,timeout,incorrect_count,invalid_recording,"
               "invalid_destination,timeout_retry_recording,timeout_recording,"
               "timeout_destination,timeout_tries,recording_invalid,option,destination")
    for i in range(n):
        opts = ";".join(str(k) for k in range(1, 2 + i % 4))
        dests = ";".join("extension|0504753%04d" % (i + k) for k in range(1, 2 + i % 4))
        out.append("%d,IVR %d,Migrated IVR %d,recording|%d,20,5,recording|1,extension|0504,"
                   "recording|2,recording|3,extension|0505,3,recording|4,%s,%s"
                   % (1000 + i, i, i, i, opts, dests))
elif kind == "voipnow":
    for i in range(n):
        row = {"extension": "0003*210", "event_type": i % 3, "event_id": "ev%05d" % i,
               "method": i % 2, "note": 'nightly "sync" %d' % i}
        if i % 5 == 0:
            row["url"] = "https://hooks.example.com/e/%d?x=1&y=2" % i
        out.append(json.dumps(row))
elif kind == "mor":
    out.append("device_id,state,callflow_action,forward_to_device,external_number,custom")
    for i in range(n):
        if i % 2:
            out.append("%d,busy,forward,,3706269%04d,caller %d" % (1000 + i, i, i))
        else:
            out.append("%d,no_answer,voicemail,,," % (1000 + i))
elif kind == "http":
    out.append("user_id,extension,event_type,event_id,note,status")
    for i in range(n):
        out.append('@me,0003*210,%d,hx%05d,"note \\ ""%d""",%d' % (i % 3, i, i, i % 2))
sys.stdout.write("\n".join(out) + "\n")
PY
}

# ---- 1. The samples give their documented outcomes.
mock_start --ledger "$T_TMP/s.ndjson"
run -c samples/iovox-callflow.config.json samples/iovox-callflows.csv -o "$T_TMP/s1"
t_eq "callflow sample exit" "$?" 1
t_invariants samples/iovox-callflows.csv "$T_TMP/s1" --rows 6 --expect ok=3 \
	--expect failed=2 --expect rejected=1
t_contains "callflow: unknown flow" "$T_TMP/s1/errors.csv" "CallFlow Name does not exist"
t_contains "callflow: name taken" "$T_TMP/s1/errors.csv" "New CallFlow Name already exists"
t_contains "callflow: num placeholder" "$T_TMP/s1/errors.csv" \
	"line 5: column ring_seconds: 'soon' is not a number"
t_contains "callflow: escaped values reached the API" "$T_TMP/s.ndjson" \
	'"new_name":"Sales & Support <UK>","notes":"O'"'"'Neil'"'"'s team"'

run -c samples/smartflo-ivr.config.json samples/smartflo-ivr-migration.csv -o "$T_TMP/s2"
t_eq "smartflo sample exit" "$?" 1
t_invariants samples/smartflo-ivr-migration.csv "$T_TMP/s2" --rows 6 --expect ok=3 \
	--expect failed=1 --expect rejected=2
t_contains "smartflo: lists as arrays, | kept" "$T_TMP/s.ndjson" \
	'"option":["1","2","9"],"destination":["extension|05047530021","extension|05047530022","voicemail|3"]'
t_contains "smartflo: unequal lists" "$T_TMP/s2/errors.csv" \
	"line 5: column destination: 1 item, but option has 2"
t_contains "smartflo: API message" "$T_TMP/s2/errors.csv" "IVR not found."

run -c samples/voipnow.config.json samples/voipnow-reconcile.ndjson.gz -o "$T_TMP/s3"
t_eq "voipnow sample exit" "$?" 1
t_invariants samples/voipnow-reconcile.ndjson.gz "$T_TMP/s3" --rows 8 --expect ok=3 \
	--expect failed=1 --expect rejected=4
t_contains "voipnow: pce code is the error" "$T_TMP/s3/results.csv" \
	"pce_not_found: The phone call event does not exist."
t_contains "voipnow: path decoded by the server" "$T_TMP/s.ndjson" \
	'"user_id":"@owner","extension":"0003*210","event_type":"2","event_id":"HangupHook01"'

run -c samples/mor.config.json samples/mor-callflows.csv -o "$T_TMP/s4"
t_eq "mor sample exit" "$?" 1
t_invariants samples/mor-callflows.csv "$T_TMP/s4" --rows 10 --expect ok=6 \
	--expect failed=1 --expect rejected=3
t_contains "mor: row error from <page><error>" "$T_TMP/s4/errors.csv" "Device was not found"
t_contains "mor: hash accepted with device_callerid sent" "$T_TMP/s.ndjson" \
	'"forward_to_device":"12","device_callerid":"true"'

run -c samples/http.config.json samples/http-example.csv -o "$T_TMP/s5"
t_eq "http sample exit" "$?" 1
t_invariants samples/http-example.csv "$T_TMP/s5" --rows 5 --expect ok=3 \
	--expect failed=1 --expect rejected=1
t_contains "http: error_field" "$T_TMP/s5/errors.csv" ",pce_not_found"
t_contains "http: JSON-escaped body" "$T_TMP/s.ndjson" \
	'"note":"Quotes \" and \\ backslashes, & ampersands: JSON-escaped"'
mock_stop
t_lacks "no secret in the output folders" "$T_TMP" "mor-secret"
t_lacks "no token in the output folders" "$T_TMP" "smartflo-token"

# ---- 2. Soak: faults on, every row ok exactly as the ledger says. The
# updates are idempotent: one reset after the server acted is sent again
# and may be applied twice, hence --ledger-allow-repeats.
soak() { # soak NAME KIND INPUT LEDGER_KEY RUN_ARGS...
	local name=$1 kind=$2 input=$3 key=$4
	shift 4
	gen "$kind" $N >"$input"
	mock_start --ledger "$T_TMP/$name.ndjson" "${FAULTS[@]}"
	run "${FAST[@]}" "$@" "$input" -o "$T_TMP/$name"
	t_eq "$name soak exit" "$?" 0
	mock_stop
	t_invariants "$input" "$T_TMP/$name" --rows $N --expect ok=$N \
		--ledger "$T_TMP/$name.ndjson" --ledger-key "$key" --ledger-allow-repeats
	retried=$(count_rows "$T_TMP/$name/results.csv" 'r["attempts"] != "1"')
	t_eq "$name soak retried some rows" "$([ "$retried" -gt 0 ] && echo yes)" yes
}
soak callflow callflow "$T_TMP/flows.csv" name \
	-p iovox.updateCallFlow --template samples/iovox-callflow-template.xml
soak smartflo smartflo "$T_TMP/ivrs.csv" id -p smartflo.updateIVR
gen voipnow $N | gzip -n >"$T_TMP/events.ndjson.gz"
mock_start --ledger "$T_TMP/voipnow.ndjson" "${FAULTS[@]}"
run "${FAST[@]}" -p voipnow.updatePhoneCallEvent --results-format csv \
	"$T_TMP/events.ndjson.gz" -o "$T_TMP/voipnow"
t_eq "voipnow soak exit" "$?" 0
mock_stop
t_invariants "$T_TMP/events.ndjson.gz" "$T_TMP/voipnow" --rows $N --expect ok=$N \
	--ledger "$T_TMP/voipnow.ndjson" --ledger-key event_id --ledger-allow-repeats
soak mor mor "$T_TMP/devices.csv" device_id -p mor.deviceCallflowUpdate
# http: the profile file's idempotent, key and key_columns reach the run
# through the bound profile; results carry the key columns, the ledger is
# matched on them.
gen http $N >"$T_TMP/hx.csv"
mock_start --ledger "$T_TMP/http.ndjson" "${FAULTS[@]}"
run "${FAST[@]}" -c samples/http.config.json "$T_TMP/hx.csv" -o "$T_TMP/http"
t_eq "http soak exit" "$?" 0
mock_stop
t_eq "http soak: key columns of the profile file in results" \
	"$(head -1 "$T_TMP/http/results.csv")" \
	"row,line,extension,event_id,outcome,http_status,error,attempts,latency_ms,finished_at"
t_invariants "$T_TMP/hx.csv" "$T_TMP/http" --rows $N --expect ok=$N \
	--ledger "$T_TMP/http.ndjson" --ledger-key event_id --ledger-allow-repeats
t_contains "http soak: note JSON-escaped" "$T_TMP/http.ndjson" '"note":"note \\ \"7\""'

# http with "idempotent": false: a reset after the server acted leaves the
# row unknown (in unknown.csv), never sent again; no operation twice.
python3 - samples/http-example.json "$T_TMP/once.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["idempotent"] = False
json.dump(p, open(sys.argv[2], "w"))
PY
mock_start --ledger "$T_TMP/once.ndjson" --reset-after-rate 0.1
run "${FAST[@]}" -p http --profile-file "$T_TMP/once.json" "$T_TMP/hx.csv" -o "$T_TMP/once"
t_eq "http not idempotent: exit (unknown rows)" "$?" 1
mock_stop
t_invariants "$T_TMP/hx.csv" "$T_TMP/once" --rows $N \
	--ledger "$T_TMP/once.ndjson" --ledger-key event_id
unknown=$(count_rows "$T_TMP/once/results.csv" 'r["outcome"] == "unknown"')
ok=$(count_rows "$T_TMP/once/results.csv" 'r["outcome"] == "ok"')
t_eq "http not idempotent: some rows unknown ($unknown)" \
	"$([ "$unknown" -gt 0 ] && echo yes)" yes
t_eq "http not idempotent: every row ok or unknown" "$((ok + unknown))" $N
t_eq "http not idempotent: unknown rows = the mock's resets after acting" \
	"$unknown" "$(mock_stat reset_after)"
t_eq "http not idempotent: no row sent twice" \
	"$(count_rows "$T_TMP/once/results.csv" 'r["attempts"] != "1"')" 0
t_eq "http not idempotent: the ledger holds each row once" \
	"$(wc -l <"$T_TMP/once.ndjson" | tr -d ' ')" $N
t_eq "http not idempotent: unknown.csv lists them" \
	"$(($(wc -l <"$T_TMP/once/unknown.csv") - 1))" "$unknown"

# ---- 3. Smartflo's account-wide 429: rows wait, no attempt spent.
gen smartflo 120 >"$T_TMP/ivr120.csv"
mock_start --ledger "$T_TMP/t.ndjson" --throttle smartflo:40/1 --block smartflo:1
run -p smartflo.updateIVR --rate 0 --concurrency 10 --throttle-cooldown 1 \
	"$T_TMP/ivr120.csv" -o "$T_TMP/t"
t_eq "smartflo throttled run exit" "$?" 0
mock_stop
t_invariants "$T_TMP/ivr120.csv" "$T_TMP/t" --rows 120 --expect ok=120 \
	--ledger "$T_TMP/t.ndjson" --ledger-key id
t_eq "throttled rows spent no attempt" \
	"$(count_rows "$T_TMP/t/results.csv" 'r["attempts"] != "1"')" 0
throttled=$(grep -o 'throttled=[0-9]*' "$T_TMP/mock.err" | grep -o '[0-9]*$' | head -1)
t_eq "the mock throttled some requests" "$([ "${throttled:-0}" -gt 0 ] && echo yes)" yes

# ---- 4. VoipNow with client credentials: tokens minted (and re-minted
# before they expire), bad credentials stop the run.
gen voipnow 150 >"$T_TMP/ev150.ndjson"
mock_start --ledger "$T_TMP/o.ndjson" --token-ttl 2
env -u VOIPNOW_TOKEN VOIPNOW_CLIENT_ID=voipnow-client VOIPNOW_CLIENT_SECRET=voipnow-secret \
	"$BULKCALL" run -q --base-url "$MOCK_URL" -p voipnow.updatePhoneCallEvent --rate 50 \
	"$T_TMP/ev150.ndjson" -o "$T_TMP/o1"
t_eq "voipnow oauth run exit" "$?" 0
mock_stop
t_invariants "$T_TMP/ev150.ndjson" "$T_TMP/o1" --rows 150 --expect ok=150 \
	--ledger "$T_TMP/o.ndjson" --ledger-key event_id
tokens=$(mock_stat token)
t_eq "tokens minted again during the 3 s run (mock minted ${tokens:-0})" \
	"$([ "${tokens:-0}" -ge 2 ] && echo yes)" yes
# Re-minted before expiry, not after a 401: the mock answered none.
t_eq "no request met an expired token (mock 401s)" "$(mock_stat unauthorized)" 0
t_lacks "client secret never written" "$T_TMP/o1" "voipnow-secret"
mock_start --ledger "$T_TMP/o2.ndjson"
env -u VOIPNOW_TOKEN VOIPNOW_CLIENT_ID=voipnow-client VOIPNOW_CLIENT_SECRET=wrong \
	"$BULKCALL" run -q --base-url "$MOCK_URL" -p voipnow.updatePhoneCallEvent \
	"$T_TMP/ev150.ndjson" -o "$T_TMP/o2"
t_eq "voipnow invalid_client exit" "$?" 5
t_contains "invalid_client reported" "$T_TMP/o2/summary.json" "invalid_client"
mock_stop

# 4b. Tokens revoked server-side mid-run (every 60 uses): each 401 on the
# current token is minted again once and the row re-sent; none is lost,
# none spends an attempt.
mock_start --ledger "$T_TMP/o3.ndjson" --token-revoke-every 60
env -u VOIPNOW_TOKEN VOIPNOW_CLIENT_ID=voipnow-client VOIPNOW_CLIENT_SECRET=voipnow-secret \
	"$BULKCALL" run -q --base-url "$MOCK_URL" -p voipnow.updatePhoneCallEvent --rate 0 \
	--concurrency 8 "$T_TMP/ev150.ndjson" -o "$T_TMP/o3"
t_eq "voipnow 401 re-mint run exit" "$?" 0
mock_stop
t_invariants "$T_TMP/ev150.ndjson" "$T_TMP/o3" --rows 150 --expect ok=150 \
	--ledger "$T_TMP/o3.ndjson" --ledger-key event_id
tokens=$(mock_stat token)
t_eq "minted again after each revocation (mock minted ${tokens:-0})" \
	"$([ "${tokens:-0}" -ge 3 ] && echo yes)" yes
# The counter the expiry test relies on does count: revocations gave 401s.
t_eq "revoked tokens met 401s (mock 401s: $(mock_stat unauthorized))" \
	"$([ "$(mock_stat unauthorized)" -gt 0 ] && echo yes)" yes
t_eq "re-sent rows spent no attempt" \
	"$(python3 -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)['attempts'] != 1))" "$T_TMP/o3/results.ndjson")" 0

# ---- 5. MOR: a wrong secret is "Incorrect hash", fatal; nothing applied.
gen mor 50 >"$T_TMP/dev50.csv"
mock_start --ledger "$T_TMP/m.ndjson"
MOR_API_SECRET=wrong run -p mor.deviceCallflowUpdate "$T_TMP/dev50.csv" -o "$T_TMP/m"
t_eq "mor wrong secret exit" "$?" 5
mock_stop
t_invariants "$T_TMP/dev50.csv" "$T_TMP/m" --rows 50 --expect ok=0 \
	--ledger "$T_TMP/m.ndjson" --ledger-key device_id
t_contains "mor fatal reason" "$T_TMP/m/summary.json" "Incorrect hash"

# ---- 6. Usage errors before any row.
code=$(t_code "$BULKCALL" check -q -p iovox.updateCallFlow samples/iovox-callflows.csv \
	-o "$T_TMP/u1" 2>"$T_TMP/u1.err")
t_eq "updateCallFlow without --template" "$code" 2
t_contains "says --template" "$T_TMP/u1.err" "iovox.updateCallFlow needs --template FILE"
printf 'name,phone\nf,1\n' >"$T_TMP/nocol.csv"
code=$(t_code "$BULKCALL" check -q -p iovox.updateCallFlow --template \
	samples/iovox-callflow-template.xml "$T_TMP/nocol.csv" -o "$T_TMP/u2" 2>"$T_TMP/u2.err")
t_eq "template column missing from the CSV" "$code" 2
t_contains "names the column" "$T_TMP/u2.err" "uses {{agent_phone}}, but the input has no column 'agent_phone'"
code=$(t_code "$BULKCALL" check -q -p http "$T_TMP/hx.csv" -o "$T_TMP/u3" 2>"$T_TMP/u3.err")
t_eq "http without --profile-file" "$code" 2
t_contains "says --profile-file" "$T_TMP/u3.err" "http needs --profile-file FILE"
printf '{"method":"PUT","url":"https://a/{{id}}","retry":[500]}' >"$T_TMP/bad.json"
code=$(t_code "$BULKCALL" check -q -p http --profile-file "$T_TMP/bad.json" "$T_TMP/hx.csv" \
	-o "$T_TMP/u4" 2>"$T_TMP/u4.err")
t_eq "http profile file with an unknown field" "$code" 2
t_contains "names the field" "$T_TMP/u4.err" "unknown field 'retry'"
printf 'device_id,state,callflow_action,note\n4,busy,voicemail,x\n' >"$T_TMP/extra.csv"
code=$(t_code "$BULKCALL" check -q -p mor.deviceCallflowUpdate "$T_TMP/extra.csv" \
	-o "$T_TMP/u5" 2>"$T_TMP/u5.err")
t_eq "mor CSV with an extra column" "$code" 2
t_contains "names the column" "$T_TMP/u5.err" "column 'note' is not a parameter of device_callflow_update"
code=$(t_code env -u SMARTFLO_TOKEN "$BULKCALL" run -q -p smartflo.updateIVR \
	--base-url http://127.0.0.1:9 samples/smartflo-ivr-migration.csv -o "$T_TMP/u6" 2>"$T_TMP/u6.err")
t_eq "smartflo run without a token" "$code" 2
t_contains "names the variable" "$T_TMP/u6.err" "SMARTFLO_TOKEN is not set"
code=$(t_code env -u VOIPNOW_TOKEN "$BULKCALL" run -q -p voipnow.updatePhoneCallEvent \
	--base-url http://127.0.0.1:9 samples/voipnow-reconcile.ndjson.gz -o "$T_TMP/u7" 2>"$T_TMP/u7.err")
t_eq "voipnow run without credentials" "$code" 2
t_contains "names the variables" "$T_TMP/u7.err" \
	"export VOIPNOW_TOKEN, or VOIPNOW_CLIENT_ID and VOIPNOW_CLIENT_SECRET"

# ---- 7. render masks secrets and shows the escaped requests.
"$BULKCALL" render -c samples/smartflo-ivr.config.json samples/smartflo-ivr-migration.csv \
	--rows 1-1 >"$T_TMP/r1.txt"
t_contains "smartflo render: bearer masked" "$T_TMP/r1.txt" "Authorization: ***"
t_lacks "smartflo render: no token" "$T_TMP/r1.txt" "smartflo-token"
"$BULKCALL" render -c samples/voipnow.config.json samples/voipnow-reconcile.ndjson.gz \
	--rows 1-1 >"$T_TMP/r2.txt"
t_contains "voipnow render: segments encoded" "$T_TMP/r2.txt" \
	"PUT https://uapi.voipnow.com/uapi/extensions/%40me/0003%2A210/phoneCallEvents/0/NqeyDRqo4FtabmFj8gNWq3hsiGNYyq"
"$BULKCALL" render -c samples/mor.config.json samples/mor-callflows.csv --rows 1-1 >"$T_TMP/r3.txt"
t_contains "mor render: seed example hash" "$T_TMP/r3.txt" \
	"u=admin&device_id=4&state=before_call&callflow_action=forward&external_number=37062699289&custom=caller&hash=965ce931ee7eaa03e3d22b61f54fce9645e13fad"
t_lacks "mor render: no secret" "$T_TMP/r3.txt" "mor-secret"
"$BULKCALL" render -c samples/http.config.json samples/http-example.csv --rows 1-1 >"$T_TMP/r4.txt"
t_contains "http render: header masked" "$T_TMP/r4.txt" "Authorization: ***"
t_lacks "http render: no token" "$T_TMP/r4.txt" "voipnow-token"

# ---- 8. bulkcall profiles NAME documents columns, types, rules.
"$BULKCALL" profiles >"$T_TMP/list.txt"
for p in iovox.updateCallFlow smartflo.updateIVR voipnow.updatePhoneCallEvent \
	mor.deviceCallflowUpdate http; do
	t_contains "listed: $p" "$T_TMP/list.txt" "$p"
	"$BULKCALL" profiles "$p" >"$T_TMP/p.txt"
	t_eq "profiles $p exit" "$?" 0
	t_contains "$p: idempotency" "$T_TMP/p.txt" "idempotent:"
done
"$BULKCALL" profiles iovox.updateCallFlow >"$T_TMP/p1.txt"
t_contains "callflow doc: name" "$T_TMP/p1.txt" "name                   string      required"
t_contains "callflow doc: template" "$T_TMP/p1.txt" "Needs --template FILE"
t_contains "callflow doc: idempotent" "$T_TMP/p1.txt" "idempotent:  yes"
"$BULKCALL" profiles smartflo.updateIVR >"$T_TMP/p2.txt"
t_contains "smartflo doc: rate" "$T_TMP/p2.txt" "default key: *    default rate: 3/s"
t_contains "smartflo doc: timeout" "$T_TMP/p2.txt" "timeout                integer     required"
t_contains "smartflo doc: lists" "$T_TMP/p2.txt" "option                 list        required"
t_contains "smartflo doc: never |" "$T_TMP/p2.txt" "never split on |"
"$BULKCALL" profiles voipnow.updatePhoneCallEvent >"$T_TMP/p3.txt"
t_contains "voipnow doc: user_id default" "$T_TMP/p3.txt" "@me (default when empty)"
t_contains "voipnow doc: oauth" "$T_TMP/p3.txt" "VOIPNOW_CLIENT_ID and VOIPNOW_CLIENT_SECRET"
# Seed 003's words for status (pce_status_invalid), and its two successes.
t_contains "voipnow doc: status as the seed says" "$T_TMP/p3.txt" \
	"status                 0|1         optional  0 for enabled or 1 for disabled"
t_contains "voipnow doc: success" "$T_TMP/p3.txt" "Success: 200 or 204 (another 2xx fails the row)."
"$BULKCALL" profiles mor.deviceCallflowUpdate >"$T_TMP/p4.txt"
t_contains "mor doc: base url" "$T_TMP/p4.txt" "pass --base-url"
t_contains "mor doc: hash order" "$T_TMP/p4.txt" \
	"sha1_hex(device_id callflow_action state forward_to_device external_number did_id src_callerid custom fax_device"
t_contains "mor doc: extra columns" "$T_TMP/p4.txt" "refuses any other"
t_lacks "mor doc: no undocumented caller ID rule" "$T_TMP/p4.txt" "caller ID source"
"$BULKCALL" profiles http >"$T_TMP/p5.txt"
t_contains "http doc: json escaping" "$T_TMP/p5.txt" "{{json:x}}"
t_contains "http doc: env" "$T_TMP/p5.txt" "{{env:API_TOKEN}}"

t_done
