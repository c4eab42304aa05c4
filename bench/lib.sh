# bench/lib.sh is the harness bench/run.sh and bench/lifecycle.sh share: a scratch
# directory, every started process stopped on exit, wrk installed when missing, the
# binaries built, servers started pinned to core 0 and stopped, RSS and medians. It is
# sourced, not run: `. bench/lib.sh NAME` from the repository root, NAME naming the
# script in its messages.

bench_name=$1
work=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '%s\n' "$*" >&2; }

if [ "$(nproc)" -lt 2 ]; then
	log "$bench_name needs 2 cores (server on 0, load on 1); this machine has $(nproc)"
	exit 1
fi
if ! command -v wrk >/dev/null; then
	log "installing wrk from Debian's packages"
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null 2>&1
fi
# Other work on the machine shares both cores and skews every figure: say how busy it was.
load=$(cut -d' ' -f1-3 /proc/loadavg)

# build NAME...: builds ./cmd/morimock for morimock and ./bench/NAME for the others
# into $work.
build() {
	local name
	for name in "$@"; do
		if [ "$name" = morimock ]; then
			go build -o "$work/morimock" ./cmd/morimock
		else
			go build -o "$work/$name" "./bench/$name"
		fi
	done
}

# start NAME PORT PROBE-PATH AUTH CMD...: starts a server pinned to core 0, waits for the
# first 200 on PROBE-PATH (sent with Authorization AUTH unless empty) and sets pid and
# startup_ms.
start() {
	local name=$1 port=$2 probe=$3 auth=$4
	shift 4
	local out
	out=$(taskset -c 1 "$work/firstok" -timeout 20s -log "$work/$name.log" \
		-url "http://127.0.0.1:$port$probe" -auth "$auth" -- taskset -c 0 "$@")
	pid=${out%% *}
	startup_ms=${out##* }
	pids+=("$pid")
}

# stop PID: stops a server start started, killing it outright after 10 s.
stop() {
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
	kill "$1" 2>/dev/null || true
	# firstok is gone, so the server is not our child: wait for it by polling.
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null || true
}

# rss_kib PID: the resident memory of PID in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# median_of: the median of the numbers on stdin, one a line.
median_of() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
