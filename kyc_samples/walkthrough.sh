#!/usr/bin/env bash
# The sandbox walkthrough, written by `kyc-service samples`: every scenario of README.txt
# against a running KYC service in test mode, through its public API with curl.
#
#   bash walkthrough.sh                  # every scenario
#   bash walkthrough.sh individual ...   # only the scenarios named
#
# KYC_BASE_URL  the service (default http://127.0.0.1:8000)
# KYC_API_KEY   a test-mode key with every scope (default: the one `make run` /
#               `kyc-service dev-setup` keeps in var/dev-api-key: under $KYC_HOME, the
#               working directory or the directory above this one)
#
# For each scenario: create the verification (bodies/NAME.json), upload each document
# (multipart `kind` and `file`), submit, poll until it settles, confirm the micro-deposit
# when it waits for one (always 0.32 in test mode), then print `NAME: status (code)` and
# compare it with the expected outcome. Exits 1 when any scenario differs.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE=${KYC_BASE_URL:-http://127.0.0.1:8000}
BASE=${BASE%/}
DEPOSIT_AMOUNT=0.32
POLL_SECONDS=${KYC_WALKTHROUGH_TIMEOUT:-120}

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "walkthrough: $tool is needed" >&2; exit 2; }
done

KEY=${KYC_API_KEY:-}
for candidate in ${KYC_HOME:+"$KYC_HOME/var/dev-api-key"} var/dev-api-key "$HERE/../var/dev-api-key"; do
  if [ -z "$KEY" ] && [ -r "$candidate" ]; then
    KEY=$(tr -d '[:space:]' <"$candidate")
  fi
done
if [ -z "$KEY" ]; then
  echo "walkthrough: no API key: set KYC_API_KEY, or run 'kyc-service dev-setup' here" \
    "(it writes var/dev-api-key)" >&2
  exit 2
fi

if [[ $KEY != kyc_test_* ]]; then
  echo "walkthrough: refusing a key that is not a test-mode key (kyc_test_…): the samples" \
    "would go to real, billed verifiers" >&2
  exit 2
fi

if ! curl -sf -o /dev/null --max-time 5 "$BASE/healthz"; then
  echo "walkthrough: the service does not answer at $BASE (start it with 'make run')" >&2
  exit 2
fi

ANSWER=$(mktemp)
HEADERS=$(mktemp) # the key goes to curl in a file, never on its command line (ps shows that)
chmod 600 "$HEADERS"
printf 'Authorization: Bearer %s\n' "$KEY" >"$HEADERS"
trap 'rm -f "$ANSWER" "$HEADERS"' EXIT
FAILED=0
RAN=0
ONLY=("$@")

# json FIELD.PATH — print a field of the last answer (empty when absent or null).
json() {
  python3 - "$ANSWER" "$1" <<'PY'
import json, sys
try:
    value = json.load(open(sys.argv[1], encoding="utf-8"))
except ValueError:
    value = None
for key in sys.argv[2].split("."):
    value = value.get(key) if isinstance(value, dict) else None
print("" if value is None else value)
PY
}

# call METHOD PATH [curl options...] — send a request with the key; succeed on a 2xx.
# The answer is in $ANSWER, its HTTP status in $HTTP.
call() {
  local method=$1 path=$2
  shift 2
  HTTP=$(curl -sS -o "$ANSWER" -w '%{http_code}' --max-time 120 -X "$method" \
    -H @"$HEADERS" "$@" "$BASE$path") || HTTP=000
  [[ $HTTP == 2?? ]]
}

# refused WHAT — describe the refused request as `WHAT refused: HTTP nnn code message`.
refused() { echo "$1 refused: HTTP $HTTP $(json error.code) $(json error.message)"; }

# settled — whether the last answer is a status the walkthrough stops at.
settled() {
  local status
  status=$(json status)
  case $status in
    verified | rejected | canceled | in_review | awaiting_confirmation | requires_input) return 0 ;;
    processing) [ "$(json last_error.code)" = upstream_unavailable ] ;;
    *) return 1 ;;
  esac
}

# wait_settled ID — poll the verification until it settles (or the time is up).
wait_settled() {
  local waited=0
  while true; do
    call GET "/v1/verifications/$1" || return 1
    settled && return 0
    [ "$waited" -ge "$POLL_SECONDS" ] && return 0
    sleep 1
    waited=$((waited + 1))
  done
}

# steps BODY KIND=FILE... — create, upload, submit, settle and confirm; print the outcome.
steps() {
  local body=$1 id status error document
  shift
  call POST /v1/verifications -H 'Content-Type: application/json' \
    --data-binary "@$HERE/$body" || { refused create; return; }
  id=$(json id)
  for document in "$@"; do
    call POST "/v1/verifications/$id/documents" -F "kind=${document%%=*}" \
      -F "file=@$HERE/${document#*=};type=image/jpeg" || { refused "${document%%=*}"; return; }
  done
  call POST "/v1/verifications/$id/submit" || { refused submit; return; }
  wait_settled "$id" || { refused poll; return; }
  if [ "$(json status)" = awaiting_confirmation ]; then
    call POST "/v1/verifications/$id/deposit-confirmation" -H 'Content-Type: application/json' \
      --data-binary "{\"amount\": \"$DEPOSIT_AMOUNT\"}" || { refused deposit; return; }
    wait_settled "$id" || { refused poll; return; }
  fi
  status=$(json status)
  error=$(json last_error.code)
  echo "$status${error:+ ($error)}"
}

# run_scenario NAME EXPECTED BODY KIND=FILE... — one scenario, one line of output.
run_scenario() {
  local name=$1 expected=$2 outcome
  shift 2
  if [ ${#ONLY[@]} -gt 0 ] && [[ ! " ${ONLY[*]} " == *" $name "* ]]; then
    return
  fi
  RAN=$((RAN + 1))
  outcome=$(steps "$@")
  if [ "$outcome" = "$expected" ]; then
    echo "$name: $outcome"
  else
    echo "$name: $outcome   <- expected $expected"
    FAILED=$((FAILED + 1))
  fi
}

# @SCENARIOS@

if [ "$RAN" -eq 0 ]; then
  echo "walkthrough: no scenario named ${ONLY[*]} (see README.txt)" >&2
  exit 2
fi
echo "$((RAN - FAILED)) of $RAN scenarios as expected"
[ "$FAILED" -eq 0 ]
