#!/usr/bin/env bash
# Golden requests, byte for byte, of every profile but initiateCall (whose
# golden is in test_check.sh): `bulkcall render` of the small inputs in
# tests/data/render/, whose values need escaping (quotes, <, &, runs of
# spaces, '@me', '0003*210', UTF-8), compared with tests/data/render/*.golden.
# Every secret is masked: its raw string, and its distinctive prefix in
# any escaped form, appear nowhere. The MOR hashes of the golden are
# recomputed here (hashlib) from the rendered params.
# BC_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
. "$(dirname "$0")/lib.sh"
cd "$BC_SOURCE_DIR" || exit 1
D=tests/data/render

# Secrets: a prefix no request text holds, then characters each body kind
# would escape. A prefix found anywhere means a secret leaked, escaped or not.
export IOVOX_USERNAME='leakiu-user-R7' IOVOX_SECURE_KEY='leakik-key-"K<&>9'
export SMARTFLO_TOKEN='leaksf-tok-"S<&>1'
export VOIPNOW_TOKEN='leakvn-tok-"V<&>2'
export MOR_USER=admin MOR_API_SECRET='leakmo-s3cret&=<"M'
export HTTP_RENDER_TOKEN='leakht-tok-"H<&>5'
unset VOIPNOW_CLIENT_ID VOIPNOW_CLIENT_SECRET
SECRETS=("$IOVOX_USERNAME" "$IOVOX_SECURE_KEY" "$SMARTFLO_TOKEN" "$VOIPNOW_TOKEN"
	"$MOR_API_SECRET" "$HTTP_RENDER_TOKEN" leakiu leakik leaksf leakvn leakmo leakht)

# golden NAME ARGS...: render ARGS (every row of the input; one of them is
# rejected on purpose, hence exit 1) and compare with $D/NAME.golden.
golden() {
	local name=$1 out="$T_TMP/$1.out"
	shift
	"$BULKCALL" render "$@" >"$out" 2>&1
	t_eq "$name: render exit (one row rejected)" "$?" 1
	if [ -n "${BC_UPDATE_GOLDEN:-}" ]; then
		cp "$out" "$D/$name.golden"
	fi
	if diff -u "$D/$name.golden" "$out" >"$T_TMP/$name.diff"; then t_pass; else
		t_fail "$name: render differs from $D/$name.golden"
		sed 's/^/    | /' "$T_TMP/$name.diff" | head -40 >&2
	fi
	local s
	for s in "${SECRETS[@]}"; do
		t_lacks "$name: no secret ${s:0:6}... in render" "$out" "$s"
	done
}

golden callflow -p iovox.updateCallFlow --template $D/callflow-template.xml \
	$D/callflow.csv --rows 1-3
t_contains "callflow: username masked" "$T_TMP/callflow.out" "username: ***"
t_contains "callflow: secureKey masked" "$T_TMP/callflow.out" "secureKey: ***"

golden smartflo -p smartflo.updateIVR $D/smartflo.csv --rows 1-3
t_contains "smartflo: bearer masked" "$T_TMP/smartflo.out" "Authorization: ***"

golden voipnow -p voipnow.updatePhoneCallEvent $D/voipnow.csv --rows 1-4
t_contains "voipnow: bearer masked" "$T_TMP/voipnow.out" "Authorization: ***"

# OAuth: render mints nothing (it sends nothing), so the header says a
# token will be minted, and neither client credential may appear.
env -u VOIPNOW_TOKEN VOIPNOW_CLIENT_ID='leakci-client-"C<&>3' \
	VOIPNOW_CLIENT_SECRET='leakcs-secret-"X<&>4' "$BULKCALL" render \
	-p voipnow.updatePhoneCallEvent $D/voipnow.csv --rows 1-4 >"$T_TMP/oauth.out" 2>&1
t_eq "voipnow oauth: render exit" "$?" 1
t_contains "voipnow oauth: the token is minted at run time" "$T_TMP/oauth.out" \
	"Authorization: Bearer *** (a token minted when the run starts)"
for s in 'leakci-client-"C<&>3' 'leakcs-secret-"X<&>4' leakci leakcs; do
	t_lacks "voipnow oauth: no client credential ${s:0:6}..." "$T_TMP/oauth.out" "$s"
done

golden mor -p mor.deviceCallflowUpdate --base-url https://mor.example.com:8443 \
	$D/mor.csv --rows 1-4
# The hash of each rendered request, computed again from its params:
# values of the hashed params in the server's order, then the secret.
python3 - "$T_TMP/mor.out" "$MOR_API_SECRET" >"$T_TMP/mor.hash" 2>&1 <<'PY'
import hashlib, sys, urllib.parse
order = ["device_id", "callflow_action", "state", "forward_to_device",
         "external_number", "did_id", "src_callerid", "custom", "fax_device"]
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.startswith("u="):
        continue
    params = dict(urllib.parse.parse_qsl(line.strip(), keep_blank_values=True))
    want = hashlib.sha1(("".join(params[k] for k in order if k in params)
                         + sys.argv[2]).encode()).hexdigest()
    if params["hash"] != want:
        print("hash %s, want %s for %s" % (params["hash"], want, line.strip()))
        sys.exit(1)
    n += 1
print(n)
PY
t_eq "mor: every rendered hash recomputed" "$(cat "$T_TMP/mor.hash")" 3

# The generic profile, one body kind each, from the same input.
golden http-json -p http --profile-file $D/http-json.json $D/http.csv --rows 1-3
golden http-xml -p http --profile-file $D/http-xml.json --base-url http://127.0.0.1:9 \
	$D/http.csv --rows 1-3
golden http-form -p http --profile-file $D/http-form.json $D/http.csv --rows 1-3
golden http-raw -p http --profile-file $D/http-raw.json $D/http.csv --rows 1-3
t_contains "http raw: secret-named literal header masked" "$T_TMP/http-raw.out" \
	"X-Secret-Word: ***"
t_lacks "http raw: literal secret value" "$T_TMP/http-raw.out" "literal-not-from-env"

t_done
