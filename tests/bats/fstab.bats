#!/usr/bin/env bats
# The metadata kept true after a move: `nfsmig fstab` against a fake root
# (/etc/fstab and autofs maps) with records written here and a mount table
# fixture (no lab: nothing is asked of a server); and libmount's utab user
# options, looked at with findmnt, in a private mount namespace whose
# /run/mount is a tmpfs (the system's utab is not touched).

setup() {
	load helpers
	MI=$BATS_TEST_TMPDIR/mountinfo
	SD=$BATS_TEST_TMPDIR/state
	R=$BATS_TEST_TMPDIR/root
	mkdir -p "$SD" "$R/etc/auto.master.d"
	cat >"$MI" <<MI
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 22 0:40 / /mnt/data rw,relatime shared:20 - nfs4 srv1.nfsmig.test:/export/data rw,vers=4.1,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.12
41 22 0:41 / /mnt/still rw,relatime shared:21 - nfs4 srv1.nfsmig.test:/export/still rw,vers=4.1,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.11
42 22 0:42 / /mnt/new rw,relatime shared:22 - nfs4 srv1.nfsmig.test:/export/new rw,vers=4.2,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.13
MI
	record /mnt/data /export/data "location=192.0.2.12:/export/data"
	record /mnt/still /export/still ""
	printf '%s\n' \
		'# /etc/fstab: static file system information.' \
		'UUID=0a1b /               ext4    errors=remount-ro 0       1' \
		'srv1.nfsmig.test:/export/data  /mnt/data  nfs4  rw,_netdev  0 0' \
		'' \
		'192.0.2.11:/export/data/my\040dir /mnt/my\040dir nfs4 rw 0 0   # kept' \
		'srv1.nfsmig.test:/export/database /mnt/db nfs4 rw 0 0' \
		'srv1.nfsmig.test:/export/still /mnt/still nfs4 rw 0 0' \
		'srv9.nfsmig.test:/export/data /mnt/other nfs4 rw 0 0' >"$R/etc/fstab"
	printf -- '/misc /etc/auto.misc --timeout=60\n/net -hosts\n+auto.master\n' >"$R/etc/auto.master"
	printf -- '/- /etc/auto.direct\n' >"$R/etc/auto.master.d/direct.autofs"
	printf -- 'data -fstype=nfs4,rw SRV1.nfsmig.test:/export/data\nwin -fstype=cifs ://srv1.nfsmig.test/export/data\nrep -ro srv9(1),srv1.nfsmig.test(2):/export/data\n' >"$R/etc/auto.misc"
	printf -- '/srv/direct \\\n  192.0.2.11:/export/data/sub\n' >"$R/etc/auto.direct"
	chmod 0640 "$R/etc/fstab"
}

