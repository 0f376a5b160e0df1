#!/usr/bin/env bats
# contrib/ansible/nfsmig-cutover.yml with Debian's ansible-core, against two
# local hosts (ansible_connection=local), each with its own saved mount
# table and state directory: both register their mount of the lab's srv2
# before the cutover; after it, client-ok's mount is on srv5 (the same
# export: OK) and client-fail's on 192.0.2.14 (no server: FAIL), and
# client-gone cannot be reached (ssh to a closed port).  The FAIL host
# fails, the other does not, and the one summary says so, the unreachable
# host counted as not verified.  No nfsmig_become: Ansible runs as root
# here and there is no sudo (a fresh Debian).

bats_require_minimum_version 1.5.0

setup_file() {
	load helpers
	command -v ansible-playbook >/dev/null || return 0
	lab_up
	"$NFSLAB" server "$LAB" srv5 192.0.2.15
	"$NFSLAB" start "$LAB" srv5 2049 "/run/nfsmig-lab/$LAB/tree/srv2"
}

teardown_file() {
	load helpers
	lab_down
}

setup() {
	load helpers
	command -v ansible-playbook >/dev/null || skip "ansible-core is not installed (scripts/deps)"
	T=$BATS_TEST_TMPDIR
	export ANSIBLE_LOCAL_TEMP=$T/ansible-local ANSIBLE_REMOTE_TEMP=$T/ansible-remote
	export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_CONFIG=$T/ansible.cfg
	export HOME=$T # ansible keeps its own files there
	: >"$T/ansible.cfg" # none of the machine's
	# nfsmig in the lab's client namespace: what each host runs.
	cat >"$T/nfsmig" <<-EOF
		#!/bin/sh
		exec ip netns exec "$LAB" "$BUILD/cmd/nfsmig" "\$@"
	EOF
	chmod 0755 "$T/nfsmig"
	for h in client-ok client-fail; do
		mkdir -p "$T/$h/state"
		table "$h" 192.0.2.12
	done
	cat >"$T/inventory" <<-EOF
		[nfs_clients]
		client-ok nfsmig_mountinfo=$T/client-ok/mountinfo nfsmig_state_dir=$T/client-ok/state
		client-fail nfsmig_mountinfo=$T/client-fail/mountinfo nfsmig_state_dir=$T/client-fail/state

		[nfs_clients:vars]
		ansible_connection=local
		ansible_python_interpreter=/usr/bin/python3
		nfsmig_command=$T/nfsmig
		nfsmig_timeout=5
	EOF
}

# table HOST ADDR: HOST's mount of srv2's export, the kernel's server ADDR.
table() {
	cat >"$T/$1/mountinfo" <<-MI
		22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
		41 22 0:41 / /mnt/data rw,relatime shared:21 - nfs4 srv2.nfsmig.test:/export rw,vers=4.2,sec=sys,clientaddr=192.0.2.1,addr=$2
	MI
}

playbook() {
	ansible-playbook -i "$T/inventory" "$TOP/contrib/ansible/nfsmig-cutover.yml" "$@"
}

@test "ansible: register before, verify after: the FAIL host fails, one summary says so" {
	run playbook -e nfsmig_phase=before -e '{"nfsmig_mounts": ["/mnt/data"]}'
	assert_success
	assert_output --regexp 'client-ok +: ok=[0-9]+ +changed=1 +unreachable=0 +failed=0'
	assert_output --regexp 'client-fail +: ok=[0-9]+ +changed=1 +unreachable=0 +failed=0'
	for h in client-ok client-fail; do
		grep -q '^orig_server=192.0.2.12$' "$T/$h/state/-mnt-data.state" ||
			fail "$h not registered: $(ls "$T/$h/state")"
	done

	# The cutover; a third client that cannot be reached.
	table client-ok 192.0.2.15
	table client-fail 192.0.2.14
	# and one whose nfsmig cannot be run (Ansible's message says why).
	sed -i "/^client-fail /a client-gone ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=1\\nclient-nonfsmig nfsmig_command=$T/no-such-nfsmig" \
		"$T/inventory"
	# nfsmig_mounts as a string (one mount point); a list is what
	# register ran with.
	run playbook -e nfsmig_phase=after -e nfsmig_mounts=/mnt/data
	assert_failure
	assert_output --partial '"nfsmig verify: 4 clients: 1 OK, 0 WARN, 2 FAIL, 1 not verified"'
	assert_output --partial '"client-ok: OK (1 mount)"'
	assert_output --partial '"client-fail: FAIL (1 mount): /mnt/data"'
	assert_output --partial '"client-gone: not verified (unreachable)"'
	assert_output --regexp '"client-nonfsmig: FAIL \(0 mounts\): [^"]*No such file or directory'
	assert_output --partial 'nfsmig verify: FAIL /mnt/data'
	assert_output --regexp 'client-ok +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0'
	assert_output --regexp 'client-fail +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=1'
	assert_output --regexp 'client-gone +: ok=0 +changed=0 +unreachable=1 +failed=0'
	# The summary once, not per host.
	[ "$(grep -c '"nfsmig verify: 4 clients' <<<"$output")" = 1 ] || fail "$output"
}

@test "ansible: no phase given: refused, nothing run" {
	run playbook
	assert_failure
	assert_output --partial "Give -e nfsmig_phase=before"
	[ -z "$(ls -A "$T/client-ok/state")" ] || fail "ran without a phase"
}
