#!/usr/bin/env bats
# nfsmigd as the kernel's dns_resolver upcall: through the host kernel's key
# service and /sbin/request-key, with dnsmasq on a loopback port as DNS.
#
# A request-key.d drop-in routes only the tests' own names (*.nfsmig.test)
# to the build tree's nfsmigd; narrower patterns win over wider ones, so
#   *.nfsmig.test        -> the good DNS server
#   *.down.nfsmig.test   -> a port where nothing listens
#   *.hung.nfsmig.test   -> a UDP port that never answers
# Every request runs in a fresh session keyring, so no key from an earlier
# request answers it.  Everything is removed in teardown_file.

# conf FILE NAMESERVER [EXTRA-LINES]: a test configuration (no metrics
# file: the host's node_exporter directory is not the tests').
conf() {
	printf '[resolver]\nnameservers = %s\nhosts = %s\nresolv_conf = %s\ndeadline = 2\n%s\n[daemon]\nsocket = %s\nstate_dir = %s\n[metrics]\ntextfile =\n' \
		"$2" "$T/hosts" "$T/resolv.conf" "${3:-}" "$T/nfsmigd.sock" "$T/state" >"$1"
}

setup_file() {
	load helpers
	export T=$BATS_FILE_TMPDIR
	export DNSPORT=$((20000 + $$ % 20000))
	export DEADPORT=$((DNSPORT + 1)) HUNGPORT=$((DNSPORT + 2))
	export STUBPORT=$((DNSPORT + 3)) SLOWPORT=$((DNSPORT + 4))
	export DROPIN=/etc/request-key.d/nfsmig-test-$$.conf
	mkdir -p "$T/state"
	: >"$T/hosts"
	echo "192.0.2.99 fromhosts.nfsmig.test" >"$T/hosts.with"
	: >"$T/resolv.conf"
	dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --port="$DNSPORT" \
		--listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
		--local-ttl=300 --log-queries --log-facility="$T/dnsmasq.log" --pid-file="$T/dnsmasq.pid" \
		--local=/nfsmig.test/ \
		--host-record=v4.nfsmig.test,192.0.2.41,300 \
		--host-record=v6.nfsmig.test,2001:db8::42,120 \
		--host-record=dual.nfsmig.test,192.0.2.43,2001:db8::43,77 \
		--host-record=short.nfsmig.test,192.0.2.44,7 \
		--host-record=merge.nfsmig.test,192.0.2.45,300 \
		--host-record=ttl0.nfsmig.test,192.0.2.46,0 \
		--host-record=ttl0.zero.nfsmig.test,192.0.2.47,0 \
		--cname=alias.nfsmig.test,v4.nfsmig.test \
		--address=/wild.nfsmig.test/192.0.2.50 \
		--address=/slowlog.nfsmig.test/192.0.2.51 3>&- &
	"$BUILD/tests/helpers/fakesrv" 127.0.0.1 "$HUNGPORT" udpsilent >"$T/hung.out" 3>&- &
	echo $! >"$T/hung.pid"
	# A server that sends stray answers first and truncates big ones, and
	# a slow one (300 ms an answer): both log every query they get.
	echo "hup.stub.test=192.0.2.71/300" >"$T/zone"
	"$TOP/tests/helpers/dnsstub" "$STUBPORT" --stray --truncate 2 --log "$T/stub.log" \
		--zone "$T/zone" \
		many.stub.test=192.0.2.61/100,192.0.2.62/50,192.0.2.63/70 \
		one.stub.test=192.0.2.64/40,2001:db8::64/20 >"$T/stub.out" 3>&- &
	echo $! >"$T/stub.pid"
	"$TOP/tests/helpers/dnsstub" "$SLOWPORT" --delay 300 --log "$T/slow.log" \
		merge.slow.test=192.0.2.65/300 >"$T/slow.out" 3>&- &
	echo $! >"$T/slow.pid"
	for i in $(seq 100); do
		[ -s "$T/dnsmasq.pid" ] && grep -q ready "$T/hung.out" &&
			grep -q ready "$T/stub.out" && grep -q ready "$T/slow.out" && break
		sleep 0.05
	done
	conf "$T/stub.conf" "127.0.0.1#$STUBPORT"
	conf "$T/slow.conf" "127.0.0.1#$SLOWPORT"
	conf "$T/good.conf" "127.0.0.1#$DNSPORT"
	conf "$T/down.conf" "127.0.0.1#$DEADPORT"
	conf "$T/hung.conf" "127.0.0.1#$HUNGPORT"
	conf "$T/zero.conf" "127.0.0.1#$DNSPORT" "min_ttl = 0"
	# A record that cannot be written (a FIFO nobody reads): open blocks.
	mkdir -p "$T/slowlog" && mkfifo "$T/slowlog/upcalls.log"
	conf "$T/slowlog.conf" "127.0.0.1#$DNSPORT"
	sed -i "s|^state_dir = .*|state_dir = $T/slowlog|" "$T/slowlog.conf"
	printf '[resolver]\nfrobnicate = 1\n' >"$T/broken.conf"
	conf "$T/nohandler.conf" "127.0.0.1#$DNSPORT" "other_requests = /nonexistent/key.dns_resolver"
	# A stand-in for key.dns_resolver that records how it was run and
	# settles the key itself: a payload only it can have given.
	cat >"$T/handler" <<-EOF
		#!/bin/sh
		{
			echo "argc: \$#"
			echo "argv: \$*"
			for f in /proc/\$\$/fd/*; do echo "fd: \${f##*/} \$(readlink "\$f")"; done
			grep '^SigIgn:' /proc/\$\$/status
			env | sed 's/^/env: /'
		} >"$T/handler.rec.tmp"
		mv "$T/handler.rec.tmp" "$T/handler.rec"
		printf 'marker\\0' | keyctl pinstantiate "\$1" 0
	EOF
	chmod 0755 "$T/handler"
	conf "$T/handoff.conf" "127.0.0.1#$DNSPORT" "other_requests = $T/handler"
	# One that never ends: our deadline must still end it.
	printf '#!/bin/sh\nexec sleep 10\n' >"$T/slowhandler"
	chmod 0755 "$T/slowhandler"
	conf "$T/slowhandoff.conf" "127.0.0.1#$DNSPORT" "other_requests = $T/slowhandler"
	{
		echo "create dns_resolver *.nfsmig.test * $BUILD/daemon/nfsmigd -c $T/good.conf -k %k"
		echo "create dns_resolver *.down.nfsmig.test * $BUILD/daemon/nfsmigd -c $T/down.conf -k %k"
		echo "create dns_resolver *.hung.nfsmig.test * $BUILD/daemon/nfsmigd -c $T/hung.conf -k %k"
		echo "create dns_resolver *.zero.nfsmig.test * $BUILD/daemon/nfsmigd -c $T/zero.conf -k %k"
		echo "create dns_resolver *.slowlog.nfsmig.test * $BUILD/daemon/nfsmigd -c $T/slowlog.conf -k %k"
		echo "create dns_resolver *.broken.nfsmig.test * $BUILD/daemon/nfsmigd -c $T/broken.conf -k %k"
		echo "create dns_resolver *.nohandler.nfsmig.test * $BUILD/daemon/nfsmigd -c $T/nohandler.conf -k %k"
		echo "create dns_resolver *.handoff.nfsmig.test * $BUILD/daemon/nfsmigd -c $T/handoff.conf -k %k"
		echo "create dns_resolver *.slowhandoff.nfsmig.test * $BUILD/daemon/nfsmigd -c $T/slowhandoff.conf -k %k"
	} >"$DROPIN"
}

