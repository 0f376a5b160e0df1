# Shared by nfsmig's BATS tests.
#
# NFSMIG_BUILD: the build tree whose programs are tested (default: the
# source tree, for an in-tree build).  Each test file gets its own lab
# (tests/lab/nfslab) in namespaces named after the bats process, torn down
# in teardown_file even when tests fail.

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${NFSMIG_BUILD:-$TOP}
NFSLAB=$TOP/tests/lab/nfslab
export NM_FIXTURES=$TOP/tests/fixtures

bats_load_library bats-support
bats_load_library bats-assert

# Called from setup_file: the name is exported to every test of the file.
lab_up() {
	export LAB="nfsmig-t$$"
	"$NFSLAB" ns-down "$LAB" >/dev/null 2>&1 || true
	"$NFSLAB" up "$LAB"
}

lab_down() {
	[ -n "${LAB:-}" ] || return 0
	"$NFSLAB" ns-down "$LAB" >"$BATS_FILE_TMPDIR/lab-down.log" 2>&1 ||
		{ echo "# lab_down $LAB failed:" && sed 's/^/#   /' "$BATS_FILE_TMPDIR/lab-down.log"; } >&3
}

# nfsmig run inside the lab's client namespace.
nm() {
	ip netns exec "$LAB" "$BUILD/cmd/nfsmig" "$@"
}

# fakesrv PORT MODE ARGS...: a misbehaving server on 192.0.2.1 in the lab;
# waits until it listens.  Killed by fake_stop (and by lab_down anyway).
fake_start() {
	local out=$BATS_TEST_TMPDIR/fake.out i
	ip netns exec "$LAB" "$BUILD/tests/helpers/fakesrv" 192.0.2.1 "$@" >"$out" 2>&1 &
	echo $! >>"$BATS_TEST_TMPDIR/fake.pids"
	for ((i = 0; i < 100; i++)); do
		grep -q ready "$out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "fakesrv did not start: $(cat "$out")" >&2
	return 1
}

fake_stop() {
	local p
	[ -e "$BATS_TEST_TMPDIR/fake.pids" ] || return 0
	for p in $(cat "$BATS_TEST_TMPDIR/fake.pids"); do
		kill "$p" 2>/dev/null || true
	done
	rm -f "$BATS_TEST_TMPDIR/fake.pids"
}

# Milliseconds since the epoch, for "within the deadline" checks.
now_ms() { date +%s%3N; }

# wait_for SECONDS CMD...: CMD until it succeeds, every 50 ms, at most
# SECONDS; 1 when it never did.
wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# watch_record SERVER [EXTRA-LINE]: the record of /mnt/m (server-a:/d,
# registered on 192.0.2.2) as register leaves it, the kernel's server now
# SERVER (watch.bats, metrics.bats).
watch_record() {
	printf '%s\n' "nfsmig-state 1" "mountpoint=/mnt/m" "source=server-a:/d" \
		"orig_server=192.0.2.2" "cur_server=$1" "export_path=/d" "sec=sys" "vers=4" \
		"minor=0" "registered=1795490000" "root_fh=01000100" "fsid=1:0" "fileid=2" \
		"fh_expire_type=0"
	[ -z "${2:-}" ] || printf '%s\n' "$2"
	echo end
}
