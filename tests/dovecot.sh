# dovecot.sh - a private Dovecot for the bfetch tests.
#
# Sourced by a test after lib.sh.  dovecot_start makes a directory of its
# own with a private CA, a server certificate for 127.0.0.1, a passwd-file
# user and a Maildir, writes a configuration that listens on free
# loopback ports only, and starts the server; it is stopped when the
# test exits, whatever happens.  As root the mail user is "nobody"
# (Dovecot refuses mail access as root); otherwise everything runs as the
# invoking user.
#
# After dovecot_start:
#   DV_DIR        the server's directory (config, log, certificates)
#   DV_CA         the CA certificate that signed the server's
#   DV_USER DV_PASS   the mail account
#   DV_MAILDIR    the account's Maildir
#   DV_IMAP DV_IMAPS DV_POP3 DV_POP3S   the ports
#   DV_NETRC      a netrc file (mode 600) with the account for 127.0.0.1
#
# Set DV_CAPS before dovecot_start to make the IMAP server announce only
# those capabilities (to test what a client does without ESEARCH, MOVE
# or UIDPLUS).

DOVECOT=
for d in /usr/sbin/dovecot /usr/local/sbin/dovecot; do
	[ -x "$d" ] && { DOVECOT=$d; break; }
done
[ -n "$DOVECOT" ] || DOVECOT=$(command -v dovecot 2>/dev/null)

# Skip the whole test unless a Dovecot and openssl can be used.
dovecot_require() {
	[ -n "$DOVECOT" ] ||
	    skip_all "dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)"
	[ -x /usr/lib/dovecot/imap ] || skip_all "dovecot-imapd is not installed"
	[ -x /usr/lib/dovecot/pop3 ] || skip_all "dovecot-pop3d is not installed"
	command -v openssl >/dev/null 2>&1 || skip_all "openssl is not installed"
	command -v perl >/dev/null 2>&1 || skip_all "perl is not installed"
}

# Four free TCP ports on 127.0.0.1, held open together so they differ.
dv_ports() {
	perl -MIO::Socket::INET -e '
	    for (1 .. 4) {
		my $s = IO::Socket::INET->new(Listen => 1, ReuseAddr => 1,
		    LocalAddr => "127.0.0.1", LocalPort => 0) or die "$!\n";
		push @s, $s;
	    }
	    print join(" ", map { $_->sockport } @s), "\n";'
}

# Is something listening on 127.0.0.1:$1?
dv_listening() {
	perl -MIO::Socket::INET -e '
	    exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		PeerPort => $ARGV[0], Timeout => 2) ? 0 : 1)' "$1"
}

dv_certs() {
	(
	cd "$DV_DIR" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
	    -subj "/CN=bounce test CA" -keyout ca.key -out ca.crt \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign || exit 1
	openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=127.0.0.1" \
	    -keyout server.key -out server.csr || exit 1
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    "extendedKeyUsage=serverAuth" >server.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
	    -CAcreateserial -days 30 -sha256 -extfile server.ext \
	    -out server.crt || exit 1
	# A second CA that signed nothing: "the wrong CA" for the tests.
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
	    -subj "/CN=some other CA" -keyout other.key -out other.crt \
	    -addext basicConstraints=critical,CA:TRUE || exit 1
	) >"$DV_DIR/openssl.log" 2>&1
}

dv_config() {	# dv_config IMAP IMAPS POP3 POP3S
	cat >"$DV_DIR/dovecot.conf" <<EOF
# Written by tests/dovecot.sh for one test run.
protocols = imap pop3
listen = 127.0.0.1
base_dir = $DV_DIR/run
state_dir = $DV_DIR/state
log_path = $DV_DIR/dovecot.log
info_log_path = $DV_DIR/dovecot.log
default_internal_user = $DV_SYSUSER
default_internal_group = $DV_SYSGROUP
default_login_user = $DV_SYSUSER
first_valid_uid = 1
first_valid_gid = 1
ssl = yes
ssl_cert = <$DV_DIR/server.crt
ssl_key = <$DV_DIR/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DV_DIR/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $DV_DIR/passwd
}
mail_location = maildir:$DV_MAILDIR
${DV_CAPS:+imap_capability = $DV_CAPS}
pop3_uidl_format = %08Xv%08Xu
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $1
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $2
    ssl = yes
  }
}
service pop3-login {
  chroot =
  inet_listener pop3 {
    address = 127.0.0.1
    port = $3
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $4
    ssl = yes
  }
}
# No growing delay after the failed logins the tests make on purpose.
service anvil {
  chroot =
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-urlauth-login {
  chroot =
}
EOF
}

