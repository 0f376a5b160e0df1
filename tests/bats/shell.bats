#!/usr/bin/env bats
# The nfsmig shell, driven in a real terminal (tmux): completion, history,
# prefixes, Ctrl-C; and batch mode from a pipe.  The shell runs in a network
# namespace of its own with a silent server on its loopback for Ctrl-C.

setup_file() {
	load helpers
	export SNS="nfsmig-t$$"
	ip netns add "$SNS"
	ip -n "$SNS" link set lo up
	ip netns exec "$SNS" "$BUILD/tests/helpers/fakesrv" 127.0.0.1 20490 silent \
		>"$BATS_FILE_TMPDIR/fake.out" 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/fake.pid"
	for ((i = 0; i < 100; i++)); do
		grep -q ready "$BATS_FILE_TMPDIR/fake.out" && break
		sleep 0.05
	done
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/fake.pid")" 2>/dev/null || true
	ip netns del "nfsmig-t$$" 2>/dev/null || true
}

setup() {
	load helpers
	T="nfsmig-sh-$$-$BATS_TEST_NUMBER"
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/xdg
	MI=$NM_FIXTURES/vm/mountinfo.referral
}

teardown() {
	tmux kill-session -t "$T" 2>/dev/null || true
}

# sh_start ARGS...: the shell in a terminal of its own; waits for its prompt.
sh_start() {
	tmux kill-session -t "$T" 2>/dev/null || true
	tmux new-session -d -s "$T" -x 160 -y 40 \
		"env XDG_STATE_HOME='$XDG_STATE_HOME' TERM=xterm ip netns exec $SNS $BUILD/cmd/nfsmig $*; sleep 60"
	sh_wait 'nfsmig \(.*\)> $'
}

screen() { tmux capture-pane -p -N -t "$T"; }

# sh_wait REGEX [SECONDS]: until the terminal shows a line matching REGEX.
sh_wait() {
	local i n=$((${2:-10} * 20))
	for ((i = 0; i < n; i++)); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.05
	done
	echo "the terminal never showed /$1/:" >&2
	screen >&2
	return 1
}

keys() { tmux send-keys -t "$T" -- "$@"; }

@test "Tab completes a command and an option" {
	sh_start
	keys "ver" Tab
	sh_wait '> verify $'
	keys "--mounti" Tab
	sh_wait '> verify --mountinfo $'
}

@test "Tab completes a mount point from the shell's --mountinfo table" {
	sh_start --mountinfo "$MI"
	sh_wait 'nfsmig \(mountinfo.referral\)> $'
	keys "show /mnt/a/" Tab
	sh_wait '> show /mnt/a/r $'
	keys C-u "mounts" Enter
	sh_wait '^/mnt/a/r +server-b:/r +198\.51\.100\.2 .*referral'
}

@test "history survives a restart" {
	sh_start
	keys "help show" Enter
	sh_wait 'Usage: nfsmig show'
	keys "quit" Enter
	sh_wait 'nfsmig \(.*\)> quit'
	[ -s "$XDG_STATE_HOME/nfsmig/history" ]
	run stat -c %a "$XDG_STATE_HOME/nfsmig/history"
	assert_output "600"
	sh_start
	keys Up Up
	sh_wait '> help show$'
	keys C-u "history" Enter
	sh_wait '^ +[0-9]+  help show$'
}

@test "a unique prefix runs the command, an ambiguous one lists the candidates" {
	sh_start
	keys "h" Enter
	sh_wait "'h' is ambiguous: help history"
	keys "hel" Enter
	sh_wait '^Usage: nfsmig COMMAND'
	keys "mou --mountinfo $MI" Enter
	sh_wait '^/mnt/a +server-a:/ '
}

@test "Ctrl-C stops a command waiting on a silent server and returns to the prompt at once" {
	sh_start
	keys "locations -t 60 127.0.0.1:20490:/export" Enter
	sleep 1
	screen | grep -qE 'nfsmig \(.*\)> locations' # still running: no new prompt yet
	run bash -c "tmux capture-pane -p -N -t '$T' | grep -cE 'nfsmig \(.*\)> '"
	assert_output "1"
	t0=$(now_ms)
	keys C-c
	sh_wait '^\^C$' 2
	sh_wait 'nfsmig \(.*\)> $' 2
	t1=$(now_ms)
	((t1 - t0 < 1000)) || fail "the prompt came back after $((t1 - t0)) ms"
	# The shell is alive and well.
	keys "help" Enter
	sh_wait '^Usage: nfsmig COMMAND'
}

@test "Ctrl-D leaves the shell" {
	sh_start
	keys C-d
	run bash -c "sleep 0.5; tmux list-panes -t '$T' -F '#{pane_current_command}'"
	assert_output "sleep"
}

@test "batch mode: stops at the first failing line, or goes on with -force" {
	run bash -c "printf 'help\nbogus\nhelp\n' | '$BUILD/cmd/nfsmig'"
	assert_failure 2
	assert_line --partial "nfsmig: no command 'bogus'"
	assert_line --partial "stdin line 2 failed (exit status 2): stopping"
	[ "$(grep -c '^Usage: nfsmig COMMAND' <<<"$output")" = 1 ]
	run bash -c "printf 'help\nbogus\n# a comment\n\nhelp\n' | '$BUILD/cmd/nfsmig' -force"
	assert_failure 1
	[ "$(grep -c '^Usage: nfsmig COMMAND' <<<"$output")" = 2 ]
	run bash -c "printf 'help \"verify\nhelp\n' | '$BUILD/cmd/nfsmig'"
	assert_failure 2
	assert_line "nfsmig: unbalanced quote or more than 64 words"
	run bash -c "printf 'help \"ver\"\\\\x\n' | '$BUILD/cmd/nfsmig'"
	assert_failure 2
	assert_line --partial "no command 'verx'"
	printf 'mounts -r --mountinfo %s\n' "$MI" >"$BATS_TEST_TMPDIR/cmds"
	run "$BUILD/cmd/nfsmig" -batch "$BATS_TEST_TMPDIR/cmds"
	assert_success
	assert_line "/mnt/a/r server-b:/r 198.51.100.2  4.1 sys referral"
}

@test "a command gives the same output and status in the shell as one-shot" {
	local sd=$BATS_TEST_TMPDIR/sd
	mkdir -p "$sd"
	for cmd in "mounts -J --mountinfo $MI --state-dir $sd" "show --mountinfo $MI --state-dir $sd /mnt/a" \
		"verify --mountinfo $MI --state-dir $sd /mnt/a/r" "help register"; do
		rc1=0
		one=$("$BUILD/cmd/nfsmig" $cmd 2>&1) || rc1=$?
		rc2=0
		shell=$(echo "$cmd" | "$BUILD/cmd/nfsmig" -force 2>&1) || rc2=$?
		shell=$(grep -v '^nfsmig: stdin line' <<<"$shell")
		[ "$one" = "$shell" ] || fail "'$cmd' differs: one-shot [$one] shell [$shell]"
		# -force turns a failure into 1: compare success with success.
		[ $((rc1 == 0)) = $((rc2 == 0)) ] || fail "'$cmd': one-shot $rc1, shell $rc2"
	done
}

@test "quit and history outside the shell say where they work" {
	run "$BUILD/cmd/nfsmig" history
	assert_failure 2
	assert_output "nfsmig: history works in the shell (nfsmig with no command)"
}
