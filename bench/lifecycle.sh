#!/usr/bin/env bash
# bench/lifecycle.sh measures the stateful sandbox, each server pinned to core 0 and
# the load to core 1, on loopback:
#
#   - GET of a stored order (1,000 orders of 10 keys) against the bare net/http
#     ceiling answering that order's body, wrk in the same round: requests/s and ratio;
#   - whole antiAi lifecycles per second (create, PUT a JPEG, confirm, GET until
#     complete polling at once then 1, 2, 4, 8, 16, 16 ... ms apart, download link,
#     fetch it; 50 connections, one key each, --processing-time 0), in memory and with
#     --state-dir, each with a 16 KiB 640 x 480 photo uploaded again and again (as a
#     test suite uploads its fixtures: the image worker decodes, perturbs and
#     re-encodes it once, then serves its remembered outputs), with that photo made
#     fresh bytes every time (a JPEG comment: every lifecycle pays the whole image
#     work) and with an 8 x 8 one (the same requests, next to no image work);
#   - resident memory per stored order: RSS of the real process after 100,000 orders
#     minus after 1,000, over the 99,000 between (orders with one file each, pending:
#     no file bytes, which live on disk anyway);
#   - restart: a --state-dir holding 100,000 orders, the time from process start to the
#     first 200 for GET of one of them.
#
#   bash bench/lifecycle.sh                          # 3 rounds of 10 s, about 10 minutes
#   ROUNDS=1 DURATION=3s ORDERS=20000 bash bench/lifecycle.sh   # a quicker look
#
# It installs wrk from Debian's packages when missing, needs 2 cores, sends traffic only
# to 127.0.0.1 and stops every process it started (trap on EXIT).
set -euo pipefail

DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
ORDERS=${ORDERS:-100000}
BASE_PORT=${BASE_PORT:-18580}

cd "$(dirname "$0")/.."
. bench/lib.sh bench/lifecycle.sh
log "building morimock, the ceiling, the start-up probe and the lifecycle driver"
build morimock ceiling firstok lifecycle

sandbox() { # PORT [flags...]
	local port=$1
	shift
	start "sandbox-$port" "$port" /healthz "" "$work/morimock" serve --quiet --addr "127.0.0.1:$port" --processing-time 0 "$@"
}
spread() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s-%s", lo, hi}'; }