teardown_file() {
	rm -f "$DROPIN"
	[ -s "$T/daemon.pid" ] && kill -9 "$(cat "$T/daemon.pid")" 2>/dev/null
	[ -s "$T/dnsmasq.pid" ] && kill "$(cat "$T/dnsmasq.pid")" 2>/dev/null
	[ -s "$T/hung.pid" ] && kill "$(cat "$T/hung.pid")" 2>/dev/null
	[ -s "$T/stub.pid" ] && kill "$(cat "$T/stub.pid")" 2>/dev/null
	[ -s "$T/slow.pid" ] && kill "$(cat "$T/slow.pid")" 2>/dev/null
	true
}

setup() {
	load helpers
}

teardown() {
	daemon_stop
	# A test's own DNS server, when an assertion ended it early.
	if [ -s "$BATS_TEST_TMPDIR/stub.pid" ]; then
		kill "$(cat "$BATS_TEST_TMPDIR/stub.pid")" 2>/dev/null || true
	fi
}

# kreq NAME [CALLOUT]: ask the kernel for a dns_resolver key in a fresh
# session keyring.  Prints rc=, err=, proc= (its /proc/keys line) and
# payload= (keyctl print) lines.
kreq() {
	keyctl session - bash -c '
		id=$(keyctl request2 dns_resolver "$1" "$2" @s 2>"$3/kerr")
		echo "rc=$?"
		echo "err=$(head -c 200 "$3/kerr")"
		awk -v d="$1" "\$9 == d || \$9 == d\":\"" /proc/keys | head -n 1 | sed "s/^/proc=/"
		[ -n "$id" ] && echo "payload=$(keyctl print "$id")"
		true
	' _ "$1" "${2:-}" "$BATS_TEST_TMPDIR" 2>/dev/null
}

# Seconds left on a key, from its /proc/keys timeout column (5m, 59s, 1h).
key_timeout() {
	local t
	t=$(echo "$1" | awk '{print $4}')
	case $t in
	*h) echo $((${t%h} * 3600)) ;;
	*m) echo $((${t%m} * 60)) ;;
	*s) echo "${t%s}" ;;
	*) echo "$t" ;;
	esac
}

key_flags() {
	echo "$1" | awk '{print $2}'
}

daemon_start() {
	"$BUILD/daemon/nfsmigd" -F -c "${1:-$T/good.conf}" 2>"$T/daemon.err" 3>&- &
	echo $! >"$T/daemon.pid"
	for i in $(seq 100); do
		[ -S "$T/nfsmigd.sock" ] && return 0
		sleep 0.05
	done
	cat "$T/daemon.err" >&2
	return 1
}

daemon_stop() {
	if [ -s "$T/daemon.pid" ]; then
		kill "$(cat "$T/daemon.pid")" 2>/dev/null
		for i in $(seq 40); do
			kill -0 "$(cat "$T/daemon.pid")" 2>/dev/null || break
			sleep 0.05
		done
		kill -9 "$(cat "$T/daemon.pid")" 2>/dev/null
		rm -f "$T/daemon.pid"
	fi
	rm -f "$T/nfsmigd.sock"
}

@test "IPv4 name: one address, the key lives for the DNS TTL (300 s)" {
	run kreq v4.nfsmig.test
	assert_line "rc=0"
	assert_line "payload=192.0.2.41"
	local proc
	proc=$(echo "$output" | sed -n 's/^proc=//p')
	[[ $(key_flags "$proc") == I* ]]
	[[ $(key_flags "$proc") != *N* ]]
	# The kernel keeps the address without its NUL: 10 bytes.
	[[ $proc == *"v4.nfsmig.test: 10" ]]
	t=$(key_timeout "$proc")
	((t >= 240 && t <= 300))
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D v4.nfsmig.test
	assert_success
	assert_line "payload: 192.0.2.41"
	assert_line "timeout: 300"
}

@test "IPv6-only name: the NFS client's empty callout gets the IPv6 address" {
	run kreq v6.nfsmig.test
	assert_line "rc=0"
	assert_line "payload=2001:db8::42"
	[[ $(echo "$output" | sed -n 's/^proc=//p') == *"v6.nfsmig.test: 12" ]]
}

@test "dual-stack name: IPv4 first, IPv6 when the config prefers it, both with list" {
	run kreq dual.nfsmig.test
	assert_line "payload=192.0.2.43"
	run kreq dual.nfsmig.test "list"
	assert_line "payload=192.0.2.43,2001:db8::43"
	run kreq dual.nfsmig.test "ipv6"
	assert_line "payload=2001:db8::43"
	conf "$BATS_TEST_TMPDIR/v6.conf" "127.0.0.1#$DNSPORT" "prefer = ipv6"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/v6.conf" -D dual.nfsmig.test
	assert_line "payload: 2001:db8::43"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/v6.conf" -D a:dual.nfsmig.test
	assert_line "payload: 192.0.2.43"
}

@test "the DNS TTL is honoured and clamped to min_ttl/max_ttl" {
	run kreq short.nfsmig.test
	assert_line "payload=192.0.2.44"
	t=$(key_timeout "$(echo "$output" | sed -n 's/^proc=//p')")
	((t >= 1 && t <= 7))
	conf "$BATS_TEST_TMPDIR/clamp.conf" "127.0.0.1#$DNSPORT" "min_ttl = 30
max_ttl = 100"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/clamp.conf" -D short.nfsmig.test
	assert_line "timeout: 30"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/clamp.conf" -D v4.nfsmig.test
	assert_line "timeout: 100"
}

# A key whose /proc/keys timeout column says it expires (not "perm").
expires_soon() {
	local proc t
	proc=$(echo "$1" | sed -n 's/^proc=//p')
	[ -n "$proc" ]
	t=$(echo "$proc" | awk '{print $4}')
	[ "$t" != perm ] || {
		echo "key never expires: $proc" >&2
		return 1
	}
	[[ $t == expd || $t == [01]s ]]
}

@test "a DNS TTL of 0 never makes a key that never expires" {
	# The default min_ttl (1) already keeps this first key from "perm": a
	# guard for the defaults; the zero.conf half is the one that shows a
	# configuration cannot ask for it.
	run kreq ttl0.nfsmig.test
	assert_line "payload=192.0.2.46"
	expires_soon "$output"
	# min_ttl = 0 is refused with the line that says so, and the key is
	# still settled with an expiry.
	run kreq ttl0.zero.nfsmig.test
	assert_line "rc=1"
	expires_soon "$output"
	run "$BUILD/daemon/nfsmigd" -c "$T/zero.conf" -D ttl0.zero.nfsmig.test
	assert_failure 1
	assert_output --partial "zero.conf:6: min_ttl: '0' is not a number of seconds (1 to 604800)"
}

@test "a CNAME is followed to its address" {
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D alias.nfsmig.test
	assert_success
	assert_line "payload: 192.0.2.41"
}

@test "DNS: TCP when truncated, EDNS0, stray answers ignored, a TTL per address" {
	: >"$T/stub.log"
	run "$BUILD/daemon/nfsmigd" -c "$T/stub.conf" -D many.stub.test list
	assert_success
	assert_line "payload: 192.0.2.61,192.0.2.62,192.0.2.63"
	assert_line "timeout: 50"
	# The UDP answer came back truncated: asked again over TCP.
	grep -q '^tcp A many.stub.test ' "$T/stub.log"
	# EDNS0 in every query.
	! grep -q 'edns=0' "$T/stub.log"
	# One address: the key lives for that address's TTL (40), not for the
	# smallest of the name's (20).
	run "$BUILD/daemon/nfsmigd" -c "$T/stub.conf" -D one.stub.test
	assert_line "payload: 192.0.2.64"
	assert_line "timeout: 40"
	refute_output --partial 192.0.2.66
}

