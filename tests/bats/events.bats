#!/usr/bin/env bats
# nfsmig events: the event log of nfsmigd read, filtered, as JSON lines, and
# followed live (from a pipe and in the shell, in a terminal).  Logs are
# written by hand (hostile text, a torn last line, garbage) or appended with
# tests/helpers/evappend (nm_event_append, as nfsmigd does).  No lab needed.

bats_require_minimum_version 1.5.0

setup() {
	load helpers
	D=$BATS_TEST_TMPDIR/state
	mkdir -p "$D"
	T="nfsmig-ev-$$-$BATS_TEST_NUMBER"
	NFSMIG=$BUILD/cmd/nfsmig
	EVAPPEND=$BUILD/tests/helpers/evappend
}

teardown() {
	tmux kill-session -t "$T" 2>/dev/null || true
	if [ -n "${FPID:-}" ]; then
		kill "$FPID" 2>/dev/null || true
	fi
}

# A log by hand: events in UTC times 2026-11-24 10:00, 11:00, 12:00, one
# with ESC, a C1 CSI, a bidi override and a byte that is not UTF-8 raw in
# its text (as a careless writer would leave them), garbage, a torn line.
hostile_log() {
	{
		printf '{"time":1795514400.250,"event":"migration","mountpoint":"/mnt/a","from":"192.0.2.1","to":"192.0.2.2","trigger":"tracepoint:nfs4_state_mgr","verify":{"verdict":"OK","checks":[]},"message":"moved"}\n'
		printf '{"time":1795518000,"event":"mount","mountpoint":"/mnt/b","message":"evil \033[2J\302\233 \342\200\256gnp.exe \377 end"}\n'
		printf 'this is not JSON\n'
		printf '[1,2,3]\n'
		printf '{"time":1795521600,"event":"migration-failed","mountpoint":"/mnt/a","message":"returns EIO until remounted \\u001b[31m"}\n'
		printf '{"time":1795521700,"event":"migration","mountpoint":"/mnt/a","message":"torn'
	} >"$D/events.log"
}

# No byte a terminal would act on: C0 but newline, DEL, C1, U+202x/U+200x
# format characters, bytes that are not UTF-8.
no_raw_bytes() {
	! LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f\xff]|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]' <<<"$1"
}

@test "events: one line per event, oldest first, hostile text escaped, torn and garbage lines skipped" {
	hostile_log
	run --separate-stderr env TZ=UTC "$NFSMIG" events --state-dir "$D"
	assert_success
	[ "${#lines[@]}" -eq 3 ] || fail "expected 3 events: $output"
	assert_line --index 0 "2026-11-24 10:00:00 migration /mnt/a 192.0.2.1 -> 192.0.2.2 trigger=tracepoint:nfs4_state_mgr verify=OK moved"
	assert_line --index 1 '2026-11-24 11:00:00 mount /mnt/b evil \x1b[2J\xc2\x9b \xe2\x80\xaegnp.exe \xff end'
	assert_line --index 2 '2026-11-24 12:00:00 migration-failed /mnt/a returns EIO until remounted \x1b[31m'
	no_raw_bytes "$output" || fail "raw bytes reached the terminal"
	[[ $stderr == *"2 lines of $D/events.log* are not an event: skipped"* ]] || fail "stderr: $stderr"
}

@test "events: events.log.1 first, then events.log; an empty or missing log is no error" {
	run "$NFSMIG" events --state-dir "$D/none"
	assert_success
	assert_output ""
	printf '{"time":1,"event":"mount","message":"older"}\n' >"$D/events.log.1"
	printf '{"time":2,"event":"mount","message":"newer"}\n' >"$D/events.log"
	run "$NFSMIG" events --state-dir "$D"
	assert_success
	assert_line --index 0 --partial "older"
	assert_line --index 1 --partial "newer"
}

