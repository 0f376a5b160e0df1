#!/usr/bin/env bats
# Bash completion asks nfsmig itself for commands, options and columns.

setup() {
	load helpers
}

# A test that fails before its end leaves no terminal behind.
teardown() {
	[ -z "${T:-}" ] || tmux kill-session -t "$T" 2>/dev/null || true
}

# complete LINE: the candidates bash would offer at the end of LINE.
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
	' _ "$BUILD/cmd" "$TOP/completions/nfsmig" "$1"
}

@test "the completion file registers _nfsmig for nfsmig" {
	run bash -c "source /usr/share/bash-completion/bash_completion; source '$TOP/completions/nfsmig'; complete -p nfsmig"
	assert_success
	assert_output "complete -F _nfsmig nfsmig"
}

@test "completion of a command name" {
	run complete_line "nfsmig lo"
	assert_output "locations"
	run complete_line "nfsmig "
	assert_line "locations"
	assert_line "help"
}

@test "completion of locations options and of their values" {
	run complete_line "nfsmig locations --mou"
	assert_output "--mountinfo"
	run complete_line "nfsmig locations --nfsvers 4."
	assert_output "$(printf '4.0\n4.1\n4.2')"
	run complete_line "nfsmig locations -o ROOT"
	assert_output "ROOTPATH"
}

@test "completion of mount points from the line's --mountinfo, commands after help" {
	run complete_line "nfsmig show --mountinfo $NM_FIXTURES/vm/mountinfo.referral /mnt/a/"
	assert_output "/mnt/a/r"
	run complete_line "nfsmig verify --mountinfo $NM_FIXTURES/vm/mountinfo.referral "
	assert_output "$(printf '/mnt/a\n/mnt/a/r')"
	run complete_line "nfsmig help v"
	assert_output "verify"
	run complete_line "nfsmig verify --to "
	assert_success
}

@test "the hidden entry point answers from the table, file names by a marker" {
	run "$BUILD/cmd/nfsmig" __complete ""
	assert_line "verify"
	refute_line "quit"
	run "$BUILD/cmd/nfsmig" __complete verify --mountstats ""
	assert_output ":files"
	run "$BUILD/cmd/nfsmig" __complete mounts -o TAR
	assert_output "TARGET"
	run "$BUILD/cmd/nfsmig" __complete nosuchcommand ""
	assert_success
	assert_output ""
}

# An interactive bash in a terminal of its own (tmux), with the completion
# loaded and a stand-in nfsmig that logs its arguments, one a line, to
# $ARGS and offers the lines of $CANDS: what bash really does with the line.
ibash_start() {
	T="nfsmig-cb-$$-$BATS_TEST_NUMBER"
	CANDS=$BATS_TEST_TMPDIR/cands ARGS=$BATS_TEST_TMPDIR/args
	RAW=$BATS_TEST_TMPDIR/raw
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/nfsmig" <<EOF2
#!/bin/sh
printf '%s\n' "\$@" >'$ARGS'
cat '$CANDS'
EOF2
	chmod +x "$BATS_TEST_TMPDIR/bin/nfsmig"
	tmux kill-session -t "$T" 2>/dev/null || true
	tmux new-session -d -s "$T" -x 200 -y 40 \
		"env -i HOME='$BATS_TEST_TMPDIR' TERM=xterm LANG=C.UTF-8 PATH='$BATS_TEST_TMPDIR/bin:$PATH' bash --norc --noprofile -i"
	tmux send-keys -t "$T" -- "source /usr/share/bash-completion/bash_completion; source '$TOP/completions/nfsmig'; PS1='ready> '; clear" Enter
	ibash_wait '^ready> $'
	tmux pipe-pane -t "$T" -o "cat >>'$RAW'"
}

ibash_wait() {
	local i
	for ((i = 0; i < 100; i++)); do
		tmux capture-pane -p -N -t "$T" | grep -qE -- "$1" && return 0
		sleep 0.05
	done
	echo "the terminal never showed /$1/:" >&2
	tmux capture-pane -p -N -t "$T" >&2
	return 1
}

@test "interactive bash: IPv6 addresses and SERVER:/PATH are one word" {
	ibash_start
	printf '%s\n' 2001:db8::15 srv:/export/a >"$CANDS"
	tmux send-keys -t "$T" -- "nfsmig verify --to 2001:db8::" Tab
	ibash_wait '^ready> nfsmig verify --to 2001:db8::15 $'
	run cat "$ARGS"
	assert_output "$(printf '__complete\nverify\n--to\n2001:db8::')"
	tmux send-keys -t "$T" -- C-u "nfsmig verify --to srv:/e" Tab
	ibash_wait '^ready> nfsmig verify --to srv:/export/a $'
	tmux kill-session -t "$T"
}

@test "interactive bash: completion goes on after a quoted insert, nfsmig gets the words dequoted" {
	ibash_start
	printf '%s\n' '/mnt/a b/' '/mnt/a b/cdir' >"$CANDS"
	tmux send-keys -t "$T" -- "nfsmig show '/mnt/a b/' /mnt/a" Tab
	ibash_wait "^ready> nfsmig show '/mnt/a b/' /mnt/a\\\\ b/\$"
	tmux send-keys -t "$T" -- "c" Tab
	ibash_wait "^ready> nfsmig show '/mnt/a b/' /mnt/a\\\\ b/cdir \$"
	run cat "$ARGS"
	assert_output "$(printf '__complete\nshow\n/mnt/a b/\n/mnt/a b/c')"
	tmux kill-session -t "$T"
}

@test "interactive bash: no bidi or zero-width character is listed or inserted raw" {
	ibash_start
	printf '%s\n' "bidi$(printf '\342\200\256')x" "bidi$(printf '\342\200\213')y" bidiz >"$CANDS"
	tmux send-keys -t "$T" -- "nfsmig show bi" Tab
	sleep 0.3
	tmux send-keys -t "$T" -- Tab Tab
	ibash_wait 'bidiz'
	sleep 0.5
	tmux kill-session -t "$T"
	if LC_ALL=C grep -q $'\xe2\x80[\x8b\xae]' "$RAW"; then
		echo "a format character reached the terminal raw:" >&2
		od -c "$RAW" >&2
		return 1
	fi
}