@test "DNS: several servers, the first one dead; a name with a trailing dot" {
	conf "$BATS_TEST_TMPDIR/two.conf" "127.0.0.1#$DEADPORT 127.0.0.1#$STUBPORT"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/two.conf" -D one.stub.test
	assert_success
	assert_line "payload: 192.0.2.64"
	run "$BUILD/daemon/nfsmigd" -c "$T/stub.conf" -D one.stub.test.
	assert_success
	assert_line "payload: 192.0.2.64"
	conf "$BATS_TEST_TMPDIR/hosts.conf" "127.0.0.1#$DEADPORT" "hosts = $T/hosts.with"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/hosts.conf" -D fromhosts.nfsmig.test.
	assert_line "payload: 192.0.2.99"
	assert_line "source: hosts"
}

@test "resolver = nss: names through getaddrinfo, with default_ttl" {
	# Our own hosts step is off (an empty file) and DNS is dead: only the
	# system's name service can answer localhost.
	conf "$BATS_TEST_TMPDIR/nss.conf" "127.0.0.1#$DEADPORT" "resolver = nss
default_ttl = 42"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/nss.conf" -D a:localhost
	assert_success
	assert_line "payload: 127.0.0.1"
	assert_line "timeout: 42"
	assert_line "source: nss"
	# default_ttl as it is: min_ttl and max_ttl bound DNS TTLs only.
	conf "$BATS_TEST_TMPDIR/nss2.conf" "127.0.0.1#$DEADPORT" "resolver = nss
default_ttl = 42
max_ttl = 10"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/nss2.conf" -D a:localhost
	assert_line "timeout: 42"
	# A numeric address is not from DNS either.
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D 192.0.2.7
	assert_line "payload: 192.0.2.7"
	assert_line "source: numeric"
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D a:localhost
	assert_failure 1
	printf '[resolver]\nresolver = nis\n' >"$BATS_TEST_TMPDIR/bad.conf"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/bad.conf" -D a:localhost
	assert_output --partial "bad.conf:2: resolver: 'nis' is neither dns nor nss"
}

@test "one resolv.conf server answering in 1 s: answered, by the upcall and by the daemon" {
	# A private network namespace: the only server is resolv.conf's, on
	# 127.0.0.1:53, and it answers in 1 s; the deadline is the default 5 s.
	# c-ares must give that one server the whole budget, not a third of it.
	local d=$BATS_TEST_TMPDIR
	echo "nameserver 127.0.0.1" >"$d/resolv.conf"
	printf '[resolver]\nhosts = %s\nresolv_conf = %s\n[daemon]\nsocket = %s\nstate_dir = %s\n[metrics]\ntextfile =\n' \
		"$T/hosts" "$d/resolv.conf" "$d/ns.sock" "$d/state" >"$d/ns.conf"
	run unshare -n bash -c '
		d=$1 top=$2 build=$3
		ip link set lo up
		"$top/tests/helpers/dnsstub" 53 --delay 1000 --log "$d/q.log" \
			one.slow1.test=192.0.2.81/300 two.slow1.test=192.0.2.82/300 >"$d/stub.out" &
		stub=$!
	echo "$stub" >"$d/stub.pid"
		for i in $(seq 100); do grep -q ready "$d/stub.out" && break; sleep 0.05; done
		echo "== upcall"
		"$build/daemon/nfsmigd" -c "$d/ns.conf" -D one.slow1.test
		"$build/daemon/nfsmigd" -F -c "$d/ns.conf" 2>"$d/daemon.err" &
		daemon=$!
		for i in $(seq 100); do [ -S "$d/ns.sock" ] && break; sleep 0.05; done
		echo "== daemon"
		"$build/daemon/nfsmigd" -c "$d/ns.conf" -D two.slow1.test
		kill "$daemon" "$stub"
		wait "$daemon"
		true
	' _ "$d" "$TOP" "$BUILD"
	echo "$output" | sed -n '/== upcall/,/== daemon/p' | grep -qx "payload: 192.0.2.81"
	echo "$output" | sed -n '/== daemon/,$p' | grep -qx "payload: 192.0.2.82"
	echo "$output" | sed -n '/== daemon/,$p' | grep -qx "source: daemon"
}

@test "the daemon's EAGAIN with time left: the upcall resolves by itself" {
	# This daemon asks the hung server and gives up inside its share of
	# the deadline; the upcall has the rest, and its own config works.
	conf "$BATS_TEST_TMPDIR/dhung.conf" "127.0.0.1#$HUNGPORT"
	daemon_start "$BATS_TEST_TMPDIR/dhung.conf"
	local t0 t1
	t0=$(now_ms)
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D ea$$.wild.nfsmig.test
	t1=$(now_ms)
	assert_success
	assert_line "payload: 192.0.2.50"
	assert_line "source: dns"
	((t1 - t0 < 2000))
}

@test "the hosts file answers first, with default_ttl" {
	conf "$BATS_TEST_TMPDIR/hosts.conf" "127.0.0.1#$DNSPORT" "hosts = $T/hosts.with
default_ttl = 42"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/hosts.conf" -D fromhosts.nfsmig.test
	assert_success
	assert_line "payload: 192.0.2.99"
	assert_line "timeout: 42"
	assert_line "source: hosts"
}

@test "NXDOMAIN: the key is negative (ENODATA) for negative_ttl" {
	local name=nx$$-$RANDOM.nfsmig.test proc
	run kreq "$name"
	assert_line "rc=1"
	assert_line --partial "err=request_key: No data available"
	proc=$(echo "$output" | sed -n 's/^proc=//p')
	[[ $(key_flags "$proc") == *N* ]]
	t=$(key_timeout "$proc")
	((t >= 50 && t <= 60))
	grep -q "\"name\":\"$name\".*\"status\":\"no such name\"" "$T/state/upcalls.log"
}

@test "DNS server down: rejected at once, for servfail_ttl" {
	local name=x$$-$RANDOM.down.nfsmig.test t0 t1
	t0=$(now_ms)
	run kreq "$name"
	t1=$(now_ms)
	assert_line "rc=1"
	[[ $(key_flags "$(echo "$output" | sed -n 's/^proc=//p')") == *N* ]]
	((t1 - t0 < 2500))
}

@test "a hung DNS server: the key is rejected within the deadline (2 s)" {
	local name=x$$-$RANDOM.hung.nfsmig.test t0 t1 proc
	t0=$(now_ms)
	run kreq "$name"
	t1=$(now_ms)
	assert_line "rc=1"
	assert_line --partial "err=request_key: Resource temporarily unavailable"
	proc=$(echo "$output" | sed -n 's/^proc=//p')
	[[ $(key_flags "$proc") == *N* ]]
	# The deadline is 2 s: the kernel has its answer by then.
	((t1 - t0 < 2600))
}

@test "garbage descriptions are rejected (EINVAL) with a reason" {
	run kreq "bad!name.nfsmig.test"
	assert_line "rc=1"
	assert_line --partial "Invalid argument"
	run kreq "$(printf 'a%.0s' {1..70}).nfsmig.test"
	assert_line "rc=1"
	assert_line --partial "Invalid argument"
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D "bad!name.nfsmig.test"
	assert_failure 1
	assert_line "why: 'bad!name.nfsmig.test' is not a valid host name"
}

