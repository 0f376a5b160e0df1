#!/usr/bin/env bats
# nfsmigd shows a key's description (a server's name from fs_locations)
# escaped: on stdout in -D mode and in its log.  -D needs no kernel keyring
# and no request-key drop-in.

setup() {
	load helpers
}

@test "nfsmigd -D: a description with an escape, a C1 control and a bidi override is shown escaped" {
	local d
	for d in $'a\e[31mevil' $'a\302\233evil' $'a\342\200\256evil' $'a\nstatus: ok'; do
		run "$BUILD/daemon/nfsmigd" -c /dev/null -v -D "$d"
		assert_failure
		if LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]\|\xe2\x80\xae' <<<"$output"; then
			echo "raw bytes reach the terminal:" >&2
			od -c <<<"$output" >&2
			return 1
		fi
		refute_line 'status: ok'
		assert_line 'status: rejected'
	done
	run "$BUILD/daemon/nfsmigd" -c /dev/null -v -D $'a\e[31mevil'
	assert_line --partial 'why: '\''a\x1b[31mevil'\'' is not a valid host name'
}