for round in $(seq "$ROUNDS"); do
	# GET of a stored order against the ceiling, in the same round.
	log "round $round: GET of a stored order"
	port=$((BASE_PORT + 1))
	sandbox "$port"
	taskset -c 1 "$work/lifecycle" -addr "127.0.0.1:$port" -mode fill -orders 1000 -conns 10 -key get -ids "$work/ids" >/dev/null
	read -r tok oid <"$work/ids"
	curl -sf -o "$work/stored.json" -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/api/v2/orders/$oid"
	{
		echo 'local reqs = {}'
		echo 'local n = 0'
		echo 'function init(args)'
		awk '{printf "\treqs[#reqs + 1] = wrk.format(\"GET\", \"/api/v2/orders/%s\", {[\"Authorization\"] = \"Bearer %s\"})\n", $2, $1}' "$work/ids"
		echo 'end'
		echo 'function request() n = n % #reqs + 1; return reqs[n] end'
	} >"$work/stored.lua"
	out=$(timeout 60 taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" -s "$work/stored.lua" "http://127.0.0.1:$port")
	echo "$out" | awk '/^Requests\/sec:/ {print $2}' >>"$work/get.rps"
	echo "$out" | awk '/Non-2xx/ {print $NF}' >>"$work/get.bad"
	stop "$pid"
	start ceiling $((BASE_PORT + 2)) /healthz "" "$work/ceiling" -addr "127.0.0.1:$((BASE_PORT + 2))" -body "$work/stored.json"
	out=$(timeout 60 taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" -s "$work/stored.lua" "http://127.0.0.1:$((BASE_PORT + 2))")
	echo "$out" | awk '/^Requests\/sec:/ {print $2}' >>"$work/ceiling.rps"
	stop "$pid"

	# Whole lifecycles, in memory and on disk, with a photo and with a tiny image.
	for kind in memory disk; do
		for image in photo fresh tiny; do
			log "round $round: lifecycles, $kind, $image image"
			port=$((BASE_PORT + 3))
			if [ "$kind" = disk ]; then
				rm -rf "$work/state"
				sandbox "$port" --state-dir "$work/state"
			else
				sandbox "$port"
			fi
			read -r n secs failed < <(taskset -c 1 "$work/lifecycle" -addr "127.0.0.1:$port" -mode flows -duration "$DURATION" -conns "$CONNS" -key "r$round" -image "$image")
			awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f\n", n / s}' >>"$work/flows.$kind.$image"
			echo "$failed" >>"$work/flows.$kind.$image.failed"
			stop "$pid"
		done
	done
done

# Memory per stored order.
log "resident memory at $ORDERS orders"
port=$((BASE_PORT + 4))
sandbox "$port"
taskset -c 1 "$work/lifecycle" -addr "127.0.0.1:$port" -mode fill -orders 1000 -conns 10 -key warm >/dev/null
rss0=$(rss_kib "$pid")
read -r filled fill_secs fill_failed < <(taskset -c 1 "$work/lifecycle" -addr "127.0.0.1:$port" -mode fill -orders $((ORDERS - 1000)) -conns "$CONNS" -key mem)
rss1=$(rss_kib "$pid")
stop "$pid"
per_order=$(awk -v a="$rss0" -v b="$rss1" -v n="$filled" 'BEGIN {printf "%.0f", (b - a) * 1024 / n}')

# Restart with ORDERS stored orders.
log "restart with $ORDERS stored orders"
port=$((BASE_PORT + 5))
sandbox "$port" --state-dir "$work/big"
taskset -c 1 "$work/lifecycle" -addr "127.0.0.1:$port" -mode fill -orders "$ORDERS" -conns "$CONNS" -key big -ids "$work/big.ids" >/dev/null
stop "$pid"
read -r tok oid < <(tail -n 1 "$work/big.ids")
start restart "$port" "/api/v2/orders/$oid" "Bearer $tok" "$work/morimock" serve --quiet --addr "127.0.0.1:$port" --state-dir "$work/big"
restart_ms=$startup_ms
stop "$pid"

ratio=$(paste -d' ' "$work/get.rps" "$work/ceiling.rps" | awk '{print 100 * $1 / $2}' | median_of)
ratios=$(paste -d' ' "$work/get.rps" "$work/ceiling.rps" | awk '{printf "%.0f ", 100 * $1 / $2}')
echo
echo "bench/lifecycle.sh: servers on core 0, load on core 1; median of $ROUNDS rounds of $DURATION, $CONNS connections; $(nproc) cores, $(go version | awk '{print $3}'); load average before the run: $load, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| measure | figure | rounds | target |"
echo "|---|---:|---|---:|"
printf '| GET of a stored order, requests/s (ceiling %.0f) | %.0f (%.0f %% of the ceiling) | %% by round: %s| >= 40 %% |\n' \
	"$(median_of <"$work/ceiling.rps")" "$(median_of <"$work/get.rps")" "$ratio" "$ratios"
flows() { # KIND IMAGE LABEL TARGET
	printf '| antiAi lifecycles/s, %s | %.0f | %s, failed %s | %s |\n' "$3" "$(median_of <"$work/flows.$1.$2")" \
		"$(spread <"$work/flows.$1.$2")" "$(paste -sd+ "$work/flows.$1.$2.failed" | bc)" "$4"
}
flows memory photo "in memory, 16 KiB photo" ">= 2,000"
flows memory fresh "in memory, 16 KiB photo, fresh bytes each time" ""
flows memory tiny "in memory, 8 x 8 image" ""
flows disk photo "--state-dir, 16 KiB photo" ">= 500"
flows disk fresh "--state-dir, 16 KiB photo, fresh bytes each time" ""
flows disk tiny "--state-dir, 8 x 8 image" ""
printf '| resident memory per stored order | %s bytes | RSS %s -> %s KiB over %s orders | <= 2,048 |\n' "$per_order" "$rss0" "$rss1" "$filled"
printf '| restart with %s stored orders, start to first 200 | %s ms | one run | <= 1,000 |\n' "$ORDERS" "$restart_ms"
