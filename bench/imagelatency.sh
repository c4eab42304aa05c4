#!/usr/bin/env bash
# bench/imagelatency.sh measures GET of a stored order while the image worker is busy:
# the server pinned to core 0 (`serve --quiet --processing-time 0`), wrk on core 1
# (-c1, one GET at a time, --latency), first with the worker idle, then while
# bench/imagework confirms 12-megapixel aiDetection orders one after another (their
# uploads done before wrk starts, so only their image work overlaps the GETs). Each
# phase is measured twice, one client after the other: wrk (p50 p99, as it prints them,
# corrected for coordinated omission: what requests arriving at its mean rate would see),
# then Go's own HTTP client on one keep-alive connection (bench/imagework -mode get: p50
# p99 p999, raw: what a client that waits for each answer sees). Each round prints "idle
# wrk ..., go ... | busy wrk ..., go ... N orders".
#
#   bash bench/imagelatency.sh                     # 3 rounds of 4 x 10 s, about 3 minutes
#   ROUNDS=1 DURATION=5s bash bench/imagelatency.sh
#   SERVE_ENV="GOMAXPROCS=1" bash bench/imagelatency.sh   # settings for the server
#   MORIMOCK=/tmp/old/morimock bash bench/imagelatency.sh   # another build of the server
#   HOG="nice -n 19" bash bench/imagelatency.sh    # busy with a spinning shell on core 0 instead
#
# HOG is the floor any work that runs without a break on the server's core sets (the
# README's Performance section has what work in short pieces costs): in the busy phase no image is
# processed; a shell loop started with HOG as its prefix ("nice -n 19", "chrt -i 0")
# spins on core 0 beside the server, and the round prints "hog" for the orders.
#
# It installs wrk from Debian's packages when missing, needs 2 cores, sends traffic only
# to 127.0.0.1 and stops every process it started (trap on EXIT).
set -euo pipefail

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-1}
BIG=${BIG:-20}
BASE_PORT=${BASE_PORT:-18590}
SERVE_ENV=${SERVE_ENV:-}

cd "$(dirname "$0")/.."
. bench/lib.sh bench/imagelatency.sh
log "building morimock (unless MORIMOCK names one), the start-up probe and the drivers"
build firstok lifecycle imagework
if [ -n "${MORIMOCK:-}" ]; then cp "$MORIMOCK" "$work/morimock"; else build morimock; fi
log "load average $load"

percentiles() { awk '/^ +50%/ {p50 = $2} /^ +99%/ {p99 = $2} END {printf "%s %s", p50, p99}'; }

for round in $(seq "$ROUNDS"); do
	port=$((BASE_PORT + round))
	# shellcheck disable=SC2086 # SERVE_ENV is a list of VAR=value words
	start "sandbox-$port" "$port" /healthz "" env $SERVE_ENV "$work/morimock" serve --quiet --addr "127.0.0.1:$port" --processing-time 0
	taskset -c 1 "$work/lifecycle" -addr "127.0.0.1:$port" -mode fill -orders 100 -conns 1 -key get -ids "$work/ids" >/dev/null
	taskset -c 1 "$work/imagework" -addr "127.0.0.1:$port" -mode prepare -orders "$BIG" -ids "$work/big"
	{
		echo 'local reqs = {}'
		echo 'local n = 0'
		echo 'function init(args)'
		awk '{printf "\treqs[#reqs + 1] = wrk.format(\"GET\", \"/api/v2/orders/%s\", {[\"Authorization\"] = \"Bearer %s\"})\n", $2, $1}' "$work/ids"
		echo 'end'
		echo 'function request() n = n % #reqs + 1; return reqs[n] end'
	} >"$work/stored.lua"
	# measure: wrk's p50 and p99, then Go's client's p50, p99 and p999, one after the other.
	measure() {
		local w g
		w=$(timeout 60 taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$work/stored.lua" "http://127.0.0.1:$port" | percentiles)
		g=$(timeout 60 taskset -c 1 "$work/imagework" -addr "127.0.0.1:$port" -mode get -ids "$work/ids" -duration "$DURATION")
		echo "wrk $w, go $g"
	}
	idle=$(measure)
	if [ -n "${HOG:-}" ]; then
		# shellcheck disable=SC2086 # HOG is a command prefix, split into words
		taskset -c 0 $HOG sh -c 'while :; do :; done' &
		echo hog >"$work/done"
	else
		taskset -c 1 "$work/imagework" -addr "127.0.0.1:$port" -mode confirm -ids "$work/big" >"$work/done" &
	fi
	driver=$!
	pids+=("$driver")
	sleep 0.5 # the first order's work under way
	busy=$(measure)
	kill "$driver" 2>/dev/null || true
	wait "$driver" 2>/dev/null || true
	echo "round $round: idle $idle | busy $busy $(cat "$work/done") orders"
	stop "$pid"
done
