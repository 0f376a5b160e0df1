#!/usr/bin/env bats
# The man pages cover what the programs offer.

setup() {
	load helpers
}

@test "nfsmig(8) describes every command of the table" {
	local cmds
	cmds=$("$BUILD/cmd/nfsmig" help | awk '/^  [a-z]/ {print $1}')
	[ -n "$cmds" ]
	for c in $cmds; do
		grep -qx "\.B $c" "$TOP/man/nfsmig.8" || {
			echo "nfsmig(8) lacks command $c"
			return 1
		}
	done
}

@test "nfsmig(8) describes every option of every command" {
	local c o opts
	for c in $("$BUILD/cmd/nfsmig" help | awk '/^  [a-z]/ {print $1}'); do
		opts=$("$BUILD/cmd/nfsmig" help "$c" | grep -oE -- '--[a-z][a-z-]+' | sort -u)
		for o in $opts; do
			grep -qF -- "${o//-/\\-}" "$TOP/man/nfsmig.8" || {
				echo "nfsmig(8) lacks option $o of $c"
				return 1
			}
		done
	done
}

@test "nfsmig.conf(5) describes every configuration key" {
	local k
	for k in nameservers prefer resolver min_ttl max_ttl default_ttl negative_ttl tempfail_ttl \
		servfail_ttl deadline hosts resolv_conf other_requests socket state_dir ask_daemon_timeout \
		max_bytes; do
		grep -q "$k" "$TOP/man/nfsmig.conf.5" || {
			echo "nfsmig.conf(5) lacks $k"
			return 1
		}
		grep -q "\"$k\"" "$TOP/libcore/nm_conf.c"
	done
}