@test "requests of other dns_resolver users go to key.dns_resolver (AFS)" {
	[ -x /sbin/key.dns_resolver ] || skip "keyutils' key.dns_resolver is not installed"
	# A cell name key.dns_resolver cannot put in a query (a 64-byte label):
	# it settles the key without asking any DNS server, negative for its
	# 60 s of "no data" (keyutils 1.6.3 passes h_errno NO_DATA, 4, as the
	# error: EINTR).  nfsmigd alone says EINVAL (or EOPNOTSUPP) for 10 s.
	local cell
	cell="$(printf 'a%.0s' {1..64}).nfsmig.test"
	run kreq "afsdb:$cell" "srv=1"
	assert_line "rc=1"
	# Its own error, not the kernel's ENOKEY for a handler that exited
	# without settling the key.
	assert_line "err=request_key: Interrupted system call"
	proc=$(echo "$output" | sed -n 's/^proc=//p')
	[[ $(key_flags "$proc") == *N* ]]
	t=$(key_timeout "$proc")
	((t >= 50 && t <= 60))
	# A query type key.dns_resolver does not know either: it exits, and
	# the kernel negates (ENOKEY; this line cannot tell who did).
	run kreq "bogus:x.nfsmig.test"
	assert_line "rc=1"
	assert_line --partial "err=request_key: Required key not available"
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D "afsdb:$cell" "srv=1"
	assert_failure 1
	assert_line "status: not served"
	assert_line "handler: /sbin/key.dns_resolver"
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D v4.nfsmig.test "ipv4 frobnicate"
	assert_line "status: not served"
}

@test "other requests run other_requests on the same key, which settles it" {
	# The handler's own payload proves it ran with the key's authority: a
	# handler that did nothing would leave the kernel's own negation.
	rm -f "$T/handler.rec"
	run kreq "afsdb:x.handoff.nfsmig.test" "srv=1"
	assert_line "rc=0"
	assert_line "payload=marker"
	run cat "$T/handler.rec"
	assert_line "argc: 1"
	assert_line --regexp '^argv: [1-9][0-9]*$'
	# Nothing of nfsmigd's open: no socket, no log.
	refute_output --partial "socket:"
	refute_output --partial "upcalls.log"
	# SIGPIPE not ignored (bit 13 of SigIgn), as request-key would run
	# it, and only a minimal environment.
	local ign
	ign=$(echo "$output" | sed -n 's/^SigIgn:[[:space:]]*//p')
	[ -n "$ign" ] && (((0x$ign >> 12 & 1) == 0))
	assert_line "env: PATH=/sbin:/bin:/usr/sbin:/usr/bin"
	refute_line --regexp '^env: (TERM|LD_|NFSMIG|BATS)'
	# A handler, or a configuration file naming it, that others may
	# write: root does not run it.
	chmod 0775 "$T/handler"
	rm -f "$T/handler.rec"
	run kreq "afsdb:y.handoff.nfsmig.test" "srv=1"
	chmod 0755 "$T/handler"
	assert_line "rc=1"
	assert_line --partial "err=request_key: Operation not supported"
	[ ! -e "$T/handler.rec" ]
	chmod 0666 "$T/handoff.conf"
	run "$BUILD/daemon/nfsmigd" -c "$T/handoff.conf" -D "afsdb:y.handoff.nfsmig.test"
	run2=$(kreq "afsdb:z.handoff.nfsmig.test" "srv=1")
	chmod 0644 "$T/handoff.conf"
	assert_line --partial "handoff.conf is not root's alone (owner 0, mode 0666)"
	[[ $run2 == *"Operation not supported"* ]]
	[ ! -e "$T/handler.rec" ]
}

@test "long descriptions and callouts of other users are handed on, not negated" {
	# The kernel takes descriptions and callout info up to 4095 bytes.
	local long callout
	long=$(printf 'c%.0s' {1..1500})
	callout="srv=1 $(printf 'o%.0s' {1..1500})"
	run kreq "afsdb:$long.handoff.nfsmig.test" "srv=1"
	assert_line "rc=0"
	assert_line "payload=marker"
	run kreq "afsdb:x2.handoff.nfsmig.test" "$callout"
	assert_line "rc=0"
	assert_line "payload=marker"
}

@test "a handler that outlives the deadline is ended with it: the key is settled in time" {
	local t0 t1
	t0=$(now_ms)
	run kreq "afsdb:x.slowhandoff.nfsmig.test" "srv=1"
	t1=$(now_ms)
	assert_line "rc=1"
	[[ $(key_flags "$(echo "$output" | sed -n 's/^proc=//p')") == *N* ]]
	# The deadline is 2 s (the handler alone would take 10).
	((t1 - t0 < 2600))
}

@test "a broken configuration: our requests negated at once, others still handed on" {
	[ -x /sbin/key.dns_resolver ] || skip "keyutils' key.dns_resolver is not installed"
	run kreq x.broken.nfsmig.test
	assert_line "rc=1"
	assert_line --partial "err=request_key: Required key not available"
	t=$(key_timeout "$(echo "$output" | sed -n 's/^proc=//p')")
	((t <= 1))
	run kreq "afsdb:$(printf 'a%.0s' {1..64}).broken.nfsmig.test" "srv=1"
	assert_line "rc=1"
	assert_line "err=request_key: Interrupted system call"
	# key.dns_resolver's 60 s rejection, not our 1 s negation.
	t=$(key_timeout "$(echo "$output" | sed -n 's/^proc=//p')")
	((t >= 50 && t <= 60))
}

@test "without key.dns_resolver, other requests are rejected (EOPNOTSUPP)" {
	run kreq "afsdb:x.nohandler.nfsmig.test" "srv=1"
	assert_line "rc=1"
	assert_line --partial "err=request_key: Operation not supported"
	[[ $(key_flags "$(echo "$output" | sed -n 's/^proc=//p')") == *N* ]]
	run "$BUILD/daemon/nfsmigd" -c "$T/nohandler.conf" -D "afsdb:x.nohandler.nfsmig.test"
	assert_line "handler: /nonexistent/key.dns_resolver (not installed)"
}

@test "with the daemon: answered by it, then from its cache" {
	local m=$BATS_TEST_TMPDIR/nfsmig.prom
	# The counts are written at the next look: a rescan every second (a
	# host without NFSv4 mounts opens no window for an upcall).
	sed "s|^textfile =\$|textfile = $m|" "$T/good.conf" >"$BATS_TEST_TMPDIR/m.conf"
	printf '[watch]\nrescan = 1\n' >>"$BATS_TEST_TMPDIR/m.conf"
	daemon_start "$BATS_TEST_TMPDIR/m.conf"
	[ "$(stat -c %a "$T/nfsmigd.sock")" = 600 ]
	run kreq wd$$.wild.nfsmig.test
	assert_line "payload=192.0.2.50"
	run kreq wd$$.wild.nfsmig.test
	assert_line "payload=192.0.2.50"
	# Counted in the metrics (written at the look an upcall makes).
	# The daemon answered the first one; the second came from SOCKET.cache
	# without waking it (not the daemon's to count).
	for i in $(seq 60); do
		grep -qxF 'nfsmig_upcalls_total{result="ok"} 1' "$m" 2>/dev/null && break
		sleep 0.05
	done
	grep -qxF 'nfsmig_upcalls_total{result="ok"} 1' "$m" || fail "$(cat "$m")"
	grep -qxF 'nfsmig_upcalls_total{result="negative"} 0' "$m" || fail "$(cat "$m")"
	grep -q "\"name\":\"wd$$.wild.nfsmig.test\".*\"by\":\"daemon\"" "$T/state/upcalls.log"
	grep -q "\"name\":\"wd$$.wild.nfsmig.test\".*\"by\":\"daemon-cache\"" "$T/state/upcalls.log"
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D wd$$.wild.nfsmig.test
	assert_line "source: daemon"
}