# record MOUNTPOINT EXPORT [LOCATION-LINE]: registered on 192.0.2.11 (srv1.nfsmig.test).
record() {
	local name=${1//\//-}
	{
		printf 'nfsmig-state 1\nmountpoint=%s\nsource=srv1.nfsmig.test:%s\n' "$1" "$2"
		printf 'orig_server=192.0.2.11\ncur_server=192.0.2.11\nexport_path=%s\n' "$2"
		printf 'sec=sys\nvers=4\nminor=1\nregistered=1795490195\nroot_fh=01020304\n'
		printf 'fsid=1:2\nfileid=100\nfh_expire_type=0\n'
		[ -z "$3" ] || printf '%s\n' "$3"
		printf 'end\n'
	} >"$SD/$name.state"
}

nmf() {
	"$BUILD/cmd/nfsmig" fstab --mountinfo "$MI" --state-dir "$SD" --root "$R" "$@"
}

@test "fstab lists the lines that still name the old server, with their new lines; exit 3" {
	cp -p "$R/etc/fstab" "$BATS_TEST_TMPDIR/fstab.orig"
	run nmf
	assert_failure 3
	assert_line "/mnt/data: moved from 192.0.2.11 to 192.0.2.12"
	assert_line "  /etc/fstab:3"
	assert_line "    - srv1.nfsmig.test:/export/data  /mnt/data  nfs4  rw,_netdev  0 0"
	assert_line "    + 192.0.2.12:/export/data  /mnt/data  nfs4  rw,_netdev  0 0"
	assert_line "  /etc/fstab:5"
	assert_line '    + 192.0.2.12:/export/data/my\x5c040dir /mnt/my\x5c040dir nfs4 rw 0 0   # kept'
	assert_line "  /etc/auto.misc:1"
	assert_line "    + data -fstype=nfs4,rw 192.0.2.12:/export/data"
	assert_line "  /etc/auto.misc:3"
	assert_line "    + rep -ro srv9(1),192.0.2.12(2):/export/data"
	assert_line "  /etc/auto.direct:1"
	assert_line '    + /srv/direct \x5c\x0a  192.0.2.12:/export/data/sub'
	assert_line "5 lines to change: nfsmig fstab --apply rewrites them (a backup of each file kept)"
	refute_output --partial "/mnt/db"
	refute_output --partial "/mnt/still"
	refute_output --partial "/mnt/other"
	refute_output --partial "win -fstype=cifs"
	# Nothing written without --apply.
	cmp "$R/etc/fstab" "$BATS_TEST_TMPDIR/fstab.orig"
	[ -z "$(find "$R" -name '*.nfsmig-*')" ]
}

@test "fstab -J: the same as JSON" {
	run nmf -J
	assert_failure 3
	echo "$output" | jq -e '.changes == 5 and .applied == false'
	echo "$output" | jq -e '.mounts[0].mountpoint == "/mnt/data" and .mounts[0].to == "192.0.2.12"'
	echo "$output" | jq -e '.mounts[0].from == ["192.0.2.11", "srv1.nfsmig.test"]'
	echo "$output" | jq -e '[.mounts[0].fstab[] | "\(.file):\(.line)"] == ["/etc/fstab:3", "/etc/fstab:5", "/etc/auto.misc:1", "/etc/auto.misc:3", "/etc/auto.direct:1"]'
	echo "$output" | jq -e '.mounts[0].fstab[1].entry == "192.0.2.11:/export/data/my\\040dir /mnt/my\\040dir nfs4 rw 0 0   # kept"'
	echo "$output" | jq -e '.mounts[0].fstab[4].entry == "/srv/direct \\\n  192.0.2.11:/export/data/sub"'
}

@test "fstab --apply rewrites atomically, keeps a backup, the mode and every other byte; then nothing is left" {
	cp -p "$R/etc/fstab" "$BATS_TEST_TMPDIR/fstab.orig"
	cp -p "$R/etc/auto.misc" "$BATS_TEST_TMPDIR/auto.misc.orig"
	run nmf --apply
	assert_success
	assert_line --regexp '^rewrote /etc/fstab \(2 lines\), the original kept as /etc/fstab\.nfsmig-[0-9]{8}T[0-9]{6}$'
	assert_line --regexp '^rewrote /etc/auto\.misc \(2 lines\), the original kept as /etc/auto\.misc\.nfsmig-[0-9]{8}T[0-9]{6}$'
	assert_line --regexp '^rewrote /etc/auto\.direct \(1 line\), '
	# The new fstab: the two lines changed, nothing else.
	diff <(sed -e '3s/^srv1\.nfsmig\.test:/192.0.2.12:/' -e '5s/^192\.0\.2\.11:/192.0.2.12:/' \
		"$BATS_TEST_TMPDIR/fstab.orig") "$R/etc/fstab"
	[ "$(stat -c %a "$R/etc/fstab")" = 640 ]
	cmp "$R"/etc/fstab.nfsmig-* "$BATS_TEST_TMPDIR/fstab.orig"
	cmp "$R"/etc/auto.misc.nfsmig-* "$BATS_TEST_TMPDIR/auto.misc.orig"
	grep -qx 'win -fstype=cifs ://srv1.nfsmig.test/export/data' "$R/etc/auto.misc"
	[ "$(sed -n 2p "$R/etc/auto.direct")" = "  192.0.2.12:/export/data/sub" ]
	# No temporary file left.
	[ -z "$(find "$R" -name '.*nfsmig*')" ]
	run nmf
	assert_success
	assert_line "no fstab or autofs map line names an old server"
	run nmf --apply -J
	assert_success
	echo "$output" | jq -e '.changes == 0'
}

@test "fstab names the new server as the record does, and changes the path when the export moved" {
	record /mnt/new /export/new "location=srv3.nfsmig.test:/moved/new"
	printf 'srv1.nfsmig.test:/export/new/a /mnt/a nfs4 rw 0 0\n' >"$R/etc/fstab"
	# srv3's name is resolved from a hosts file of this test's own, in a
	# mount and network namespace of its own (no DNS reached).
	printf '127.0.0.1 localhost\n192.0.2.13 srv3.nfsmig.test\n' >"$BATS_TEST_TMPDIR/hosts"
	run unshare -m -n sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh \
		"$BATS_TEST_TMPDIR/hosts" "$BUILD/cmd/nfsmig" fstab --mountinfo "$MI" \
		--state-dir "$SD" --root "$R" /mnt/new
	assert_failure 3
	assert_line "/mnt/new: moved from 192.0.2.11 to srv3.nfsmig.test (export /export/new now /moved/new)"
	assert_line "    + srv3.nfsmig.test:/moved/new/a /mnt/a nfs4 rw 0 0"
	refute_output --partial "/mnt/data"
}

@test "fstab: a shared location whose path must change is said, not rewritten: exit 1" {
	record /mnt/new /export/new "location=192.0.2.13:/moved/new"
	printf 'x -ro srv9(1),srv1.nfsmig.test:/export/new\n' >"$R/etc/auto.misc"
	run nmf --apply /mnt/new
	assert_failure 1
	assert_line "    cannot be rewritten: the location names other servers too: its path cannot change for one"
	grep -qx 'x -ro srv9(1),srv1.nfsmig.test:/export/new' "$R/etc/auto.misc"
}

@test "fstab: what a file holds reaches the terminal escaped" {
	printf 'srv1.nfsmig.test:/export/data /mnt/\033]0;owned\007 nfs4 rw 0 0\n' >"$R/etc/fstab"
	run nmf /mnt/data
	assert_failure 3
	assert_line '    - srv1.nfsmig.test:/export/data /mnt/\x1b]0;owned\x07 nfs4 rw 0 0'
	[[ "$output" != *$'\033'* ]]
}

@test "fstab: usage" {
	run "$BUILD/cmd/nfsmig" fstab --root relative
	assert_failure 2
	assert_output --partial "--root must be an absolute path"
	run nmf /mnt/nothing
	assert_failure 1
	run "$BUILD/cmd/nfsmig" help fstab
	assert_success
	assert_output --partial "Exit 0 nothing to change"
}

# utab: in a private mount namespace, /run/mount a tmpfs of its own.
utab_ns() {
	unshare -m --propagation private sh -euc "mount -t tmpfs tmpfs /run/mount; $1" sh \
		"$BUILD/tests/helpers/utabset" "$BATS_TEST_TMPDIR/m"
}

@test "utab: findmnt and mount show x-nfsmig.server, other user options kept, umount removes it" {
	mkdir -p "$BATS_TEST_TMPDIR/m"
	before=$(cat /run/mount/utab 2>/dev/null | sha256sum)
	run utab_ns '
		mount -t tmpfs -o size=1m,x-keep=yes srv1:/export "$2"
		findmnt --mtab -n -o OPTIONS "$2"
		"$1" "$2" srv2.nfsmig.test 192.0.2.11
		findmnt --mtab -n -o TARGET,SOURCE,OPTIONS "$2"
		mount | grep -F " on $2 "
		"$1" "$2" fd00::2 srv2.nfsmig.test
		echo "again: $(findmnt --mtab -n -o OPTIONS "$2")"
		umount "$2"
		echo "utab after umount: [$(cat /run/mount/utab)]"'
	assert_success
	assert_line --index 0 "rw,relatime,size=1024k,x-keep=yes"
	assert_line --regexp "^$BATS_TEST_TMPDIR/m +srv1:/export +rw,relatime,size=1024k,x-keep=yes,x-nfsmig\.server=srv2\.nfsmig\.test,x-nfsmig\.from=192\.0\.2\.11$"
	assert_line "srv1:/export on $BATS_TEST_TMPDIR/m type tmpfs (rw,relatime,size=1024k,x-keep=yes,x-nfsmig.server=srv2.nfsmig.test,x-nfsmig.from=192.0.2.11)"
	assert_line "again: rw,relatime,size=1024k,x-keep=yes,x-nfsmig.server=fd00::2,x-nfsmig.from=srv2.nfsmig.test"
	assert_line "utab after umount: []"
	[ "$(cat /run/mount/utab 2>/dev/null | sha256sum)" = "$before" ]
}

@test "utab: a server with a comma, a space or a control is refused; no mount is -ENOENT" {
	mkdir -p "$BATS_TEST_TMPDIR/m"
	run utab_ns '
		mount -t tmpfs tmpfs "$2"
		for s in "a,b" "a b" "$(printf "a\033b")" "a=b" ""; do
			"$1" "$2" "$s" || echo "refused: $?"
		done
		"$1" "$2" ok.example srv,x || echo "refused: $?"
		echo "utab: [$(cat /run/mount/utab 2>/dev/null)]"
		"$1" "$2/none" srv || echo "no mount: $?"'
	assert_success
	[ "$(grep -c '^refused: 1$' <<<"$output")" = 6 ]
	assert_line "utab: []"
	assert_line "no mount: 1"
	assert_line --partial "not mounted"
}
