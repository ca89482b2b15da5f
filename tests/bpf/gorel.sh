#!/bin/bash
# Helpers for the tests of Go programs not written here (t_go_release.sh,
# t_go_distro.sh), sourced after lib.sh. The truth comes from the programs
# themselves: the goroutine dump the runtime writes on SIGQUIT
# (GOTRACEBACK=all), its GODEBUG=gctrace=1 lines, its own /metrics.
#
# gorel_measure reads memsight's report of one running program, then
# SIGQUITs it, and checks one row of the table:
#   version   memsight's go.version = the Go release read from the binary
#   goroutines  go.goroutines within 5% of the dump's goroutines that are not
#             the runtime's own (NumGoroutine's count: the outermost frame is
#             not in package runtime, or is runtime.main)
#   http      a creation-site group net/http.(*Server).Serve, as many as the
#             dump's goroutines created there, in their state (IO wait), and
#             at least the connections held open
#   live      go.heap.live_after_last_gc_bytes within 15% of the last gctrace
#             line's "X->Y->Z MB" Z, which is whole MiB rounded down: the truth
#             is [Z, Z+1) MiB, and the check allows 15% beyond either end;
#             the gctrace line is the GC memsight counted (go.heap.num_gc)
#   sampler   the runtime's own sampler, not a probe on every mallocgc

GOREL_LIST=$O/fixtures/gorelease/list
GOREL_TABLE=$TMP/table
GOREL_CONNS=3

# gorel_list: the fixture list, fetched now if `make test` has not yet
gorel_list() {
	if [ ! -s "$GOREL_LIST" ]; then
		make -s O="$O" "$GOREL_LIST" > "$TMP/fetch.log" 2>&1 || { cat "$TMP/fetch.log" >&2; return 1; }
	fi
}

# free_port: a TCP port nothing listens on now (state 0A in /proc/net/tcp*)
free_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 30000))
		awk -v p="$(printf '%04X' "$p")" '$4 == "0A" && $2 ~ (":" p "$") { f = 1 } END { exit f }' \
			/proc/net/tcp /proc/net/tcp6 && { echo "$p"; return 0; }
	done
	return 1
}