dovecot_start() {
	DV_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bounce-dovecot.XXXXXX") || return 1
	DV_USER=bounce
	DV_PASS='s3cret pass'
	DV_MAILDIR=$DV_DIR/Maildir
	if [ "$(id -u)" = 0 ]; then
		DV_SYSUSER=dovecot
		DV_SYSGROUP=dovecot
		getent passwd dovecot >/dev/null || DV_SYSUSER=nobody
		getent group dovecot >/dev/null || DV_SYSGROUP=nogroup
		DV_UID=$(id -u nobody) DV_GID=$(id -g nobody)
		# The mail user must reach its Maildir through DV_DIR.
		chmod 711 "$DV_DIR"
	else
		DV_SYSUSER=$(id -un) DV_SYSGROUP=$(id -gn)
		DV_UID=$(id -u) DV_GID=$(id -g)
	fi
	dv_certs || { cat "$DV_DIR/openssl.log"; return 1; }
	DV_CA=$DV_DIR/ca.crt
	DV_OTHERCA=$DV_DIR/other.crt
	mkdir -p "$DV_MAILDIR/new" "$DV_MAILDIR/cur" "$DV_MAILDIR/tmp" \
	    "$DV_DIR/home"
	printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$DV_USER" "$DV_PASS" \
	    "$DV_UID" "$DV_GID" "$DV_DIR/home" >"$DV_DIR/passwd"
	dv_own
	printf 'machine 127.0.0.1 login %s password "%s"\n' \
	    "$DV_USER" "$DV_PASS" >"$DV_DIR/netrc"
	chmod 600 "$DV_DIR/netrc"
	DV_NETRC=$DV_DIR/netrc
	trap 'dovecot_stop; rm -rf "$T"' EXIT
	trap 'exit 1' HUP INT TERM
	for try in 1 2 3; do
		set -- $(dv_ports)
		DV_IMAP=$1 DV_IMAPS=$2 DV_POP3=$3 DV_POP3S=$4
		dv_config "$@"
		"$DOVECOT" -c "$DV_DIR/dovecot.conf" >>"$DV_DIR/start.log" 2>&1 ||
		    continue
		for i in $(seq 1 100); do
			if dv_listening "$DV_IMAP" && dv_listening "$DV_IMAPS" &&
			    dv_listening "$DV_POP3" && dv_listening "$DV_POP3S"
			then
				return 0
			fi
			[ -f "$DV_DIR/run/master.pid" ] || break
			sleep 0.1
		done
		dovecot_stop
	done
	echo "# dovecot did not start:"
	sed 's/^/# /' "$DV_DIR/start.log" "$DV_DIR/dovecot.log" 2>/dev/null
	return 1
}

# The Maildir belongs to the mail user (only matters as root).
dv_own() {
	[ "$(id -u)" = 0 ] && chown -R "$DV_UID:$DV_GID" "$DV_MAILDIR" \
	    "$DV_DIR/home"
	return 0
}

dovecot_stop() {
	[ -n "$DV_DIR" ] || return 0
	if [ -f "$DV_DIR/run/master.pid" ]; then
		pid=$(cat "$DV_DIR/run/master.pid")
		kill "$pid" 2>/dev/null
		# Wait (boundedly) for the master to go, so its directory can
		# be removed.
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	fi
	rm -rf "$DV_DIR"
	DV_DIR=
}

# dovecot_fill N [PREFIX]: add N messages to the Maildir, each with a
# unique Message-ID <PREFIX.I@test.invalid>, written as an MTA would (in
# new/, CRLF-free).
dovecot_fill() {
	perl -e '
	    my ($dir, $n, $p) = @ARGV;
	    for my $i (1 .. $n) {
		my $name = sprintf "%d.%s%06d.test", time, $p, $i;
		my ($f, $g) = ("$dir/tmp/$name", "$dir/new/$name");
		open my $fh, ">", $f or die "$f: $!\n";
		print $fh "From: MAILER-DAEMON\@test.invalid\n",
		    "To: bounce\@test.invalid\n",
		    "Subject: Undelivered Mail Returned to Sender $i\n",
		    "Message-ID: <$p.$i\@test.invalid>\n",
		    "Date: Tue, 04 Nov 2014 15:01:16 +0000\n",
		    "\n",
		    "This is message $i of $p.\n",
		    "..a line that starts with a dot\n",
		    ".\n",
		    "The end.\n";
		close $fh or die "$f: $!\n";
		rename $f, $g or die "$g: $!\n";
	    }' "$DV_MAILDIR" "$1" "${2:-m}" && dv_own
}

# The number of messages in the account's Maildir.
dovecot_count() {
	find "$DV_MAILDIR/new" "$DV_MAILDIR/cur" -type f | wc -l | tr -d ' '
}