@test "the daemon merges concurrent lookups of one name into one DNS query" {
	# A server that takes 300 ms an answer: the 20 requests overlap, and
	# only merging (not the cache) keeps them to one query per family.
	daemon_start "$T/slow.conf"
	local i pids=()
	for i in $(seq 20); do
		"$BUILD/daemon/nfsmigd" -c "$T/slow.conf" -D merge.slow.test >"$BATS_TEST_TMPDIR/m$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 20); do
		grep -q "payload: 192.0.2.65" "$BATS_TEST_TMPDIR/m$i"
		grep -q "source: daemon" "$BATS_TEST_TMPDIR/m$i"
	done
	# One query (a resend of it keeps its id).
	[ "$(grep '^udp A merge.slow.test ' "$T/slow.log" | awk '{print $5}' | sort -u | wc -l)" -eq 1 ]
}

@test "an answer with one family timed out is cached for tempfail_ttl only" {
	# A answered, AAAA never: the daemon answers with the IPv4 address but
	# keeps it for tempfail_ttl (1 s), not for its 300 s of DNS TTL.
	local port=$((DNSPORT + 6)) d=$BATS_TEST_TMPDIR stub i
	echo "half.stub.test=192.0.2.84/300" >"$d/zone"
	"$TOP/tests/helpers/dnsstub" "$port" --silent AAAA --zone "$d/zone" >"$d/stub.out" 3>&- &
	stub=$!
	echo "$stub" >"$d/stub.pid"
	for i in $(seq 100); do grep -q ready "$d/stub.out" && break; sleep 0.05; done
	conf "$d/half.conf" "127.0.0.1#$port"
	daemon_start "$d/half.conf"
	run "$BUILD/daemon/nfsmigd" -c "$d/half.conf" -D half.stub.test
	assert_line "payload: 192.0.2.84"
	assert_line "source: daemon"
	echo "half.stub.test=192.0.2.85/300" >"$d/zone"
	sleep 1.2
	run "$BUILD/daemon/nfsmigd" -c "$d/half.conf" -D half.stub.test
	kill "$stub"
	assert_line "payload: 192.0.2.85"
	assert_line "source: daemon"
}

@test "without the daemon the upcall resolves by itself" {
	daemon_stop
	run kreq nd$$.wild.nfsmig.test
	assert_line "payload=192.0.2.50"
	grep -q "\"name\":\"nd$$.wild.nfsmig.test\".*\"by\":\"upcall\"" "$T/state/upcalls.log"
}

@test "the daemon killed mid-request: the upcall still answers in time" {
	# This daemon asks the hung server; the upcall's own config, the good one.
	conf "$BATS_TEST_TMPDIR/dhung.conf" "127.0.0.1#$HUNGPORT"
	daemon_start "$BATS_TEST_TMPDIR/dhung.conf"
	(
		sleep 0.5
		kill -9 "$(cat "$T/daemon.pid")"
	) &
	local killer=$! t0 t1
	t0=$(now_ms)
	run kreq km$$.wild.nfsmig.test
	t1=$(now_ms)
	wait "$killer"
	assert_line "payload=192.0.2.50"
	((t1 - t0 < 2600))
	grep -q "\"name\":\"km$$.wild.nfsmig.test\".*\"by\":\"upcall\"" "$T/state/upcalls.log"
}

@test "the key is settled before the record is written; a FIFO as the record is refused" {
	# The record's file is a FIFO nobody reads: the key still has its
	# address, and no writer waits on it.
	run kreq sl$$.slowlog.nfsmig.test
	assert_line "payload=192.0.2.51"
	run timeout 5 "$BUILD/daemon/nfsmigd" -c "$T/slowlog.conf" -D sm$$.slowlog.nfsmig.test
	assert_success
	assert_line "payload: 192.0.2.51"
	# The daemon answers, and its worker does not hang on the record: it
	# stops with no request left in flight.
	daemon_start "$T/slowlog.conf"
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D sd$$.slowlog.nfsmig.test
	assert_line "source: daemon"
	assert_line "payload: 192.0.2.51"
	local pid
	pid=$(cat "$T/daemon.pid")
	kill -TERM "$pid"
	for i in $(seq 40); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	grep -q "stopping:" "$T/daemon.err"
	! grep -q "in flight left" "$T/daemon.err"
	[ -p "$T/slowlog/upcalls.log" ]
}

@test "a daemon alive but stuck (SIGSTOP): the upcall still answers in time" {
	daemon_start
	kill -STOP "$(cat "$T/daemon.pid")"
	local t0 t1
	t0=$(now_ms)
	run kreq st$$.wild.nfsmig.test
	t1=$(now_ms)
	kill -CONT "$(cat "$T/daemon.pid")"
	assert_line "payload=192.0.2.50"
	# The deadline is 2 s; the daemon had half of it.
	((t1 - t0 < 2000))
	grep -q "\"name\":\"st$$.wild.nfsmig.test\".*\"by\":\"upcall\"" "$T/state/upcalls.log"
	# Woken, the daemon answers a request its upcall gave up on: its
	# record says the answer came late, not that it served the key.
	for i in $(seq 40); do
		grep -q "\"name\":\"st$$.wild.nfsmig.test\".*\"by\":\"daemon" "$T/state/upcalls.log" && break
		sleep 0.05
	done
	grep -q "\"name\":\"st$$.wild.nfsmig.test\".*\"by\":\"daemon-late\"" "$T/state/upcalls.log"
	! grep -q "\"name\":\"st$$.wild.nfsmig.test\".*\"by\":\"daemon\"" "$T/state/upcalls.log"
}

@test "SIGHUP: the daemon reads its configuration again and empties its cache" {
	cp "$T/stub.conf" "$BATS_TEST_TMPDIR/hup.conf"
	daemon_start "$BATS_TEST_TMPDIR/hup.conf"
	local pid
	pid=$(cat "$T/daemon.pid")
	run "$BUILD/daemon/nfsmigd" -c "$T/stub.conf" -D hup.stub.test
	assert_line "payload: 192.0.2.71"
	assert_line "timeout: 300"
	# DNS changes; the cache still has the old answer until SIGHUP.
	echo "hup.stub.test=192.0.2.72/300" >"$T/zone"
	run "$BUILD/daemon/nfsmigd" -c "$T/stub.conf" -D hup.stub.test
	assert_line "payload: 192.0.2.71"
	conf "$BATS_TEST_TMPDIR/hup.conf" "127.0.0.1#$STUBPORT" "max_ttl = 100"
	kill -HUP "$pid"
	for i in $(seq 40); do
		grep -q "configuration reloaded" "$T/daemon.err" && break
		sleep 0.05
	done
	grep -q "SIGHUP: configuration reloaded, 1 cached names dropped" "$T/daemon.err"
	kill -0 "$pid"
	run "$BUILD/daemon/nfsmigd" -c "$T/stub.conf" -D hup.stub.test
	assert_line "payload: 192.0.2.72"
	assert_line "source: daemon"
	# The reloaded max_ttl is the daemon's now.
	assert_line "timeout: 100"
	echo "hup.stub.test=192.0.2.71/300" >"$T/zone"
}

