#!/bin/bash
# A bench in the VM (figures, not verdicts; tests/bench/resolver-vm runs it):
# the dns_resolver handlers compared on equal terms, through the kernel's
# own key service, every one asking the same DNS server (dnsmasq in a
# network namespace behind `tc netem delay 20ms`, the server of the VM's
# own /etc/resolv.conf) for names of one zone:
#
#   nfsmigd, no daemon      its own DNS client
#   nfsmigd, daemon cold    a name the daemon has not seen: its query
#   nfsmigd, daemon cached  a name in the daemon's cache
#   key.dns_resolver        the system's resolver
#   a no-op handler         keyctl negate: the cost of an upcall itself (the
#                           baseline: under emulation an exec costs some
#                           300 ms, so the differences to it, in ms, tell
#                           what each handler adds)
#
# bench_upcall requests them in turn, 8 each, each in a fresh session
# keyring, and prints medians with their ratio and difference to the no-op
# handler's.  The PASS lines say only that the setup holds and
# every request was answered with the zone's address.
. ./lib.sh
. /nfsvm/job
N=8
B=$NFSMIG_BUILD/tests/bench/bench_upcall
D=$RUN/fairdns
mkdir -p "$D/state"

# The DNS server, 20 ms away.
ip netns add dns
ip link add v-dns type veth peer name eth0 netns dns
ip addr add 203.0.113.1/24 dev v-dns
ip link set v-dns up
ip -n dns link set lo up
ip -n dns addr add 203.0.113.2/24 dev eth0
ip -n dns link set eth0 up
check "netem delays the DNS server's packets by 20 ms" \
	ip netns exec dns tc qdisc add dev eth0 root netem delay 20ms
ip netns exec dns dnsmasq --conf-file=/dev/null --user=root --listen-address=203.0.113.2 \
	--bind-interfaces --no-resolv --no-hosts --pid-file="$D/dnsmasq.pid" \
	--local=/fair.test/ --address=/fair.test/192.0.2.77 --local-ttl=300
rm -f /etc/resolv.conf
echo "nameserver 203.0.113.2" >/etc/resolv.conf

# nfsmigd with resolv.conf's server (its defaults), without and with a daemon.
for c in nod dmn; do
	printf '[daemon]\nsocket = %s\nstate_dir = %s\n' "$D/$c.sock" "$D/state" >"$D/$c.conf"
done
cat >/etc/request-key.d/fairdns.conf <<EOT
create dns_resolver *.kdr.fair.test * /sbin/key.dns_resolver %k
create dns_resolver *.nod.fair.test * $NMD -c $D/nod.conf -k %k
create dns_resolver *.cold.fair.test * $NMD -c $D/dmn.conf -k %k
create dns_resolver *.warm.fair.test * $NMD -c $D/dmn.conf -k %k
create dns_resolver *.noop.fair.test * /bin/keyctl negate %k 1 %S
EOT
"$NMD" -F -c "$D/dmn.conf" >"$D/nfsmigd.log" 2>&1 &
wait_for 10 test -S "$D/dmn.sock"
check_out "the name through key.dns_resolver" 192.0.2.77 \
	keyctl session - bash -c 'id=$(keyctl request2 dns_resolver srv.kdr.fair.test "" @s) &&
		keyctl print "$id"'
check_out "the daemon has the cached name" "source: daemon" \
	"$NMD" -c "$D/dmn.conf" -D srv.warm.fair.test
setup_done

t0=$(date +%s.%N)
"$B" serial "$N" srv.nod.fair.test 'c{i}.cold.fair.test' srv.warm.fair.test \
	srv.kdr.fair.test srv.noop.fair.test >"$D/bench.out" 2>&1
t1=$(date +%s.%N)
sed -e 's/^srv\.nod\.fair\.test */nfsmigd, no daemon:      /' \
	-e 's/^c{i}\.cold\.fair\.test */nfsmigd, daemon cold:    /' \
	-e 's/^srv\.warm\.fair\.test */nfsmigd, daemon cached:  /' \
	-e 's/^srv\.kdr\.fair\.test */key.dns_resolver:        /' \
	-e 's/^srv\.noop\.fair\.test */no-op handler:           /' \
	-e 's/^/NOTE - /' "$D/bench.out"
note "$((5 * N)) upcalls in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s (DNS 20 ms away; emulated, an exec costs hundreds of ms: read the differences to the no-op handler)"
check "every request was answered (the no-op handler's negated)" bash -c "
	[ \$(grep -c ' 0 failed' $D/bench.out) = 4 ] && grep -q '$N failed' $D/bench.out"
check "the zone's address, by each handler" bash -c "
	grep -q '192.0.2.77' $D/state/upcalls.log &&
	grep -q '\"by\":\"daemon-cache\"' $D/state/upcalls.log &&
	grep -q '\"by\":\"daemon\"' $D/state/upcalls.log &&
	grep -q '\"by\":\"upcall\"' $D/state/upcalls.log"
kill "$(cat "$D/dnsmasq.pid")" 2>/dev/null
finish