# wait_http PID URL [TIMEOUT_S]: until URL answers 2xx, while PID lives
wait_http() {
	local i
	for ((i = 0; i < ${3:-30} * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		curl -sf -o /dev/null --max-time 2 "$2" && return 0
		sleep 0.1
	done
	return 1
}

# hold_conns PORT PATH: GOREL_CONNS keep-alive connections, one request
# answered on each, then left open (the server's connection goroutines wait
# for the next request); their fds in HELD
HELD=()
hold_conns() {
	local fd i line
	for ((i = 0; i < GOREL_CONNS; i++)); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
		HELD+=("$fd")
		printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' "$2" "$1" >&"$fd"
		read -r -t 10 line <&"$fd" || return 1
		[[ $line == HTTP/1.1\ * ]] || return 1
	done
}

close_conns() {
	local fd
	for fd in "${HELD[@]}"; do exec {fd}>&-; done
	HELD=()
}

# gctrace_last FILE: "N Z" of the last gctrace line (GC number, MiB live after it)
gctrace_last() {
	sed -n 's/^gc \([0-9]*\) @.* [0-9]*->[0-9]*->\([0-9]*\) MB.*/\1 \2/p' "$1" | tail -1
}

# gctrace_n FILE N: "N Z" of GC number N's gctrace line, if it is there yet
gctrace_n() {
	sed -n "s/^gc \\($2\\) @.* [0-9]*->[0-9]*->\\([0-9]*\\) MB.*/\\1 \\2/p" "$1" | tail -1
}

# dump_counts FILE: "USER ALL SERVE STATE" from a SIGQUIT goroutine dump:
# goroutines not the runtime's own, all of them (goroutine 0 is the signal's
# g0, none), those created by net/http.(*Server).Serve and their state
# ("IO_wait"; "mixed" when they differ)
dump_counts() {
	awk '
	function flush() {
		if (inblk) {
			all++
			if (last !~ /^runtime\./ || last ~ /^runtime\.main\(/)
				user++
			if (serve) {
				srv++
				sstate = (sstate == "" || sstate == state) ? state : "mixed"
			}
		}
		inblk = 0; last = ""; serve = 0; created = 0
	}
	/^goroutine [0-9]+ .*\[.*\]:$/ {
		flush()
		if ($2 != "0")
			inblk = 1
		# "[IO wait]:", "[IO wait, 2 minutes]:"
		state = $0
		sub(/^[^[]*\[/, "", state); sub(/(, [0-9]+ minutes)?\]:$/, "", state)
		gsub(/ /, "_", state)
		next
	}
	!inblk { next }
	/^$/ { flush(); next }
	/^created by / { created = 1; if ($3 == "net/http.(*Server).Serve") serve = 1; next }
	/^runtime\.goexit\(/ { next }
	/^[^\t.]/ && !created { last = $0 }
	END { flush(); print user + 0, all + 0, srv + 0, (sstate == "" ? "none" : sstate) }' "$1"
}

# metric FILE NAME: a sample's value from a Prometheus text exposition
metric() {
	awk -v n="$2" '$1 == n { printf "%d", $2 }' "$1"
}

# gorel_measure NAME TRUTH PID ERRFILE [METRICS_URL [ASSERTED]]
# PID runs with GODEBUG=gctrace=1 GOTRACEBACK=all, stderr to ERRFILE, and holds
# GOREL_CONNS idle HTTP connections; it is SIGQUIT'ed (and so ends) here.
# With METRICS_URL, its own /metrics is scraped just before memsight's
# report, and the go_memstats_* figures named in ASSERTED (heap_alloc,
# heap_inuse) are checked within 15%: the scrape and the report must then
# fall in one GC cycle too (go_gc_duration_seconds_count, NumGC). Its
# go_goroutines is shown, not checked: it is counted while the scrape runs,
# with the scrape's connection and client_golang's gathering goroutines.
gorel_measure() {
	local name=$1 truth=$2 pid=$3 err=$4 murl=${5:-} asserted=${6:-} J=$TMP/$1.json M=$TMP/$1.metrics
	local i w gc0 gc ngc mgc z v g live sampler srv swait dg dall dsrv dstate cell_g cell_h cell_l row k ours theirs
	# one GC cycle for the gctrace line, memsight's report (and the scrape):
	# retry if a GC ran between them
	for ((i = 0; i < 4; i++)); do
		read -r gc0 _ <<< "$(gctrace_last "$err")"
		if [ -n "$murl" ]; then
			curl -sf --max-time 5 "$murl" > "$M" || : > "$M"
		fi
		if ! timeout 20 "$MS" top -p "$pid" -d 1 -n 0 --json > "$J" 2> "$TMP/$name.mserr"; then
			cat "$TMP/$name.mserr" >&2
			: > "$J"
			break
		fi
		ngc=$(jq '.go.heap.num_gc // -1' "$J")
		mgc=$ngc
		[ -n "$murl" ] && mgc=$(metric "$M" go_gc_duration_seconds_count)
		# the runtime counts a GC (numgc) before it prints the cycle's
		# gctrace line: give the line a moment. The count memsight read
		# must be a GC the runtime printed, and not older than the last
		# line printed before memsight read it.
		gc= z=
		for ((w = 0; w < 20; w++)); do
			read -r gc z <<< "$(gctrace_n "$err" "$ngc")"
			[ -n "$gc" ] && break
			sleep 0.1
		done
		[ -n "$gc" ] && [ "$ngc" -lt "${gc0:-0}" ] && gc="older than gc $gc0"
		[ "$ngc" = "${gc:--2}" ] && [ "$mgc" = "$ngc" ] && break
	done
	kill -QUIT "$pid"
	for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "$name: still running 10 s after SIGQUIT"
	close_conns
	read -r dg dall dsrv dstate <<< "$(dump_counts "$err")"

	v=$(jq -r '.go.version // "none"' "$J")
	g=$(jq -r '.go.goroutines // "none"' "$J")
	srv=$(jq -r '[.go.goroutines_by_creation_site[]? |
		select(.func == "net/http.(*Server).Serve") | .count] | add // 0' "$J")
	swait=$(jq -r '[.go.goroutines_by_creation_site[]? | select(.func == "net/http.(*Server).Serve") |
		.wait_reason // "none"] | unique | if length == 0 then "none" elif length == 1 then .[0] else "mixed" end' "$J")
	swait=${swait// /_}
	live=$(jq -r '.go.heap.live_after_last_gc_bytes // "none"' "$J")
	sampler=$(jq -r '.go.sampler // "none"' "$J")

	check "$name: Go version" "$v" "$truth"
	check "$name: the SIGQUIT dump has goroutines" "$([ "${dg:-0}" -gt 0 ] && echo yes)" yes
	if [ "$(within 5 "$g" "$dg")" = yes ]; then cell_g=ok; else cell_g=FAIL; fi
	check "$name: goroutines within 5% of the dump ($g vs $dg of $dall)" "$cell_g" ok
	if [ "$srv" -ge "$GOREL_CONNS" ] && [ "$srv" -eq "$dsrv" ] && [ "$swait" = "$dstate" ]; then
		cell_h=ok
	else
		cell_h=FAIL
	fi
	check "$name: net/http.(*Server).Serve group ($srv $swait vs $dsrv $dstate in the dump, $GOREL_CONNS held)" \
		"$cell_h" ok
	check "$name: GC counted = a gctrace line's, not older than the last one before the read (${ngc:-none} vs gc ${gc:-none})" \
		"${ngc:-none}" "${gc:-none}"
	cell_l=FAIL
	if [ "$live" != none ] && [ -n "$z" ] &&
	   awk -v a="$live" -v z="$z" 'BEGIN { m = 1048576; exit !(a >= 0.85 * z * m && a <= 1.15 * (z + 1) * m) }'; then
		cell_l=ok
	fi
	check "$name: live heap after the last GC within 15% of gctrace's ($live B vs ${z:-none} MiB)" \
		"$cell_l" ok
	check "$name: the runtime's sampler" "$sampler" "runtime (mProf_Malloc)"

	row="$name $truth ${v// /_} $( [ "$v" = "$truth" ] && echo ok || echo FAIL)"
	row="$row $dg $g $cell_g $dsrv:$dstate $srv:$swait $cell_h ${z:-none}MiB $live $cell_l"
	row="$row $( [ "$sampler" = "runtime (mProf_Malloc)" ] && echo runtime || echo "${sampler// /_}")"
	if [ -n "$murl" ]; then
		check "$name: its /metrics scraped in the GC cycle of memsight's report (${mgc:-none} vs ${ngc:-none})" \
			"${mgc:-none}" "${ngc:-none}"
		row="$row go_goroutines=$(metric "$M" go_goroutines)($g)"
		for k in heap_alloc:alloc_bytes heap_inuse:inuse_bytes; do
			theirs=$(metric "$M" "go_memstats_${k%%:*}_bytes")
			ours=$(jq -r ".go.heap.${k#*:} // \"none\"" "$J")
			row="$row,${k%%:*}=$theirs($ours)"
			[[ " $asserted " == *" ${k%%:*} "* ]] || continue
			check "$name: ${k%%:*} within 15% of its go_memstats_${k%%:*}_bytes ($ours vs $theirs)" \
				"$(within 15 "$ours" "$theirs")" yes
		done
	fi
	echo "$row" >> "$GOREL_TABLE"
}

gorel_table() {
	echo "== Go programs not built here: memsight against the programs' own figures"
	{
		echo "binary go(truth) go(memsight) - goroutines(dump) memsight - Serve(dump) memsight - live(gctrace) live(memsight) - sampler own_/metrics(memsight's)"
		cat "$GOREL_TABLE"
	} | awk '{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
		n[NR] = NF }
		END { for (r = 1; r <= NR; r++) { for (i = 1; i <= n[r]; i++) printf "%-*s ", w[i], c[r, i]; print "" } }'
}