@test "SIGHUP during a merged lookup: its waiters still share the one DNS query" {
	# A server that takes 1.5 s an answer; 15 requests wait on one query
	# when SIGHUP comes: they get its answer (it is just not cached).
	local port=$((DNSPORT + 5)) d=$BATS_TEST_TMPDIR i pids=() stub
	"$TOP/tests/helpers/dnsstub" "$port" --delay 1500 --log "$d/q.log" \
		hup.merge.test=192.0.2.83/300 >"$d/stub.out" 3>&- &
	stub=$!
	echo "$stub" >"$d/stub.pid"
	for i in $(seq 100); do grep -q ready "$d/stub.out" && break; sleep 0.05; done
	conf "$d/hm.conf" "127.0.0.1#$port" "deadline = 5"
	daemon_start "$d/hm.conf"
	for i in $(seq 15); do
		"$BUILD/daemon/nfsmigd" -c "$d/hm.conf" -D a:hup.merge.test >"$d/m$i" &
		pids+=($!)
	done
	sleep 1
	kill -HUP "$(cat "$T/daemon.pid")"
	wait "${pids[@]}"
	kill "$stub"
	grep -q "SIGHUP: configuration reloaded" "$T/daemon.err"
	for i in $(seq 15); do
		run cat "$d/m$i"
		assert_line "payload: 192.0.2.83"
		assert_line "source: daemon"
	done
	# One query (a resend of it keeps its id).
	run sh -c "grep '^udp A hup.merge.test ' '$d/q.log' | awk '{print \$5}' | sort -u"
	[ "${#lines[@]}" -eq 1 ]
}

@test "SIGHUP during a lookup: a request after it is not merged into the query begun before" {
	# A query to a slow server (1.5 s) is under way when SIGHUP brings a
	# configuration naming another server: who asks after the SIGHUP is
	# answered under the new one, who asked before under the old one.
	local port=$((DNSPORT + 10)) d=$BATS_TEST_TMPDIR i stub stub2 p1 p2
	"$TOP/tests/helpers/dnsstub" "$port" --delay 1500 gen.merge.test=192.0.2.84/300 \
		>"$d/stub.out" 3>&- &
	stub=$!
	echo "$stub" >"$d/stub.pid"
	"$TOP/tests/helpers/dnsstub" "$((port + 1))" gen.merge.test=192.0.2.85/300 \
		>"$d/stub2.out" 3>&- &
	stub2=$!
	for i in $(seq 100); do
		grep -q ready "$d/stub.out" && grep -q ready "$d/stub2.out" && break
		sleep 0.05
	done
	conf "$d/gm.conf" "127.0.0.1#$port" "deadline = 5"
	daemon_start "$d/gm.conf"
	"$BUILD/daemon/nfsmigd" -c "$d/gm.conf" -D a:gen.merge.test >"$d/before" &
	p1=$!
	sleep 0.5
	conf "$d/gm.conf" "127.0.0.1#$((port + 1))" "deadline = 5"
	kill -HUP "$(cat "$T/daemon.pid")"
	for i in $(seq 100); do grep -q "configuration reloaded" "$T/daemon.err" && break; sleep 0.02; done
	"$BUILD/daemon/nfsmigd" -c "$d/gm.conf" -D a:gen.merge.test >"$d/after" &
	p2=$!
	wait "$p1" "$p2"
	run "$BUILD/daemon/nfsmigd" -c "$d/gm.conf" -D a:gen.merge.test
	kill "$stub" "$stub2"
	assert_line "payload: 192.0.2.85"
	run cat "$d/before"
	assert_line "payload: 192.0.2.84"
	run cat "$d/after"
	assert_line "payload: 192.0.2.85"
	assert_line "source: daemon"
}

@test "SIGHUP with a relative -c: the detached daemon still reads its file again" {
	local d=$BATS_TEST_TMPDIR i
	conf "$d/rel.conf" "127.0.0.1#$DNSPORT"
	sed -i "s|^socket = .*|socket = $d/rel.sock|" "$d/rel.conf"
	(cd "$d" && "$BUILD/daemon/nfsmigd" -c rel.conf 3>&-)
	for i in $(seq 100); do
		[ -S "$d/rel.sock" ] && break
		sleep 0.05
	done
	# Its pid (it detached): the process listening on its socket.
	ss -xlpn | awk -v p="$d/rel.sock" '$5 == p' | sed -n 's/.*pid=\([0-9]*\).*/\1/p' \
		>"$T/daemon.pid"
	[ -s "$T/daemon.pid" ]
	conf "$d/rel.conf" "127.0.0.1#$DNSPORT" "max_ttl = 100"
	sed -i "s|^socket = .*|socket = $d/rel.sock|" "$d/rel.conf"
	kill -HUP "$(cat "$T/daemon.pid")"
	sleep 0.3
	run "$BUILD/daemon/nfsmigd" -c "$d/rel.conf" -D v4.nfsmig.test
	assert_line "source: daemon"
	assert_line "timeout: 100"
}

@test "SIGTERM: the daemon stops within a second, an upcall in flight" {
	# The daemon asks a server that never answers, with a 5 s deadline: its
	# lookup lasts over 2 s.  A daemon that never waited for its workers
	# passes this too: the next test, in which the request in flight gets
	# the daemon's answer, is the one that shows the wait.
	conf "$BATS_TEST_TMPDIR/dhung.conf" "127.0.0.1#$HUNGPORT" "deadline = 5"
	daemon_start "$BATS_TEST_TMPDIR/dhung.conf"
	local pid t0 t1 client
	pid=$(cat "$T/daemon.pid")
	"$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/dhung.conf" -D inflight.hung.nfsmig.test \
		>"$BATS_TEST_TMPDIR/client.out" &
	client=$!
	sleep 0.4
	t0=$(now_ms)
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null && (($(now_ms) - t0 < 3000)); do
		sleep 0.02
	done
	t1=$(now_ms)
	! kill -0 "$pid" 2>/dev/null
	((t1 - t0 < 1000))
	[ ! -e "$T/nfsmigd.sock" ]
	grep -q "stopping:" "$T/daemon.err"
	wait "$client" || true
}

@test "SIGTERM: a request in flight that can end in 0.5 s still gets the daemon's answer" {
	# The slow server answers in 300 ms; SIGTERM comes 100 ms into it.
	daemon_start "$T/slow.conf"
	local pid client t0 t1
	pid=$(cat "$T/daemon.pid")
	"$BUILD/daemon/nfsmigd" -c "$T/slow.conf" -D a:t$$.slow.test >"$BATS_TEST_TMPDIR/c.out" &
	client=$!
	sleep 0.1
	t0=$(now_ms)
	kill -TERM "$pid"
	wait "$client" || true
	while kill -0 "$pid" 2>/dev/null && (($(now_ms) - t0 < 3000)); do
		sleep 0.02
	done
	t1=$(now_ms)
	((t1 - t0 < 1000))
	# The name does not exist: the daemon's NXDOMAIN, not the upcall's own.
	run cat "$BATS_TEST_TMPDIR/c.out"
	assert_line "why: no such name"
}