@test "events --since: epoch, ISO date and time, a time ago; a bad one is a usage error" {
	hostile_log
	run --separate-stderr env TZ=UTC "$NFSMIG" events --state-dir "$D" --since 1795518000
	assert_success
	[ "${#lines[@]}" -eq 2 ] && assert_line --index 0 --partial " mount /mnt/b "
	run --separate-stderr env TZ=UTC "$NFSMIG" events --state-dir "$D" --since 2026-11-24T11:30:00
	assert_success
	[ "${#lines[@]}" -eq 1 ] && assert_line --index 0 --partial "migration-failed"
	run --separate-stderr env TZ=UTC "$NFSMIG" events --state-dir "$D" --since 2026-11-25
	assert_success
	assert_output ""
	run --separate-stderr env TZ=Europe/Paris "$NFSMIG" events --state-dir "$D" --since "2026-11-24 12:00"
	assert_success
	# 12:00 in Paris is 11:00 UTC: the mount of 11:00 UTC on, shown in Paris time.
	[ "${#lines[@]}" -eq 2 ] || fail "local time: $output"
	assert_line --index 0 --partial "2026-11-24 12:00:00 mount /mnt/b"
	# Relative: appended now, and one an hour old.
	echo '{"event":"mount","mountpoint":"/mnt/c","message":"just now"}' | "$EVAPPEND" "$D"
	now=$(date +%s)
	echo "{\"time\":$((now - 3600)),\"event\":\"mount\",\"mountpoint\":\"/mnt/c\",\"message\":\"an hour ago\"}" |
		"$EVAPPEND" "$D"
	run "$NFSMIG" events --state-dir "$D" --since 10m
	assert_success
	assert_output --partial "just now"
	refute_output --partial "an hour ago"
	refute_output --partial "moved"
	run "$NFSMIG" events --state-dir "$D" --since 2h
	assert_output --partial "an hour ago"
	for bad in yesterday 10x 2026-13-01 2026-02-30 "" -5 1e9; do
		run "$NFSMIG" events --state-dir "$D" --since "$bad"
		assert_failure 2
		assert_output --partial "--since takes seconds since the epoch"
	done
}

@test "events MOUNT: only that mount's events, the path spelt any way" {
	hostile_log
	run --separate-stderr "$NFSMIG" events --state-dir "$D" /mnt/a/
	assert_success
	[ "${#lines[@]}" -eq 2 ] || fail "$output"
	refute_output --partial "/mnt/b"
	run --separate-stderr "$NFSMIG" events --state-dir "$D" //mnt/./b/x/..
	[ "${#lines[@]}" -eq 1 ] && assert_output --partial " mount /mnt/b "
	run --separate-stderr bash -c "cd / && '$NFSMIG' events --state-dir '$D' mnt/b"
	[ "${#lines[@]}" -eq 1 ] && assert_output --partial " mount /mnt/b "
	run --separate-stderr "$NFSMIG" events --state-dir "$D" /mnt/nothing
	assert_success
	assert_output ""
	run "$NFSMIG" events --state-dir "$D" /mnt/a /mnt/b
	assert_failure 2
}

@test "events -J: JSON lines, each valid and terminal-safe, the strings kept" {
	hostile_log
	run --separate-stderr "$NFSMIG" events -J --state-dir "$D"
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	no_raw_bytes "$output" || fail "raw bytes in the JSON output"
	while IFS= read -r l; do
		python3 -m json.tool <<<"$l" >/dev/null || fail "not JSON: $l"
	done <<<"$output"
	run jq -r 'select(.mountpoint == "/mnt/b") | .message' <<<"$output"
	assert_output "$(printf 'evil \033[2J\302\233 \342\200\256gnp.exe \357\277\275 end')"
	run jq -s 'length' <<<"$("$NFSMIG" events -J --state-dir "$D" 2>/dev/null)"
	assert_output "3"
	run jq -r '.verify.verdict // empty' <<<"$("$NFSMIG" events -J --state-dir "$D" /mnt/a 2>/dev/null)"
	assert_output "OK"
}

# follow_until FILE REGEX: wait (5 s at most) for FILE to hold a line matching REGEX.
follow_until() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "never saw /$2/ in: $(cat "$1")" >&2
	return 1
}

