# Sourced by scenario 1 (tests/vm/scenarios/1-migration-v40.sh) when the VM
# got the .deb of scripts/package instead of `make install` (NFSMIG_DEB;
# boot sets NFSVM_PACKAGE=1): installs it with dpkg -i on the VM's overlay
# and checks what it installed (pkg_install), then removes and purges it
# (pkg_remove).  Needs lib.sh.

NM=/usr/sbin/nfsmig
NMD=/usr/sbin/nfsmigd
# A stub systemctl first in PATH: it logs every call and passes to the real
# one only what works on the files in /etc with no systemd running
# (SYSTEMD_OFFLINE): whether a unit is enabled, and --root's preset or
# enable (deb-systemd-helper's), so that what the package enables shows.
SYSTEMCTL_LOG=$RUN/systemctl.log

# pkg_clean_host: the VM runs on the host's userland (a disposable overlay):
# whatever nfsmig the host has installed goes first, so that what the
# checks find is the package's.
pkg_clean_host() {
	if dpkg-query -W -f='${Status}' nfsmig 2>/dev/null | grep -qv 'not-installed'; then
		dpkg --purge nfsmig >/dev/null 2>&1 || note "dpkg --purge of the host's nfsmig failed"
	fi
	rm -f /usr/local/sbin/nfsmig /usr/local/sbin/nfsmigd /usr/local/sbin/nfsmigd-daemon \
		/etc/request-key.d/nfsmig.conf /etc/request-key.d/nfsmig.conf.dpkg-removed \
		/etc/systemd/system/*.wants/nfsmigd.service /etc/systemd/system/nfsmigd.service
	# The host's tests leave an upcall record; its configuration too.
	rm -rf /var/lib/nfsmig /etc/nfsmig /etc/nfsmig.conf
}

# pkg_systemd_stub: as on a host that runs systemd (/run/systemd/system is
# what maintainer scripts test), with systemctl logging what they ask; and
# no policy-rc.d (a container's, which forbids every start, would let
# deb-systemd-invoke start nothing whatever the package asked).
pkg_systemd_stub() {
	rm -f /usr/sbin/policy-rc.d
	mkdir -p /run/systemd/system "$RUN/stub"
	cat >"$RUN/stub/systemctl" <<-EOF
		#!/bin/sh
		echo "\$*" >>$SYSTEMCTL_LOG
		for a; do
			case \$a in
			--root=* | is-enabled) SYSTEMD_OFFLINE=1 exec /bin/systemctl "\$@" ;;
			is-active) exit 3 ;;
			esac
		done
		exit 0
	EOF
	chmod 0755 "$RUN/stub/systemctl"
	: >"$SYSTEMCTL_LOG"
}

pkg_install() {
	check "the package's .deb is there ($NFSMIG_DEB)" test -f "$NFSMIG_DEB" || finish
	pkg_clean_host
	check "nothing of make install's or the host's in this VM" \
		test ! -e /usr/local/sbin/nfsmigd -a ! -e /usr/sbin/nfsmigd -a ! -e /etc/request-key.d/nfsmig.conf \
		-a ! -e /var/lib/nfsmig -a ! -e /etc/nfsmig.conf
	# The package's tmpfiles.d file must make it.
	rmdir /run/mount 2>/dev/null
	check "no /run/mount before dpkg -i" test ! -e /run/mount
	pkg_systemd_stub
	# man-db's trigger would rebuild its index under TCG for a minute: it
	# is not what is tested.  The package is configured all the same.
	rm -f /var/lib/man-db/auto-update
	local t0
	t0=$(date +%s%N)
	check "dpkg -i the package" env PATH="$RUN/stub:$PATH" dpkg -i "$NFSMIG_DEB" || finish
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
		bash -c 'echo "$(ls /lib/systemd/system/nfsmigd.service) $(SYSTEMD_OFFLINE=1 /bin/systemctl is-enabled nfsmigd.service 2>/dev/null)"'
	check "the maintainer scripts asked systemctl (/run/systemd/system there) whether nfsmigd is enabled" \
		bash -c "grep -q 'daemon-reload' $SYSTEMCTL_LOG && grep -q 'is-enabled.* nfsmigd.service' $SYSTEMCTL_LOG"
	check "installing neither started nor enabled nfsmigd (systemctl's calls)" \
		bash -c "! grep -E '(^| )(start|restart|enable|reenable|preset)( .*)? nfsmigd' $SYSTEMCTL_LOG"
	cat "$SYSTEMCTL_LOG" | show
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
}

# pkg_remove MOUNTPOINT: nfsmigd stopped, dpkg -r, then dpkg --purge.
pkg_remove() {
	local m=$1
	# The administrator's own files, which neither removing nor purging
	# touches.
	cat >/etc/nfsmig/hooks.d/50-site <<-EOF
		#!/bin/sh
		exit 0
	EOF
	chmod 0755 /etc/nfsmig/hooks.d/50-site
	cp /etc/fstab "$RUN/fstab.before"
	kill "$(cat "$RUN/nfsmigd.pid")" 2>/dev/null
	wait_for 10 bash -c '! pgrep -x nfsmigd-daemon' || note "nfsmigd-daemon still runs after SIGTERM"

	check "dpkg -r nfsmig" env PATH="$RUN/stub:$PATH" dpkg -r nfsmig
	check "removed: the programs, the unit, the request-key drop-in's program" \
		test ! -e /usr/sbin/nfsmig -a ! -e /usr/sbin/nfsmigd -a ! -e /usr/sbin/nfsmigd-daemon \
		-a ! -e /lib/systemd/system/nfsmigd.service
	check "kept by dpkg -r: the conffiles (the drop-in set aside) and the mount records" \
		test -f /etc/nfsmig.conf -a -f /etc/request-key.d/nfsmig.conf.dpkg-removed \
		-a -n "$(ls -A /var/lib/nfsmig)"
	check "dpkg -r: no drop-in request-key reads names the removed nfsmigd" \
		bash -c '! grep -s /usr/sbin/nfsmigd /etc/request-key.d/*.conf'
	# The kernel's dns_resolver upcalls go to the system's line again
	# (/etc/request-key.conf: key.dns_resolver).
	check "dpkg -r: a dns_resolver key for server-b is made (key.dns_resolver)" \
		keyctl request2 dns_resolver server-b '' @s
	check "dpkg -i again: the drop-in back in place, as it was" env PATH="$RUN/stub:$PATH" \
		bash -c "dpkg -i '$NFSMIG_DEB' >/dev/null &&
			test ! -e /etc/request-key.d/nfsmig.conf.dpkg-removed &&
			grep -q '/usr/sbin/nfsmigd -k %k\$' /etc/request-key.d/nfsmig.conf"
	check "dpkg --purge nfsmig" env PATH="$RUN/stub:$PATH" dpkg --purge nfsmig
	check_out "dpkg: nfsmig is gone" '^$' bash -c 'dpkg-query -W -f="\${Status}" nfsmig 2>/dev/null || true'
	check "purged: /etc/nfsmig.conf, the request-key drop-in, /var/lib/nfsmig" \
		test ! -e /etc/nfsmig.conf -a ! -e /etc/request-key.d/nfsmig.conf \
		-a ! -e /etc/request-key.d/nfsmig.conf.dpkg-removed -a ! -e /var/lib/nfsmig
	check "purged: the tmpfiles.d file, the completion, the man pages" \
		test ! -e /usr/lib/tmpfiles.d/nfsmig.conf -a ! -e /usr/share/bash-completion/completions/nfsmig \
		-a ! -e /usr/share/man/man8/nfsmig.8.gz -a ! -e /usr/share/man/man8/nfsmigd-daemon.8.gz
	check "kept: the administrator's hook in /etc/nfsmig/hooks.d" test -x /etc/nfsmig/hooks.d/50-site
	check "kept: /etc/fstab as it was, /etc/request-key.d, /run/mount" \
		bash -c "cmp -s /etc/fstab $RUN/fstab.before && test -d /etc/request-key.d -a -d /run/mount"
	check "kept: the NFS mount, which still reads" timeout 20 cat "$m/file"
}
