#!/usr/bin/env bats
# Bash completion asks nfsmig itself for commands, options and columns.

setup() {
	load helpers
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