@test "events -f: history, then each new event as it is written (rotation too); SIGINT ends it cleanly" {
	echo '{"event":"mount","mountpoint":"/mnt/a","message":"history"}' | "$EVAPPEND" "$D"
	"$NFSMIG" events -f --state-dir "$D" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	FPID=$!
	follow_until "$BATS_TEST_TMPDIR/out" "history"
	t0=$(now_ms)
	echo '{"event":"migration","mountpoint":"/mnt/a","message":"live one \u001b[31m"}' | "$EVAPPEND" "$D"
	follow_until "$BATS_TEST_TMPDIR/out" 'live one \\x1b\[31m'
	t1=$(now_ms)
	((t1 - t0 < 1000)) || fail "shown after $((t1 - t0)) ms"
	# Past the bound the log is rotated: still followed.
	big=$(printf 'x%.0s' {1..300})
	for i in 1 2 3; do
		echo "{\"event\":\"mount\",\"mountpoint\":\"/mnt/a\",\"message\":\"rotated $i $big\"}"
	done | "$EVAPPEND" "$D" 700
	follow_until "$BATS_TEST_TMPDIR/out" "rotated 3"
	[ -e "$D/events.log.1" ]
	grep -q "rotated 1" "$BATS_TEST_TMPDIR/out"
	grep -q "rotated 2" "$BATS_TEST_TMPDIR/out"
	kill -INT "$FPID"
	rc=0
	wait "$FPID" || rc=$?
	FPID=
	[ "$rc" -eq 0 ] || fail "exit status $rc after SIGINT"
	no_raw_bytes "$(cat "$BATS_TEST_TMPDIR/out")"
}

@test "events -f -J --since now: only new events, as JSON lines into a pipe" {
	echo '{"event":"mount","mountpoint":"/mnt/a","message":"old"}' | "$EVAPPEND" "$D"
	{
		"$NFSMIG" events -f -J --since now --state-dir "$D" /mnt/a &
		echo $! >"$BATS_TEST_TMPDIR/pid"
		wait
	} | cat >"$BATS_TEST_TMPDIR/out" &
	for ((i = 0; i < 100; i++)); do
		[ -s "$BATS_TEST_TMPDIR/pid" ] && break
		sleep 0.05
	done
	FPID=$(cat "$BATS_TEST_TMPDIR/pid")
	sleep 0.3
	printf '%s\n' '{"event":"migration","mountpoint":"/mnt/b","message":"other mount"}' \
		'{"event":"migration","mountpoint":"/mnt/a","message":"new"}' | "$EVAPPEND" "$D"
	follow_until "$BATS_TEST_TMPDIR/out" '"message":"new"'
	run jq -r .message "$BATS_TEST_TMPDIR/out"
	assert_output "new"
	kill -TERM "$FPID"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$FPID" 2>/dev/null || break
		sleep 0.05
	done
	! kill -0 "$FPID" 2>/dev/null || fail "SIGTERM did not end it"
	FPID=
}

@test "events -f in the shell: a new event shows live; Ctrl-C ends it and the prompt comes back" {
	tmux new-session -d -s "$T" -x 160 -y 40 \
		"env XDG_STATE_HOME='$BATS_TEST_TMPDIR/xdg' TERM=xterm $NFSMIG; sleep 60"
	wait_screen() {
		local i
		for ((i = 0; i < 100; i++)); do
			tmux capture-pane -p -N -t "$T" | grep -qE -- "$1" && return 0
			sleep 0.05
		done
		echo "the terminal never showed /$1/:" >&2
		tmux capture-pane -p -N -t "$T" >&2
		return 1
	}
	wait_screen 'nfsmig \(.*\)> $'
	tmux send-keys -t "$T" -- "events -f --state-dir $D" Enter
	sleep 0.5
	echo '{"event":"migration","mountpoint":"/mnt/a","from":"192.0.2.1","to":"192.0.2.2","message":"seen \u001b]0;title\u0007 live"}' |
		"$EVAPPEND" "$D"
	wait_screen 'migration /mnt/a 192\.0\.2\.1 -> 192\.0\.2\.2 seen \\x1b\]0;title\\x07 live$'
	t0=$(now_ms)
	tmux send-keys -t "$T" C-c
	wait_screen 'nfsmig \(.*\)> $'
	t1=$(now_ms)
	((t1 - t0 < 1000)) || fail "the prompt came back after $((t1 - t0)) ms"
	tmux send-keys -t "$T" -- "help events" Enter
	wait_screen '^Usage: nfsmig events'
}

@test "events is in help and in completion" {
	run "$NFSMIG" help
	assert_output --partial "events "
	run "$NFSMIG" help events
	assert_output --partial "--since TIME"
	run "$NFSMIG" __complete events --s
	assert_output --partial -- "--since"
}
