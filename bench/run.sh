#!/usr/bin/env bash
# bench/run.sh measures morimock against a bare net/http ceiling in one run, on loopback:
# each server pinned to core 0, wrk pinned to core 1, the same load (CONNS connections for
# DURATION, one wrk thread, varying order ids and Prefer scenarios) against each, and a
# markdown table of requests/s, the ratio to the ceiling (the median of each round's
# ratio), p50/p99 latency, resident memory after the load and the time from process
# start to the first 200; then each round's ratios, to show how much the runs move.
#
#   bash bench/run.sh                          # 3 rounds of 10 s per server, 50 connections
#   ROUNDS=1 DURATION=3s bash bench/run.sh     # a quicker look
#
# It installs wrk from Debian's packages when missing, needs 2 cores, sends traffic only
# to 127.0.0.1, and stops every process it started (trap on EXIT). Each wrk run is
# bounded by `timeout`, so the whole script ends within ROUNDS x 4 x (DURATION + a
# few seconds): about 2.5 minutes by default.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
BASE_PORT=${BASE_PORT:-18480}
TOKEN=bench-token

cd "$(dirname "$0")/.."
. bench/lib.sh bench/run.sh
log "building morimock, the ceiling and the start-up probe"
build morimock ceiling firstok

# The load: 1000 distinct 19-digit ids (their last two digits walk every type and
# status), and on one request in four a Prefer header choosing the type and status, so
# the mock builds, encodes (and with --validate-responses checks) a fresh order for
# every request. The ceiling gets the same requests and ignores them.
cat >"$work/load.lua" <<EOF
local types = {"antiAi", "watermarkEmbed", "watermarkExtract", "aiDetection"}
local statuses = {"pending", "inProgress", "complete", "failed", "expired"}
local reqs = {}
local n = 0
function init(args)
	for k = 0, 999 do
		local headers = {["Authorization"] = "Bearer $TOKEN"}
		if k % 4 == 3 then
			headers["Prefer"] = "type=" .. types[math.floor(k / 4) % 4 + 1] .. ", status=" .. statuses[math.floor(k / 16) % 5 + 1]
		end
		reqs[k + 1] = wrk.format("GET", string.format("/api/v2/orders/42470654123%08d", k), headers)
	end
end
function request()
	n = n % #reqs + 1
	return reqs[n]
end
EOF

# serve NAME PORT CMD...: starts a server, probed with one order of the load.
serve() {
	local name=$1 port=$2
	shift 2
	start "$name" "$port" /api/v2/orders/4247065412300000000 "Bearer $TOKEN" "$@"
}

# The ceiling answers with one body of the mock's mean size over the ids of the load.
log "sampling the mock's body size"
serve sample "$BASE_PORT" "$work/morimock" serve --quiet --addr "127.0.0.1:$BASE_PORT" --token "$TOKEN"
total=0 count=0 best="" best_diff=999999
for k in $(seq 0 99); do
	f="$work/body.$k"
	curl -sf -o "$f" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$BASE_PORT/api/v2/orders/42470654123$(printf %08d "$k")"
	total=$((total + $(wc -c <"$f")))
	count=$((count + 1))
done
mean=$((total / count))
for k in $(seq 0 99); do
	f="$work/body.$k"
	d=$(($(wc -c <"$f") - mean))
	d=${d#-}
	if [ "$d" -lt "$best_diff" ]; then best=$f best_diff=$d; fi
done
cp "$best" "$work/ceiling.json"
stop "$pid"
ceiling_size=$(wc -c <"$work/ceiling.json")
log "mean mock body: $mean bytes; the ceiling answers a ${ceiling_size}-byte generated order"

# measure NAME PORT CMD...: one server, one load; appends "rps p50 p99 rss start bad"
# (milliseconds and MB) to $work/NAME.results.
measure() {
	local name=$1 port=$2
	shift 2
	log "round $round: $name"
	serve "$name" "$port" "$@"
	local out
	out=$(timeout 60 taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$work/load.lua" "http://127.0.0.1:$port")
	printf '%s\n' "$out" >"$work/$name.$round.wrk"
	local rss_kb
	rss_kb=$(rss_kib "$pid")
	stop "$pid"
	local rps p50 p99 bad
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
	bad=$((${bad:-0} + $(awk '/Socket errors:/ {gsub(/,/, ""); n = $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")))
	echo "$rps $(ms "$p50") $(ms "$p99") $(awk -v k="$rss_kb" 'BEGIN {print k / 1024}') $startup_ms $bad" >>"$work/$name.results"
}

# median NAME COLUMN: the median over the rounds of one column of NAME's results.
median() {
	awk -v c="$2" '{print $c}' "$work/$1.results" | median_of
}

# ms turns wrk's 812.00us / 1.23ms / 1.02s into milliseconds.
ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
		printf "%.3f", n
	}'
}

# Rounds interleave the servers, so a burst of other work on the machine falls on
# all of them rather than on one; each figure is the median over the rounds.
for round in $(seq "$ROUNDS"); do
	measure ceiling $((BASE_PORT + 1)) "$work/ceiling" -addr "127.0.0.1:$((BASE_PORT + 1))" -body "$work/ceiling.json"
	measure quiet $((BASE_PORT + 2)) "$work/morimock" serve --quiet --addr "127.0.0.1:$((BASE_PORT + 2))" --token "$TOKEN"
	measure log $((BASE_PORT + 3)) "$work/morimock" serve --addr "127.0.0.1:$((BASE_PORT + 3))" --token "$TOKEN"
	measure validate $((BASE_PORT + 4)) "$work/morimock" serve --quiet --validate-responses --addr "127.0.0.1:$((BASE_PORT + 4))" --token "$TOKEN"
done

echo
echo "wrk -t1 -c$CONNS -d$DURATION --latency on core 1, each server on core 0; median of $ROUNDS rounds; $(nproc) cores, $(go version | awk '{print $3}'), mean mock body $mean bytes; load average before the run: $load"
echo
echo "| server | requests/s | of ceiling | p50 | p99 | RSS after load | start to first 200 | non-2xx |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
# ratio NAME: the median over the rounds of NAME's requests/s over the ceiling's in the
# same round. Each round's servers run back to back, so the ratio of a round is not
# moved by how busy the machine was in another round.
ratio() {
	paste -d' ' <(awk '{print $1}' "$work/$1.results") <(awk '{print $1}' "$work/ceiling.results") |
		awk '{print 100 * $1 / $2}' | median_of
}
row() {
	printf '| %s | %.0f | %.0f %% | %.2f ms | %.2f ms | %.1f MB | %.1f ms | %d |\n' "$2" "$(median "$1" 1)" \
		"$(ratio "$1")" "$(median "$1" 2)" "$(median "$1" 3)" "$(median "$1" 4)" "$(median "$1" 5)" "$(median "$1" 6)"
}
row ceiling "ceiling: bare net/http, one fixed ${ceiling_size}-byte order"
row quiet "morimock serve --quiet"
row log "morimock serve (access log on, to /dev/null)"
row validate "morimock serve --quiet --validate-responses"
echo
for name in quiet log validate; do
	printf '%s, %% of the ceiling round by round: %s\n' "$name" "$(paste -d' ' <(awk '{print $1}' "$work/$name.results") <(awk '{print $1}' "$work/ceiling.results") | awk '{printf "%.0f ", 100 * $1 / $2}')"
done
