#!/usr/bin/env bats
# Nothing a server or a directory says reaches a shell or a terminal raw.
#
# Location names that are a command substitution, backticks, a space and an
# escape sequence come from a Ganesha referral (for `locations`) and from
# replayed replies (tests/helpers/untrusted-replies.py: Ganesha sends
# fs_locations only for an absent file system, which `register` refuses,
# so a record's locations come from the fake server).  The mount point and
# the entry register saves have an escape sequence, a C1 control and a
# byte that is not UTF-8 in their names.

setup_file() {
	load helpers
	lab_up
	local ex=$BATS_FILE_TMPDIR/ex
	mkdir -p "$ex"
	"$NFSLAB" referral "$ex/subst" '$(touch /tmp/nfsmig-ran-subst):/export/a'
	"$NFSLAB" referral "$ex/tick" '`touch /tmp/nfsmig-ran-backtick`:/export/b'
	"$NFSLAB" referral "$ex/space" 'two words:/export/c'
	"$NFSLAB" referral "$ex/esc" "$(printf '\033[31mred\033[0m:/export/\033[32mgreen\302\233\377')"
	"$NFSLAB" server "$LAB" evil 192.0.2.31
	"$NFSLAB" start "$LAB" evil 2049 "$ex" /export
}

teardown_file() {
	load helpers
	lab_down
}

setup() {
	load helpers
	rm -f /tmp/nfsmig-ran-*
	SD=$BATS_TEST_TMPDIR/state
	MI=$BATS_TEST_TMPDIR/mountinfo
	MP=$BATS_TEST_TMPDIR/mnt$(printf '\033[1m\377')
	mkdir -p "$SD" "$MP"
	: >"$MP/$(printf '\033[31m\302\233entry')"
	printf '%s\n' "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw" \
		"40 22 0:40 / $MP rw,relatime shared:20 - nfs4 192.0.2.1:/ rw,vers=4.0,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.1,port=20511" \
		>"$MI"
}

teardown() {
	fake_stop
	tmux kill-session -t "nfsmig-un-$$" 2>/dev/null || true
	[ ! -e /tmp/nfsmig-ran-subst ] && [ ! -e /tmp/nfsmig-ran-backtick ] &&
		[ ! -e /tmp/nfsmig-ran-fake ] || {
		rm -f /tmp/nfsmig-ran-*
		echo "a name from the server was run as a command" >&2
		return 1
	}
}

nmu() {
	nm "$@" --mountinfo "$MI" --state-dir "$SD"
}

# The record of $MP, from the fake server's replies.
register_untrusted() {
	fake_start 20511 replay wire/v40-register-untrusted-root.hex \
		wire/v40-register-untrusted-entry.hex
	run nmu register
	fake_stop
	assert_success
	REGISTERED=$output
}

# assert_safe: $output holds no control character but newline, no C1
# control, no bidi or zero-width character, and is valid UTF-8.
assert_safe() {
	if LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' <<<"$output" ||
		LC_ALL=C grep -q $'\xc2[\x80-\x9f]' <<<"$output" ||
		LC_ALL=C grep -q $'\xe2\x80[\x8b-\x8f\xa8-\xae]\|\xe2\x81[\xa6-\xa9]\|\xef\xbb\xbf' <<<"$output" ||
		! iconv -f UTF-8 -t UTF-8 <<<"$output" >/dev/null 2>&1; then
		echo "raw bytes reach the terminal:" >&2
		od -c <<<"$output" | head -40 >&2
		return 1
	fi
}

