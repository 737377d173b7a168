#!/bin/sh
# The omo CLI and omo-sim against a real local stack: up, status, submit a
# JSON order, follow it to delivery, inventory, cancel refusal, a short demo
# day, down. Usage: cli_stack.sh BIN_DIR SOURCE_DIR
set -eu
bin=$1
src=$2
state=$(mktemp -d /tmp/omo-cli-XXXXXX)
omo() { "$bin/omo" --state="$state" --network="$src/simulators/scenarios/demo" "$@"; }
cleanup() {
	omo down >/dev/null 2>&1 || true
	rm -rf "$state"
}
trap cleanup EXIT
fail() {
	echo "cli_stack: $*" >&2
	exit 1
}

omo up --pick_ms=50 --transit_ms=100 --pickup_ms=100 >/dev/null || fail "up failed"
omo status | grep -Eq "^orders +[0-9]+ +yes" || fail "status does not show orders alive"

# kill -9 under the supervisor: the service comes back by itself
kill -9 "$(cat "$state/run/router.pid")"
for _ in $(seq 1 100); do
	omo status 2>/dev/null | grep -Eq "^router +[0-9]+ +yes +[0-9.]+ +[0-9]+ +1$" && break
	sleep 0.1
done
omo status | grep -Eq "^router +[0-9]+ +yes +[0-9.]+ +[0-9]+ +1$" ||
	fail "the supervisor did not restart a killed router: $(omo status 2>&1)"

cat >"$state/order.json" <<'JSON'
{"idempotency_key": "cli-1", "channel": "web", "fulfillment": "ship_to_home",
 "ship_to": {"lat_udeg": 40712800, "lon_udeg": -74006000, "country": "US"},
 "lines": [{"line_no": 1, "sku": "SKU-0190", "quantity": 1}]}
JSON
reply=$(omo submit "$state/order.json") || fail "submit failed"
id=$(echo "$reply" | sed -n 's/.*"order_id": *"\([0-9a-f-]*\)".*/\1/p')
[ -n "$id" ] || fail "no order_id in: $reply"
[ "$(omo submit "$state/order.json" | sed -n 's/.*"order_id": *"\([0-9a-f-]*\)".*/\1/p')" = "$id" ] ||
	fail "a resubmitted key gave another order"

status=""
for _ in $(seq 1 100); do
	status=$(omo order "$id" | sed -n 's/^  "status": "\([a-z_]*\)".*/\1/p')
	[ "$status" = completed ] && break
	sleep 0.1
done
[ "$status" = completed ] || fail "order $id is $status, not completed"
omo order "$id" | grep -q '"node": "MFG-' || fail "SKU-0190 did not come from a manufacturer"
omo inventory --sku=SKU-0190 | grep -q "MFG-" || fail "inventory shows no SKU-0190 row"
if omo cancel "$id" 2>"$state/err"; then fail "cancelling a delivered order succeeded"; fi
grep -q BAD_STATE "$state/err" || fail "cancel refusal lacks BAD_STATE: $(cat "$state/err")"
echo '{"idempotency_key": "cli-2", "channel": "web"}' >"$state/bad.json"
if omo submit "$state/bad.json" 2>"$state/err"; then fail "an order without fulfillment was accepted"; fi
grep -q MISSING_FIELD "$state/err" || fail "missing field not reported: $(cat "$state/err")"

"$bin/omo-sim" demo --state="$state" --network="$src/simulators/scenarios/demo" --orders=200 \
	>"$state/demo.txt" || fail "demo failed: $(cat "$state/demo.txt")"
grep -q "unsettled 0" "$state/demo.txt" || fail "demo left orders unsettled"
omo down >/dev/null || fail "down failed"
echo "cli_stack: ok"
