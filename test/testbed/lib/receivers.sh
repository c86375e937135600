# The alert receivers: a real SMTP server (Debian's aiosmtpd, mail kept as a Maildir) and test/testbed/receivers, the
# recorder of webhook posts with its fakes of Pushover's and Slack's APIs. Both listen on loopback, where Kapacitor
# runs; tests read what arrived under $RECEIVERS_DIR. Sourced by up and down. aiosmtpd is Debian's package, so it runs
# with Debian's /usr/bin/python3, whatever python3 comes first on the PATH.

SMTP_PORT=12525
RECEIVERS_PORT=19300
RECEIVERS_DIR=$TESTBED_DIR/receivers

receivers_bin() { echo "$TESTBED_DIR/bin/receivers"; }

# receivers_build: the recorder is this checkout's own Go program, built each time up runs (a second when cached).
receivers_build() {
	mkdir -p "$TESTBED_DIR/bin"
	(cd "$TESTBED_REPO" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -o "$(receivers_bin).tmp" ./test/testbed/receivers) ||
		tb_die "building test/testbed/receivers failed"
	mv "$(receivers_bin).tmp" "$(receivers_bin)"
}

receivers_start() {
	# The Maildir's own folders: aiosmtpd's Mailbox creates them only when the Maildir itself is missing.
	mkdir -p "$RECEIVERS_DIR"/mail/{cur,new,tmp}
	servers_port_check smtp "$SMTP_PORT"
	servers_port_check receivers "$RECEIVERS_PORT"
	# aiosmtpd's Mailbox handler delivers every message into the Maildir given (new/ holds one file per mail).
	tb_start smtp "$TESTBED_DIR/log/smtp.log" /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
		-c aiosmtpd.handlers.Mailbox "$RECEIVERS_DIR/mail"
	tb_start receivers "$TESTBED_DIR/log/receivers.log" "$(receivers_bin)" -addr "127.0.0.1:$RECEIVERS_PORT" -dir "$RECEIVERS_DIR"
	tb_wait_tcp 127.0.0.1 "$SMTP_PORT" 30 || tb_die "the SMTP server did not listen on $SMTP_PORT (log: $TESTBED_DIR/log/smtp.log)"
	tb_wait_http "http://127.0.0.1:$RECEIVERS_PORT/healthz" 30 || tb_die "receivers did not answer (log: $TESTBED_DIR/log/receivers.log)"
	jq -n --arg dir "$RECEIVERS_DIR" --argjson smtp "$SMTP_PORT" --arg base "http://127.0.0.1:$RECEIVERS_PORT" \
		'{receivers: {dir: $dir, mail_dir: ($dir + "/mail"), smtp_host: "127.0.0.1", smtp_port: $smtp,
		  webhook_url: ($base + "/webhook"), pushover_url: ($base + "/pushover/1/messages.json"), slack_url: ($base + "/slack")}}' \
		> "$RECEIVERS_DIR/description.json"
	tb_fragment receivers "$RECEIVERS_DIR/description.json"
}

receivers_stop() {
	rm -f "$TESTBED_DIR/desc/receivers.json"
	tb_stop receivers
	tb_stop smtp
	rm -rf "$RECEIVERS_DIR"
}
