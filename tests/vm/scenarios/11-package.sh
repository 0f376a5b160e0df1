#!/bin/bash
# Scenario 11: nfsmig as the Debian package installs it.  The VM gets no
# `make install`: the .deb of scripts/package (NFSMIG_DEB) is installed
# with dpkg -i on the VM's overlay, and scenario 1's NFSv4.0 migration runs
# against the installed paths: the kernel's dns_resolver upcall goes
# through the package's /etc/request-key.d/nfsmig.conf to /usr/sbin/nfsmigd.
# Then dpkg -r and dpkg --purge: what the package made goes, what the
# administrator made stays.
# nfsvm: package
. ./lib.sh

if [ -z "${NFSMIG_DEB:-}" ]; then
	echo "SKIP - no package to install: run with NFSMIG_DEB=nfsmig_VERSION_ARCH.deb (scripts/package)"
	exit 0
fi
NM=/usr/sbin/nfsmig
NMD=/usr/sbin/nfsmigd
M=/mnt/m
export EXPORT_OPTS=,insecure

check "the package's .deb is there ($NFSMIG_DEB)" test -f "$NFSMIG_DEB" || finish
check "nothing of make install's in this VM" test ! -e /usr/local/sbin/nfsmigd -a ! -e /etc/request-key.d/nfsmig.conf
# man-db's trigger would rebuild its index under TCG for a minute: it is
# not what is tested.  The package is configured all the same.
rm -f /var/lib/man-db/auto-update
t0=$(date +%s%N)
check "dpkg -i the package" dpkg -i "$NFSMIG_DEB" || finish
note "dpkg -i took $((($(date +%s%N) - t0) / 1000000)) ms"
check_out "dpkg: nfsmig is installed" '^install ok installed$' dpkg-query -W -f='${Status}\n' nfsmig
check_out "the request-key drop-in runs the installed nfsmigd" \
	'^create[[:space:]]+dns_resolver[[:space:]]+\*[[:space:]]+\*[[:space:]]+/usr/sbin/nfsmigd -k %k$' \
	cat /etc/request-key.d/nfsmig.conf
check "the drop-in and /etc/nfsmig.conf are conffiles" bash -c \
	"dpkg-query -W -f='\${Conffiles}\n' nfsmig | grep -q '^ /etc/nfsmig.conf ' &&
	 dpkg-query -W -f='\${Conffiles}\n' nfsmig | grep -q '^ /etc/request-key.d/nfsmig.conf '"
check_out "/var/lib/nfsmig: root's, mode 0700" '^700 root root$' stat -c '%a %U %G' /var/lib/nfsmig
check_out "the unit is installed and not enabled" '^/lib/systemd/system/nfsmigd.service disabled$' \
	bash -c 'echo "$(ls /lib/systemd/system/nfsmigd.service) $(systemctl is-enabled nfsmigd.service 2>/dev/null)"'
check "installing started no nfsmigd" bash -c '! pgrep -x "nfsmigd|nfsmigd-daemon"'
check "the unit's ExecStart is the installed nfsmigd" grep -qx 'ExecStart=/usr/sbin/nfsmigd -F' \
	/lib/systemd/system/nfsmigd.service
check "tmpfiles.d made /run/mount" test -d /run/mount
check "bash completion where bash-completion looks" \
	test -f "$(pkg-config --variable=completionsdir bash-completion 2>/dev/null ||
		echo /usr/share/bash-completion/completions)/nfsmig"
check "man pages nfsmig(8), nfsmigd(8), nfsmigd-daemon(8), nfsmig.conf(5)" \
	test -f /usr/share/man/man8/nfsmig.8.gz -a -f /usr/share/man/man8/nfsmigd.8.gz \
	-a -e /usr/share/man/man8/nfsmigd-daemon.8.gz -a -f /usr/share/man/man5/nfsmig.conf.5.gz

# The service as its unit runs it (no systemd in the VM: its ExecStart).
servers_up || finish
daemon_up
check "the installed nfsmigd-daemon serves the socket" test -S /run/nfsmig/nfsmigd.sock
mount_d 4.0 $M || finish
setup_done

refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
check "the mount still reads after the move" timeout 60 cat $M/file
check_out "the kernel now talks to server-b (addr=)" '^198\.51\.100\.2$' mount_opt $M addr
check_out "the installed nfsmigd answered the dns_resolver upcall for server-b" \
	'"name":"server-b".*198\.51\.100\.2' upcalls_log
check_out "nfsmig verify: OK" "^$M: OK" "$NM" verify $M
check_out "nfsmig mounts shows the move" 'server-b|198\.51\.100\.2' "$NM" mounts

# The administrator's own files, which neither removing nor purging touches.
cat >/etc/nfsmig/hooks.d/50-site <<-EOF
	#!/bin/sh
	exit 0
EOF
chmod 0755 /etc/nfsmig/hooks.d/50-site
cp /etc/fstab "$RUN/fstab.before"
kill "$(cat "$RUN/nfsmigd.pid")" 2>/dev/null
wait_for 10 bash -c '! pgrep -x nfsmigd-daemon' || note "nfsmigd-daemon still runs after SIGTERM"

check "dpkg -r nfsmig" dpkg -r nfsmig
check "removed: the programs, the unit, the request-key drop-in's program" \
	test ! -e /usr/sbin/nfsmig -a ! -e /usr/sbin/nfsmigd -a ! -e /usr/sbin/nfsmigd-daemon \
	-a ! -e /lib/systemd/system/nfsmigd.service
check "kept by dpkg -r: the conffiles and the mount records" \
	test -f /etc/nfsmig.conf -a -f /etc/request-key.d/nfsmig.conf -a -n "$(ls -A /var/lib/nfsmig)"
check "dpkg --purge nfsmig" dpkg --purge nfsmig
check_out "dpkg: nfsmig is gone" '^$' bash -c 'dpkg-query -W -f="\${Status}" nfsmig 2>/dev/null || true'
check "purged: /etc/nfsmig.conf, the request-key drop-in, /var/lib/nfsmig" \
	test ! -e /etc/nfsmig.conf -a ! -e /etc/request-key.d/nfsmig.conf -a ! -e /var/lib/nfsmig
check "purged: the tmpfiles.d file, the completion, the man pages" \
	test ! -e /usr/lib/tmpfiles.d/nfsmig.conf -a ! -e /usr/share/bash-completion/completions/nfsmig \
	-a ! -e /usr/share/man/man8/nfsmig.8.gz -a ! -e /usr/share/man/man8/nfsmigd-daemon.8.gz
check "kept: the administrator's hook in /etc/nfsmig/hooks.d" test -x /etc/nfsmig/hooks.d/50-site
check "kept: /etc/fstab as it was, /etc/request-key.d, /run/mount" \
	bash -c "cmp -s /etc/fstab $RUN/fstab.before && test -d /etc/request-key.d -a -d /run/mount"
check "kept: the NFS mount, which still reads" timeout 20 cat $M/file
finish
