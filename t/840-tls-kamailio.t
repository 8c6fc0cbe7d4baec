#!/usr/bin/perl
# Kamailio's tls module as a TLS peer of sipstage (issue 9), both ways,
# each side checking the other's chain against the test CA:
#
#  - sipstage as TLS client: UDP -> sipstage -> TLS -> Kamailio, which
#    answers 200 itself; the 200 comes back over the TLS connection and
#    out over UDP;
#  - Kamailio as TLS client, with a client certificate (sipstage has
#    verify_client = 2): UDP -> Kamailio -> TLS -> sipstage -> UDP UAS;
#    the UAS sees sipstage's Via over Kamailio's TLS Via, and the 200
#    goes back the same way.
#
# Skipped, saying why, when kamailio or its tls module (Debian's
# kamailio-tls-modules, scripts/deps test list) is not installed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Proxy qw(free_ports slurp);
use Sip;
use Tcp;
use Tls;
use Watchdog ();

my ($KAM) = grep { -x } qw(/usr/sbin/kamailio /usr/local/sbin/kamailio);
my ($TLSMOD) = grep { -f } glob('/usr/lib/*/kamailio/modules/tls.so'),
    '/usr/lib/kamailio/modules/tls.so';
plan skip_all => 'kamailio with its tls module not installed '
    . '(scripts/deps test installs kamailio-tls-modules)'
    unless $KAM && $TLSMOD;

my $dir = tempdir('sipstage-kam-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
Watchdog::dir($dir);
my $pki = Tls::pki($dir);
my $T = Tcp::free_port();
my $K = Tcp::free_port();
my ($KU) = free_ports(1);
my $p = Proxy->new(sipd => 1, children => 2,
    extra => { net => [ "listen = tls:127.0.0.1:$T" ],
               tls => [ "certificate = $pki->{server}",
                        "private_key = $pki->{server_key}",
                        "ca_list = $pki->{ca}",
                        'handshake_timeout_ms = 30000', 'verify_client = 2' ] });
my $P = $p->port;

open(my $fh, '>', "$dir/tls.cfg") or die;
print $fh <<CFG;
[server:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = no
certificate = $pki->{server}
private_key = $pki->{server_key}
ca_list = $pki->{ca}

[client:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
certificate = $pki->{client}
private_key = $pki->{client_key}
ca_list = $pki->{ca}
CFG
close($fh);
open($fh, '>', "$dir/kamailio.cfg") or die;
print $fh <<CFG;
#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=1
enable_tls=yes
listen=udp:127.0.0.1:$KU
listen=tls:127.0.0.1:$K
loadmodule "pv.so"
loadmodule "sl.so"
loadmodule "tls.so"
modparam("tls", "config", "$dir/tls.cfg")
request_route {
    if (\$rU == "echo") { sl_send_reply("200", "OK from Kamailio"); exit; }
    if (\$rU == "via-sipstage") {
        \$du = "sip:127.0.0.1:$T;transport=tls";
        forward();
        exit;
    }
    forward();
}
CFG
close($fh);

my $kpid = fork() // die;
if (!$kpid) {
    POSIX::setpgid(0, 0);
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>', "$dir/kamailio.log");
    open(STDERR, '>&', \*STDOUT);
    exec($KAM, '-f', "$dir/kamailio.cfg", '-P', "$dir/kam.pid", '-DD', '-E',
         '-m', '64', '-M', '8', '-Y', "$dir") or POSIX::_exit(127);
}
POSIX::setpgid($kpid, $kpid);          # whichever of us runs first
my $kwatch = Watchdog::arm(pgrp => $kpid, what => "kamailio $K");
my $up = 0;
for (1 .. 100) {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$K", Proto => 'tcp');
    if ($s) { $up = 1; close($s); last }
    last if waitpid($kpid, WNOHANG) == $kpid;
    sleep 0.1;
}
END {
    local $?;                           # waitpid must not set our exit code
    if ($kpid) {
        kill('TERM', -$kpid);
        my $deadline = time + 5;
        sleep 0.05 while waitpid($kpid, WNOHANG) == 0 && time < $deadline;
        kill('KILL', -$kpid);
        waitpid($kpid, 0);
        Watchdog::disarm($kwatch);
    }
}
ok($up, 'kamailio listens on tls') or do {
    diag(slurp("$dir/kamailio.log") // '');
    $p->stop;
    done_testing;
    exit;
};

my $uac = $p->udp_socket;
my $U = $uac->port;
my $n = 0;
sub opt
{
    my ($ruri, $via) = @_;
    $n++;
    return Sip::msg("OPTIONS $ruri SIP/2.0", [
        "$via;branch=z9hG4bKk$n", 'Max-Forwards: 70', 'To: <sip:bob@sip.test>',
        "From: <sip:a\@sip.test>;tag=k$n", "Call-ID: kam-$n-$$",
        "CSeq: $n OPTIONS", 'Content-Length: 0' ]);
}

# ---- sipstage -> Kamailio over TLS -----------------------------------
$uac->send(opt("sip:echo\@127.0.0.1:$K;transport=tls",
               "Via: SIP/2.0/UDP 127.0.0.1:$U"), $P);
my $r = Sip::parse(scalar $uac->recv(8));
is($r->{start} // '', 'SIP/2.0 200 OK from Kamailio',
   'UDP -> sipstage -> TLS -> Kamailio: its 200 comes back')
    or diag((slurp("$dir/kamailio.log") // '') . $p->log_tail(20));
is_deeply([ $r ? Sip::hdr($r, 'Via', 'v') : () ],
          [ "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bKk$n" ],
          'the 200 carries only our client\'s Via');

# ---- Kamailio -> sipstage over TLS (mutual TLS) ------------------------
my $uas = $p->udp_socket;
my $A = $uas->port;
$uac->send(opt("sip:via-sipstage\@127.0.0.1:$A", "Via: SIP/2.0/UDP 127.0.0.1:$U"),
           $KU);
my ($m) = $uas->recv(8);
my $mp = Sip::parse($m);
my @v = $mp ? Sip::hdr($mp, 'Via', 'v') : ();
like($v[0] // '', qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P;branch=z9hG4bKsS[0-9a-f]+;cid=[0-9a-f]+$},
     'Kamailio -> TLS -> sipstage -> UDP: sipstage\'s Via, with the TLS connection id')
    or diag(slurp("$dir/kamailio.log") // '');
like($v[1] // '', qr{^Via: SIP/2\.0/TLS 127\.0\.0\.1:$K;}, 'below it Kamailio\'s TLS Via');
if ($m) {
    my @h = grep { Sip::name_of($_) =~ /^(?:via|from|to|call-id|cseq)$/ }
        @{ $mp->{headers} };
    $uas->send(Sip::msg('SIP/2.0 200 OK', [ @h, 'Content-Length: 0' ]), $P);
}
my $r2 = Sip::parse(scalar $uac->recv(8));
is($r2->{start} // '', 'SIP/2.0 200 OK',
   'the 200 goes back over sipstage\'s TLS connection to Kamailio and on');
is($p->stat('tls:verify_failed') // -1, 0,
   'Kamailio\'s client certificate passed verify_client = 2');
cmp_ok($p->stat('tls:handshakes') // 0, '>=', 2, 'a handshake each way');

$p->stop;
done_testing;