# complete_line LINE [PATH]: the candidates bash offers at the end of LINE.
complete_line() {
	bash -c '
		source /usr/share/bash-completion/bash_completion
		PATH=$1:$PATH
		source "$2"
		COMP_LINE=$3
		COMP_POINT=${#COMP_LINE}
		read -ra COMP_WORDS <<<"$COMP_LINE"
		[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_nfsmig nfsmig "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort
	' _ "${2:-$BUILD/cmd}" "$TOP/completions/nfsmig" "$1"
}

@test "locations: a referral's names are shown escaped and never resolved" {
	local r
	for r in subst tick space esc; do
		run nm locations 192.0.2.31:/export/$r
		assert_success
		assert_safe
		assert_line --regexp ' not a host name or address$'
		run nm locations -J 192.0.2.31:/export/$r
		assert_success
		assert_safe
		echo "$output" | jq -e '.locations | length == 1 and .[0].reachable == false'
		echo "$output" | jq -e '.locations[0] | .target == null and (.server | test("[$` \u001b]") | not)'
	done
	run nm locations -J 192.0.2.31:/export/subst
	echo "$output" | jq -e '.locations[0].server == "\\x24\\x28touch\\x20\\x2ftmp\\x2fnfsmig-ran-subst\\x29"'
	run nm locations -J 192.0.2.31:/export/esc
	echo "$output" | jq -e '.locations[0].server == "\\x1b\\x5b31mred\\x1b\\x5b0m"'
	echo "$output" | jq -e '.locations[0].rootpath == "/export/\\x1b[32mgreen\\xc2\\x9b\\xff"'
}

@test "register keeps a server's name only when it is a host name; show escapes the rest" {
	register_untrusted
	output=$REGISTERED
	assert_safe
	assert_output --partial 'registered '"$BATS_TEST_TMPDIR"'/mnt\x1b[1m\xff: server 192.0.2.1'
	run nmu show "$MP"
	assert_success
	assert_safe
	assert_line 'target:          '"$BATS_TEST_TMPDIR"'/mnt\x1b[1m\xff'
	assert_line --regexp '^entry handle: +\\x1b\[31m\\xc2\\x9bentry \(fileid 3\) '
	assert_line 'location:        \x24\x28touch\x20\x2ftmp\x2fnfsmig-ran-subst\x29:/export/\x1b[32mgreen'
	assert_line 'location:        \x60touch\x20\x2ftmp\x2fnfsmig-ran-backtick\x60:/export/\x1b[32mgreen'
	assert_line 'location:        two\x20words:/export/\x1b[32mgreen'
	assert_line 'location:        \x1b\x5b31mred\x1b\x5b0m:/export/\x1b[32mgreen'
	assert_line 'location:        srv5.nfsmig.test:/export/\x1b[32mgreen'
	assert_line 'location:        [2001:db8::15]:/export/\x1b[32mgreen'
	run nmu show -J "$MP"
	assert_success
	assert_safe
	echo "$output" | jq -e '.locations | length == 6'
	echo "$output" | jq -e '[.locations[] | select(test("^[^/]*[$` ]"))] == []'
	echo "$output" | jq -e '.entry.name == "\u001b[31m\u009bentry"'
	echo "$output" | jq -e --arg t "$BATS_TEST_TMPDIR/mnt" '.target == $t + "\u001b[1m\ufffd"'
}

@test "mounts and verify: valid UTF-8 JSON, escaped text" {
	register_untrusted
	run nmu mounts -J
	assert_success
	assert_safe
	echo "$output" | jq -e --arg t "$BATS_TEST_TMPDIR/mnt" '.mounts[0] | .target == $t + "\u001b[1m\ufffd" and .state == "registered"'
	run nmu mounts
	assert_success
	assert_safe
	# The fake server is gone: every check fails, the target is escaped.
	run nmu verify --timeout 2 --to srv5.nfsmig.test
	assert_failure
	assert_safe
	assert_line "$BATS_TEST_TMPDIR"'/mnt\x1b[1m\xff: FAIL'
	run nmu verify -J --timeout 2 --to srv5.nfsmig.test
	assert_safe
	echo "$output" | jq -e --arg t "$BATS_TEST_TMPDIR/mnt" '.verify[0].target == $t + "\u001b[1m\ufffd"'
}

@test "bash completion after verify --to: host names and addresses only, nothing runs" {
	register_untrusted
	run complete_line "nfsmig verify --mountinfo $MI --state-dir $SD --to "
	assert_success
	assert_output "$(printf '192.0.2.1\n2001:db8::15\nsrv5.nfsmig.test')"
	run complete_line "nfsmig verify --mountinfo $MI --state-dir $SD --to s"
	assert_output "srv5.nfsmig.test"
}

@test "the completion script takes nfsmig's candidates literally, inserts them quoted" {
	local fake=$BATS_TEST_TMPDIR/bin
	mkdir -p "$fake"
	cat >"$fake/nfsmig" <<'EOF'
#!/bin/sh
printf '%s\n' '$(touch /tmp/nfsmig-ran-fake)' '`touch /tmp/nfsmig-ran-fake`' '${PATH}' \
	'two words' '/mnt/r/$(touch /tmp/nfsmig-ran-fake)' plain.example
EOF
	chmod +x "$fake/nfsmig"
	run complete_line "nfsmig verify --to " "$fake"
	assert_success
	assert_line '\$\(touch\ /tmp/nfsmig-ran-fake\)'
	assert_line '\`touch\ /tmp/nfsmig-ran-fake\`'
	assert_line '\$\{PATH\}'
	assert_line 'two\ words'
	assert_line '/mnt/r/\$\(touch\ /tmp/nfsmig-ran-fake\)'
	assert_line 'plain.example'
	# What bash inserts reads back, as one word, as the candidate.
	local line words=()
	while IFS= read -r line; do
		eval "words+=($line)"
	done <<<"$output"
	[ "${#words[@]}" = 6 ]
	printf '%s\n' "${words[@]}" | grep -Fxq '$(touch /tmp/nfsmig-ran-fake)'
	printf '%s\n' "${words[@]}" | grep -Fxq '/mnt/r/$(touch /tmp/nfsmig-ran-fake)'
	printf '%s\n' "${words[@]}" | grep -Fxq 'two words'
	run complete_line 'nfsmig verify --to /mnt/r/$' "$fake"
	assert_output '/mnt/r/\$\(touch\ /tmp/nfsmig-ran-fake\)'
	[ ! -e /tmp/nfsmig-ran-fake ]
}

@test "the shell's Tab after verify --to offers host names and addresses only" {
	register_untrusted
	local t="nfsmig-un-$$" i
	tmux new-session -d -s "$t" -x 200 -y 40 \
		"env XDG_STATE_HOME='$BATS_TEST_TMPDIR/xdg' TERM=xterm $BUILD/cmd/nfsmig --mountinfo '$MI'; sleep 60"
	tmux pipe-pane -t "$t" -o "cat >>'$BATS_TEST_TMPDIR/raw'"
	for ((i = 0; i < 200; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -qE 'nfsmig \(.*\)> $' && break
		sleep 0.05
	done
	tmux send-keys -t "$t" -- "verify --state-dir $SD --to " Tab Tab
	for ((i = 0; i < 200; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -q 'srv5\.nfsmig\.test' && break
		sleep 0.05
	done
	run tmux capture-pane -p -N -t "$t"
	assert_output --partial "srv5.nfsmig.test"
	assert_output --partial "2001:db8::15"
	refute_output --partial "touch"
	refute_output --partial "words"
	# The server's escape sequence: neither its bytes nor its stored form.
	refute_output --partial 'x1b'
	if LC_ALL=C grep -q $'\e\\[31m' "$BATS_TEST_TMPDIR/raw"; then
		echo "the server's escape sequence reached the terminal" >&2
		return 1
	fi
	tmux send-keys -t "$t" -- "s" Tab
	for ((i = 0; i < 100; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -q -- '--to srv5\.nfsmig\.test $' && break
		sleep 0.05
	done
	run tmux capture-pane -p -N -t "$t"
	assert_line --regexp -- '--to srv5\.nfsmig\.test $'
}

@test "the shell's batch mode shows a line's words escaped" {
	printf 'nosuch\033[31mred\n' >"$BATS_TEST_TMPDIR/batch"
	run "$BUILD/cmd/nfsmig" -force <"$BATS_TEST_TMPDIR/batch"
	assert_failure
	assert_safe
	assert_line "nfsmig: no command 'nosuch\\x1b[31mred' (try: help)"
}

# hostile_mi FILE: a mount table whose NFS mount points (the kernel names a
# referral's submount after the server's entry) hold a space and an option,
# a C1 control, a bidi override and a newline.
hostile_mi() {
	printf '%s\n' "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw" \
		"41 22 0:41 / /mnt/a\\040--force\\040x rw,relatime shared:21 - nfs4 192.0.2.1:/ rw,vers=4.0,addr=192.0.2.1" \
		"42 22 0:42 / /mnt/a$(printf '\302\233')c1 rw,relatime shared:22 - nfs4 192.0.2.1:/ rw,vers=4.0,addr=192.0.2.1" \
		"43 22 0:43 / /mnt/a$(printf '\342\200\256')bidi rw,relatime shared:23 - nfs4 192.0.2.1:/ rw,vers=4.0,addr=192.0.2.1" \
		"44 22 0:44 / /mnt/a\\012nl rw,relatime shared:24 - nfs4 192.0.2.1:/ rw,vers=4.0,addr=192.0.2.1" \
		>"$1"
}

# assert_no_bidi: $output holds no format character (bidi, zero width).
assert_no_bidi() {
	if LC_ALL=C grep -q $'\xe2\x80[\x8b-\x8f\xaa-\xae]\|\xe2\x81[\xa6-\xa9]' <<<"$output"; then
		echo "a format character reaches the terminal:" >&2
		od -c <<<"$output" | head -40 >&2
		return 1
	fi
}

@test "the shell's Tab on hostile mount points: quoted, nothing raw listed" {
	hostile_mi "$BATS_TEST_TMPDIR/hmi"
	local t="nfsmig-un-$$" i raw=$BATS_TEST_TMPDIR/raw
	tmux new-session -d -s "$t" -x 200 -y 40 \
		"env XDG_STATE_HOME='$BATS_TEST_TMPDIR/xdg' TERM=xterm LANG=C.UTF-8 $BUILD/cmd/nfsmig --mountinfo '$BATS_TEST_TMPDIR/hmi'; sleep 60"
	tmux pipe-pane -t "$t" -o "cat >>'$raw'"
	for ((i = 0; i < 200; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -qE 'nfsmig \(.*\)> $' && break
		sleep 0.05
	done
	tmux send-keys -t "$t" -- "show /mnt/a" Tab
	for ((i = 0; i < 40; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -q -- 'x $' && break
		sleep 0.05
	done
	run tmux capture-pane -p -N -t "$t"
	# The one name safe to show, inserted so that it reads back as one word.
	assert_line --regexp -- '> show /mnt/a\\ --force\\ x $'
	tmux send-keys -t "$t" -- Enter
	sleep 0.5
	run tmux capture-pane -p -N -t "$t"
	refute_output --partial "unrecognized option"
	# Tab Tab lists the matches: none shown raw.
	tmux send-keys -t "$t" -- "show /mnt/" Tab Tab
	sleep 0.5
	output=$(cat "$raw")
	# No C1 control, no bidi override reached the terminal.
	if LC_ALL=C grep -q $'\xc2\x9b' "$raw"; then
		echo "a C1 control reached the terminal raw" >&2
		return 1
	fi
	assert_no_bidi
}

@test "JSON of a table shows a mount point's C1 and bidi characters as \\u escapes" {
	hostile_mi "$BATS_TEST_TMPDIR/hmi"
	run nm mounts -J --mountinfo "$BATS_TEST_TMPDIR/hmi" --state-dir "$BATS_TEST_TMPDIR/sd"
	assert_success
	assert_safe
	assert_output --partial '"/mnt/a\u009bc1"'
	assert_output --partial '"/mnt/a\u202ebidi"'
	echo "$output" | jq -e '[.mounts[].target] | index("/mnt/a\u009bc1") and index("/mnt/a\u202ebidi") and index("/mnt/a\nnl")'
	run nm verify -J --timeout 1 --mountinfo "$BATS_TEST_TMPDIR/hmi" --state-dir "$BATS_TEST_TMPDIR/sd"
	assert_safe
	echo "$output" | jq -e '[.verify[].target] | index("/mnt/a\u202ebidi")'
}

@test "batch-file words in option errors are shown escaped" {
	printf '%s\n' "mounts --x$(printf '\033')[31m" "mounts -$(printf '\033')" \
		"help $(printf '\033')[32m" "mounts --timeout $(printf '\033')[33m" \
		"mounts -o a$(printf '\033')[34m" "verify --zz$(printf '\342\200\256')" >"$BATS_TEST_TMPDIR/batch"
	run "$BUILD/cmd/nfsmig" -force <"$BATS_TEST_TMPDIR/batch"
	assert_failure
	assert_safe
	assert_line "nfsmig: option '--x\\x1b[31m' is unknown or lacks its value"
	assert_line "nfsmig: option -\\x1b is unknown or lacks its value"
	assert_line "nfsmig: no command '\\x1b[32m' (try: nfsmig help)"
	assert_line "nfsmig: --timeout takes seconds (0.01 to 3600), not '\\x1b[33m'"
	assert_line "nfsmig: unknown column 'a\\x1b[34m' (see --list-columns)"
	assert_line "nfsmig: option '--zz\\xe2\\x80\\xae' is unknown or lacks its value"
	run "$BUILD/cmd/nfsmig" "--x$(printf '\033')"
	assert_failure
	assert_safe
}

@test "a backslash always starts an escape: a literal one is \\x5c, no escape is escaped twice" {
	printf '%s\n' "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw" \
		"41 22 0:41 / /mnt/lit\\134x1b[31m rw,relatime shared:21 - nfs4 192.0.2.1:/ rw,vers=4.0,addr=192.0.2.1" \
		"42 22 0:42 / /mnt/esc$(printf '\033')[31m rw,relatime shared:22 - nfs4 192.0.2.1:/ rw,vers=4.0,addr=192.0.2.1" \
		>"$BATS_TEST_TMPDIR/bmi"
	run nm mounts -o TARGET --mountinfo "$BATS_TEST_TMPDIR/bmi" --state-dir "$BATS_TEST_TMPDIR/sd"
	assert_success
	assert_safe
	assert_line '/mnt/lit\x5cx1b[31m'
	assert_line '/mnt/esc\x1b[31m'
	mkdir -p "$BATS_TEST_TMPDIR/sd"
	run nm show --mountinfo "$BATS_TEST_TMPDIR/bmi" --state-dir "$BATS_TEST_TMPDIR/sd" '/mnt/lit\x1b[31m'
	assert_safe
	assert_output --partial '/mnt/lit\x5cx1b[31m'
	# Names escaped when they came off the wire are shown as they are.
	run nm locations 192.0.2.31:/export/subst
	assert_success
	assert_output --partial '\x24\x28touch\x20\x2ftmp\x2fnfsmig-ran-subst\x29'
	refute_output --partial '\x5c'
	run nm locations 192.0.2.31:/export/esc
	assert_output --partial '/export/\x1b[32mgreen\xc2\x9b\xff'
	refute_output --partial '\x5c'
}

@test "the shell's Tab Tab lists local file names escaped" {
	local d=$BATS_TEST_TMPDIR/files t="nfsmig-un-$$" i raw=$BATS_TEST_TMPDIR/raw
	mkdir -p "$d"
	: >"$d/f$(printf '\033')[31mx"
	: >"$d/f$(printf '\302\233')y"
	: >"$d/f$(printf '\342\200\256')z"
	tmux new-session -d -s "$t" -x 200 -y 40 \
		"env XDG_STATE_HOME='$BATS_TEST_TMPDIR/xdg' TERM=xterm LANG=C.UTF-8 $BUILD/cmd/nfsmig; sleep 60"
	tmux pipe-pane -t "$t" -o "cat >>'$raw'"
	for ((i = 0; i < 200; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -qE 'nfsmig.*> $' && break
		sleep 0.05
	done
	tmux send-keys -t "$t" -- "mounts --mountinfo $d/f" Tab Tab
	for ((i = 0; i < 60; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -q 'x1b' && break
		sleep 0.05
	done
	run tmux capture-pane -p -N -t "$t"
	assert_output --partial 'f\x1b[31mx'
	assert_output --partial 'f\xc2\x9by'
	if LC_ALL=C grep -q $'\e\\[31m\\|\xc2\x9b\\|\xe2\x80\xae' "$raw"; then
		echo "a file name reached the terminal raw:" >&2
		od -c "$raw" | tail -20 >&2
		return 1
	fi
}

@test "__complete offers no mount point that needs escaping, one a line" {
	hostile_mi "$BATS_TEST_TMPDIR/hmi"
	run "$BUILD/cmd/nfsmig" __complete show --mountinfo "$BATS_TEST_TMPDIR/hmi" /mnt/a
	assert_success
	assert_output '/mnt/a --force x'
	run complete_line "nfsmig show --mountinfo $BATS_TEST_TMPDIR/hmi /mnt/a"
	assert_output '/mnt/a\ --force\ x'
}

@test "the shell's Tab goes on after an escaped blank and inside quotes" {
	hostile_mi "$BATS_TEST_TMPDIR/hmi"
	local t="nfsmig-un-$$" i
	tmux new-session -d -s "$t" -x 200 -y 40 \
		"env XDG_STATE_HOME='$BATS_TEST_TMPDIR/xdg' TERM=xterm LANG=C.UTF-8 $BUILD/cmd/nfsmig --mountinfo '$BATS_TEST_TMPDIR/hmi'; sleep 60"
	for ((i = 0; i < 200; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -qE 'nfsmig \(.*\)> $' && break
		sleep 0.05
	done
	# The word is the whole of "/mnt/a\ --f", not "--f".
	tmux send-keys -t "$t" -- 'show /mnt/a\ --f' Tab
	for ((i = 0; i < 40; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -q -- 'x $' && break
		sleep 0.05
	done
	run tmux capture-pane -p -N -t "$t"
	assert_line --regexp -- '> show /mnt/a\\ --force\\ x $'
	tmux send-keys -t "$t" -- C-u "show '/mnt/a --f" Tab
	for ((i = 0; i < 40; i++)); do
		tmux capture-pane -p -N -t "$t" | grep -q -- "x' \$" && break
		sleep 0.05
	done
	run tmux capture-pane -p -N -t "$t"
	assert_line --regexp -- "> show '/mnt/a --force x' \$"
}
