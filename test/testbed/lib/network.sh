# The bed's private network: a bridge whose gateway address the hosts in network namespaces reach, and forwarders
# from that gateway to servers that listen only on loopback.

network_up() {
	if ! ip link show "$TESTBED_BRIDGE" >/dev/null 2>&1; then
		ip link add "$TESTBED_BRIDGE" type bridge
		ip addr add "$TESTBED_GATEWAY/16" dev "$TESTBED_BRIDGE"
	fi
	ip link set "$TESTBED_BRIDGE" up
}

# network_forward NAME PORT: make 127.0.0.1:PORT reachable as $TESTBED_GATEWAY:PORT.
network_forward() {
	tb_start "fwd-$1" "$TESTBED_DIR/log/fwd-$1.log" \
		socat "TCP-LISTEN:$2,bind=$TESTBED_GATEWAY,reuseaddr,fork" "TCP:127.0.0.1:$2"
	tb_wait_tcp "$TESTBED_GATEWAY" "$2" 10 || tb_die "forwarder $1 did not listen on $TESTBED_GATEWAY:$2"
}

network_down() {
	local f
	for f in "$TESTBED_DIR"/pids/fwd-*; do [ -e "$f" ] && tb_stop "$(basename "$f")"; done
	if ip link show "$TESTBED_BRIDGE" >/dev/null 2>&1; then ip link del "$TESTBED_BRIDGE"; fi
	return 0
}