@test "600 requests at once: the daemon answers every one with the address" {
	# A server that takes 1.5 s an answer keeps all of them waiting at
	# once on the one query of their name.
	local port=$((DNSPORT + 7)) d=$BATS_TEST_TMPDIR i stub
	"$TOP/tests/helpers/dnsstub" "$port" --delay 1500 many.slow.test=192.0.2.88/300 \
		>"$d/stub.out" 3>&- &
	stub=$!
	echo "$stub" >"$d/stub.pid"
	for i in $(seq 100); do grep -q ready "$d/stub.out" && break; sleep 0.05; done
	conf "$d/many.conf" "127.0.0.1#$port" "deadline = 5"
	daemon_start "$d/many.conf"
	run python3 - "$T/nfsmigd.sock" 600 <<-'EOF'
		import socket, sys
		path, n = sys.argv[1], int(sys.argv[2])
		socks = []
		for i in range(n):
		    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		    s.settimeout(10)
		    s.connect(path)
		    s.sendall(b"RESOLVE\ta:many.slow.test\t\n")
		    socks.append(s)
		ok = 0
		for s in socks:
		    buf = b""
		    try:
		        while not buf.endswith(b"\n"):
		            k = s.recv(2048)
		            if not k:
		                break
		            buf += k
		    except OSError:
		        pass
		    ok += buf.startswith(b"OK\t") and b"\t192.0.2.88\t" in buf
		print("answered", ok, "of", n)
	EOF
	kill "$stub"
	assert_line "answered 600 of 600"
}

@test "a cached name is read from the daemon's cache: no request on its socket" {
	daemon_start
	local pid i
	pid=$(cat "$T/daemon.pid")
	[ "$(stat -c %a "$T/nfsmigd.sock.cache")" = 600 ]
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D sc$$.wild.nfsmig.test
	assert_line "source: daemon"
	for i in 1 2 3; do
		run kreq sc$$.wild.nfsmig.test
		assert_line "payload=192.0.2.50"
	done
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D sc$$.wild.nfsmig.test
	assert_line "source: daemon"
	kill -TERM "$pid"
	for i in $(seq 40); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	# One request on the socket (the first), none from the cache: the
	# four others read the shared cache, and recorded it.
	grep -q "stopping: 1 lookups, 0 from cache" "$T/daemon.err"
	[ "$(grep -c "\"name\":\"sc$$.wild.nfsmig.test\".*\"by\":\"daemon-cache\"" \
		"$T/state/upcalls.log")" -eq 4 ]
	[ ! -e "$T/nfsmigd.sock.cache" ]
}

@test "a second daemon while one runs: refused, the first one's socket and cache intact" {
	daemon_start
	local pid ino1 ino2 sino1 sino2
	pid=$(cat "$T/daemon.pid")
	run kreq sd$$.wild.nfsmig.test
	assert_line "payload=192.0.2.50"
	ino1=$(stat -c %i "$T/nfsmigd.sock.cache")
	sino1=$(stat -c %i "$T/nfsmigd.sock")
	run timeout 5 "$BUILD/daemon/nfsmigd" -F -c "$T/good.conf"
	assert_failure 1
	assert_output --partial "a daemon is running on it"
	ino2=$(stat -c %i "$T/nfsmigd.sock.cache")
	sino2=$(stat -c %i "$T/nfsmigd.sock")
	[ "$ino1" = "$ino2" ] && [ "$sino1" = "$sino2" ]
	kill -0 "$pid"
	# Still read from the first one's cache, and still asked on its socket.
	run kreq sd$$.wild.nfsmig.test
	assert_line "payload=192.0.2.50"
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D sd2$$.wild.nfsmig.test
	assert_line "source: daemon"
	[ "$(grep -c "\"name\":\"sd$$.wild.nfsmig.test\".*\"by\":\"daemon-cache\"" \
		"$T/state/upcalls.log")" -eq 1 ]
}

@test "a full cache makes room with the soonest to expire, not a name only read from the shared cache" {
	# keep (TTL 3000 s) is asked once on the socket, then only read from
	# the shared cache: the daemon never sees it used.  4096 other names
	# (NXDOMAIN, cached for negative_ttl, 60 s) fill every slot but one
	# more: the one to go is one of them, keep stays.
	local port=$((DNSPORT + 9)) d=$BATS_TEST_TMPDIR i stub
	"$TOP/tests/helpers/dnsstub" "$port" keep.stub.test=192.0.2.92/3000 >"$d/stub.out" 3>&- &
	stub=$!
	echo "$stub" >"$d/stub.pid"
	for i in $(seq 100); do grep -q ready "$d/stub.out" && break; sleep 0.05; done
	conf "$d/full.conf" "127.0.0.1#$port" "deadline = 5"
	daemon_start "$d/full.conf"
	run "$BUILD/daemon/nfsmigd" -c "$d/full.conf" -D keep.stub.test
	assert_line "payload: 192.0.2.92"
	run python3 - "$T/nfsmigd.sock" 4096 <<-'EOF'
		import socket, sys
		path, n = sys.argv[1], int(sys.argv[2])
		done = 0
		for start in range(0, n, 200):
		    socks = []
		    for i in range(start, min(n, start + 200)):
		        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		        s.settimeout(10)
		        s.connect(path)
		        s.sendall(b"RESOLVE\ta:f%d.stub.test\t\n" % i)
		        socks.append(s)
		    for s in socks:
		        buf = b""
		        try:
		            while not buf.endswith(b"\n"):
		                k = s.recv(2048)
		                if not k:
		                    break
		                buf += k
		        except OSError:
		            pass
		        done += buf.endswith(b"\n")
		        s.close()
		print("answered", done, "of", n)
	EOF
	assert_line "answered 4096 of 4096"
	run "$BUILD/daemon/nfsmigd" -c "$d/full.conf" -D keep.stub.test
	kill "$stub"
	assert_line "payload: 192.0.2.92"
	grep "\"name\":\"keep.stub.test\"" "$T/state/upcalls.log" | tail -n 1 |
		grep -q "\"by\":\"daemon-cache\""
}

@test "the cache of a daemon that died is not read" {
	local port=$((DNSPORT + 8)) d=$BATS_TEST_TMPDIR i stub
	echo "dead.stub.test=192.0.2.86/300" >"$d/zone"
	"$TOP/tests/helpers/dnsstub" "$port" --zone "$d/zone" >"$d/stub.out" 3>&- &
	stub=$!
	echo "$stub" >"$d/stub.pid"
	for i in $(seq 100); do grep -q ready "$d/stub.out" && break; sleep 0.05; done
	conf "$d/dead.conf" "127.0.0.1#$port"
	daemon_start "$d/dead.conf"
	run "$BUILD/daemon/nfsmigd" -c "$d/dead.conf" -D dead.stub.test
	assert_line "payload: 192.0.2.86"
	echo "dead.stub.test=192.0.2.87/300" >"$d/zone"
	run "$BUILD/daemon/nfsmigd" -c "$d/dead.conf" -D dead.stub.test
	assert_line "payload: 192.0.2.86"
	assert_line "source: daemon"
	kill -9 "$(cat "$T/daemon.pid")"
	sleep 0.2
	# Its file is still there, its answer not yet expired; no daemon
	# holds it.
	[ -e "$T/nfsmigd.sock.cache" ]
	run "$BUILD/daemon/nfsmigd" -c "$d/dead.conf" -D dead.stub.test
	kill "$stub"
	assert_line "payload: 192.0.2.87"
	assert_line "source: dns"
}

@test "the idle daemon is never woken; SIGHUP and SIGTERM are taken at once" {
	daemon_start
	local pid t0 t1 i
	pid=$(cat "$T/daemon.pid")
	run kreq id$$.wild.nfsmig.test
	assert_line "payload=192.0.2.50"
	sleep 0.5
	switches() { cat /proc/"$pid"/task/*/status | awk '/^voluntary_ctxt_switches/ {n += $2} END {print n}'; }
	local s1 s2
	s1=$(switches)
	sleep 2
	s2=$(switches)
	echo "voluntary context switches: $s1 then $s2"
	[ "$s1" -eq "$s2" ]
	t0=$(now_ms)
	kill -HUP "$pid"
	while ! grep -q "configuration reloaded" "$T/daemon.err" && (($(now_ms) - t0 < 3000)); do
		sleep 0.01
	done
	t1=$(now_ms)
	((t1 - t0 < 1000))
	t0=$(now_ms)
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null && (($(now_ms) - t0 < 3000)); do
		sleep 0.01
	done
	t1=$(now_ms)
	((t1 - t0 < 1000))
}

@test "out of descriptors, no spare: the daemon does not spin, and listens again when it can" {
	daemon_start
	local pid c1 c2 py soft
	pid=$(cat "$T/daemon.pid")
	cpu() { awk '{print $14 + $15}' /proc/"$pid"/stat; }
	soft=$(awk '/^Max open files/ {print $4}' /proc/"$pid"/limits)
	# No descriptor above 2 allowed: neither a connection nor its spare
	# (reopened in the lowest one free) can be had.
	prlimit --pid "$pid" --nofile=3:
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"RESOLVE\ta:fd.wild.nfsmig.test\t\n")
time.sleep(3)
' "$T/nfsmigd.sock" &
	py=$!
	sleep 0.5
	c1=$(cpu)
	sleep 2
	c2=$(cpu)
	echo "CPU ticks over 2 s: $((c2 - c1))"
	((c2 - c1 < 40))
	prlimit --pid "$pid" --nofile="$soft":
	wait "$py" || true
	# Within its retry second it takes connections again.
	sleep 1.2
	run "$BUILD/daemon/nfsmigd" -c "$T/good.conf" -D fd2$$.wild.nfsmig.test
	assert_line "payload: 192.0.2.50"
	assert_line "source: daemon"
}

@test "a client that is not root is refused by the daemon" {
	# A directory a user can reach, so that only the daemon's SO_PEERCRED
	# check stands between them (the socket is 0600: opened up on purpose).
	local d=/run/nfsmig-test-$$
	mkdir -m 0755 -p "$d"
	conf "$d/open.conf" "127.0.0.1#$DNSPORT"
	sed -i "s|^socket = .*|socket = $d/nfsmigd.sock|" "$d/open.conf"
	chmod 0644 "$d/open.conf"
	"$BUILD/daemon/nfsmigd" -F -c "$d/open.conf" 2>"$d/daemon.err" 3>&- &
	local pid=$!
	for i in $(seq 100); do
		[ -S "$d/nfsmigd.sock" ] && break
		sleep 0.05
	done
	[ "$(stat -c %a "$d/nfsmigd.sock")" = 600 ]
	chmod 0666 "$d/nfsmigd.sock"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BUILD/daemon/nfsmigd" -c "$d/open.conf" -D v4.nfsmig.test
	# Root is answered by it; the user resolved by itself.
	run2=$("$BUILD/daemon/nfsmigd" -c "$d/open.conf" -D v4.nfsmig.test)
	kill "$pid"
	wait "$pid" || true
	local err
	err=$(cat "$d/daemon.err")
	rm -rf "$d"
	assert_line "payload: 192.0.2.41"
	refute_line "source: daemon"
	[[ $run2 == *"source: daemon"* ]]
	[[ $err == *"refused a client that is not root"* ]]
}

@test "a daemon that is not root's is not asked" {
	# Anyone may listen on a socket path left free: the upcall checks its
	# peer as the daemon checks its clients.
	local d=/run/nfsmig-test-u$$ pid i
	mkdir -m 0777 -p "$d"
	conf "$d/user.conf" "127.0.0.1#$DNSPORT"
	sed -i "s|^socket = .*|socket = $d/nfsmigd.sock|; s|^state_dir = .*|state_dir = $d/state|" \
		"$d/user.conf"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BUILD/daemon/nfsmigd" -F -c "$d/user.conf" 2>"$d/daemon.err" 3>&- &
	pid=$!
	for i in $(seq 100); do
		[ -S "$d/nfsmigd.sock" ] && break
		sleep 0.05
	done
	[ "$(stat -c %u "$d/nfsmigd.sock")" = 65534 ]
	run "$BUILD/daemon/nfsmigd" -c "$d/user.conf" -D v4.nfsmig.test
	kill "$pid"
	wait "$pid" || true
	rm -rf "$d"
	assert_success
	assert_line "payload: 192.0.2.41"
	assert_line "source: dns"
}

@test "a FIFO as the daemon's cache: the upcall is not held, it answers at once" {
	# No daemon; a FIFO nobody writes where its cache would be: an open
	# that waits for a writer would hold the upcall to its deadline.
	rm -f "$T/nfsmigd.sock.cache"
	mkfifo "$T/nfsmigd.sock.cache"
	local t0 t1
	t0=$(now_ms)
	run kreq ff$$.wild.nfsmig.test
	t1=$(now_ms)
	rm -f "$T/nfsmigd.sock.cache"
	assert_line "payload=192.0.2.50"
	echo "answered in $((t1 - t0)) ms"
	((t1 - t0 < 1500))
}

@test "another user's file or FIFO as the cache, in a directory all may write: not read, answered at once" {
	local d=/run/nfsmig-test-f$$ t0 t1
	mkdir -m 0777 -p "$d"
	conf "$d/f.conf" "127.0.0.1#$DNSPORT"
	sed -i "s|^socket = .*|socket = $d/nfsmigd.sock|; s|^state_dir = .*|state_dir = $d/state|" \
		"$d/f.conf"
	setpriv --reuid=65534 --regid=65534 --clear-groups mkfifo -m 0600 "$d/nfsmigd.sock.cache"
	t0=$(now_ms)
	run timeout 5 "$BUILD/daemon/nfsmigd" -c "$d/f.conf" -D v4.nfsmig.test
	t1=$(now_ms)
	rm -f "$d/nfsmigd.sock.cache"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		sh -c "head -c 4096 /dev/zero >'$d/nfsmigd.sock.cache'; chmod 0600 '$d/nfsmigd.sock.cache'"
	run2=$(timeout 5 "$BUILD/daemon/nfsmigd" -c "$d/f.conf" -D v4.nfsmig.test)
	rm -rf "$d"
	assert_success
	assert_line "payload: 192.0.2.41"
	assert_line "source: dns"
	((t1 - t0 < 1500))
	[[ $run2 == *"payload: 192.0.2.41"* && $run2 == *"source: dns"* ]]
}

@test "configuration errors name the file and line" {
	printf '[resolver]\nprefer = ipv4\nfrobnicate = 1\n' >"$BATS_TEST_TMPDIR/bad.conf"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/bad.conf" -D v4.nfsmig.test
	assert_failure 1
	assert_output --partial "bad.conf:3: unknown key 'frobnicate' in [resolver]"
	printf '[resolver]\nmax_ttl = soon\n' >"$BATS_TEST_TMPDIR/bad2.conf"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/bad2.conf" -D v4.nfsmig.test
	assert_output --partial "bad2.conf:2: max_ttl: 'soon' is not a number of seconds"
	printf '[nfsd]\nthreads = 8\n' >"$BATS_TEST_TMPDIR/bad3.conf"
	run "$BUILD/daemon/nfsmigd" -c "$BATS_TEST_TMPDIR/bad3.conf" -D v4.nfsmig.test
	assert_output --partial "bad3.conf:2: unknown section [nfsd]"
}
