#!/usr/bin/perl
# TLS hostile peers (issue 9). Each costs only its own connection, with a
# log line and a counter, while a well-behaved TLS client connected
# first keeps being served (checked after every case):
#
#  - a handshake that never completes (a partial ClientHello, then
#    nothing): closed after handshake_timeout_ms, 2 s here
#    (tls:handshake_timeouts);
#  - garbage instead of a ClientHello (an HTTP request): closed at once
#    (tls:handshake_failed);
#  - a renegotiation attempt (openssl s_client -tls1_2, "R"): refused
#    and the connection closed (tls:renegotiations_refused);
#  - an oversized certificate chain (over 32 KiB, verify_client = 1):
#    the handshake fails (tls:handshake_failed, "excessive message
#    size");
#  - many connections: the TCP limits apply to TLS (tcp_max_connections
#    _per_ip: tcp:connections_refused_per_ip).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Watchdog;
use Time::HiRes qw(sleep time);
use Proxy qw(slurp);
use Sip;
use Tcp;
use Tls;

$SIG{PIPE} = 'IGNORE';
my $dir = tempdir('sipstage-tlsh-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
Watchdog::dir($dir);                 # removed if the test dies
my $pki = Tls::pki($dir);
my $T = Tcp::free_port();
my $p = Proxy->new(sipd => 1, children => 2, log_ok => qr/never/,
    extra => { net => [ "listen = tls:127.0.0.1:$T",
                        'tcp_max_connections_per_ip = 8' ],
               tls => [ "certificate = $pki->{server}",
                        "private_key = $pki->{server_key}",
                        "ca_list = $pki->{ca}", 'verify_client = 1',
                        'handshake_timeout_ms = 2000' ] });
my $uas = $p->udp_socket;
my $A = $uas->port;
my $n = 0;

my $good = Tls->client($T, ca => $pki->{ca}, name => 'sip.test',
                       cert => $pki->{client}, key => $pki->{client_key});
like($good->{tls}, qr/^ok /, 'the good client is connected');

# served - the good client's request still reaches the UAS
sub served
{
    my ($what) = @_;
    $n++;
    $good->send(Sip::msg("OPTIONS sip:bob\@127.0.0.1:$A SIP/2.0", [
        "Via: SIP/2.0/TLS client.test;branch=z9hG4bKg$n", 'Max-Forwards: 70',
        'To: <sip:bob@sip.test>', "From: <sip:g\@sip.test>;tag=$n",
        "Call-ID: good-$n-$$", "CSeq: $n OPTIONS", 'Content-Length: 0' ]));
    my ($m) = $uas->recv(5);
    ok($m && $m =~ /^OPTIONS /, "the good client is still served ($what)");
}

served('at start');

# ---- handshake slowloris ----------------------------------------------
my $slow = Tcp->connect($T);
$slow->send("\x16\x03\x01\x02\x00\x01");   # a ClientHello that stops
my $t0 = time;
ok($slow->closed(10), 'partial ClientHello: closed');
cmp_ok(time - $t0, '>=', 1.5, 'not before handshake_timeout_ms (2000 ms)');
is($p->wait_stat('tls:handshake_timeouts', 1), 1, 'tls:handshake_timeouts');
like($p->log, qr/tls conn \d+ \(127\.0\.0\.1:\d+\): handshake not complete after 2000 ms/,
     'log: the slow handshake, naming the connection');
served('after the slow handshake');

# ---- garbage -------------------------------------------------------------
my $f0 = $p->stat('tls:handshake_failed') // 0;
my $junk = Tcp->connect($T);
$junk->send("GET / HTTP/1.0\r\nHost: x\r\n\r\n");
ok($junk->closed(3), 'garbage instead of a ClientHello: closed');
is($p->wait_stat('tls:handshake_failed', $f0 + 1), $f0 + 1, 'tls:handshake_failed');
like($p->log, qr/tls conn \d+ \(127\.0\.0\.1:\d+\): handshake failed: [^\n]*(?:http request|wrong version number|unknown protocol)/,
     'log: garbage, with OpenSSL\'s reason');
served('after the garbage');

# ---- renegotiation -----------------------------------------------------
SKIP: {
    my $out = "$dir/s_client.out";
    my $pid = open(my $sc, '|-', "exec openssl s_client -connect 127.0.0.1:$T "
                   . "-tls1_2 -CAfile $pki->{ca} -servername sip.test "
                   . "-cert $pki->{client} -key $pki->{client_key} "
                   . ">$out 2>&1");
    skip 'openssl s_client did not start', 3 unless $pid;
    my $deadline = time + 5;
    sleep 0.1 until (slurp($out) // "") =~ /Verify return code/ || time > $deadline;
    $sc->autoflush(1);
    print $sc "R\n";
    is($p->wait_stat('tls:renegotiations_refused', 1, 5), 1,
       'renegotiation attempt: tls:renegotiations_refused');
    $deadline = time + 5;
    sleep 0.1 until (slurp($out) // "") =~ /closed|errno|alert|error/i
                     || time > $deadline;
    like(slurp($out) // "", qr/RENEGOTIATING/, 's_client did try to renegotiate');
    like($p->log, qr/tls conn \d+ \(127\.0\.0\.1:\d+\): renegotiation attempt refused: closed/,
         'log: the renegotiation attempt');
    kill('TERM', $pid);
    close($sc);
}
served('after the renegotiation attempt');

# ---- oversized certificate chain -----------------------------------------
$f0 = $p->stat('tls:handshake_failed') // 0;
my $big = Tls->client($T, ca => $pki->{ca}, name => 'sip.test',
                      cert => $pki->{bigchain}, key => $pki->{client_key});
is($p->wait_stat('tls:handshake_failed', $f0 + 1, 5), $f0 + 1,
   'a 50 KiB client chain: handshake failed');
like($p->log, qr/handshake failed: [^\n]*excessive message size/,
     'log: excessive message size (SSL_CTX_set_max_cert_list)');
$big->stop;
served('after the oversized chain');

# ---- many connections ------------------------------------------------------
my $r0 = $p->stat('tcp:connections_refused_per_ip') // 0;
my @many = grep { defined } map { Tcp->connect($T) } 1 .. 12;
my $closed = grep { $_->closed(2) } @many;
cmp_ok($closed, '>=', 5, "12 more connections from one IP: the ones past "
       . "tcp_max_connections_per_ip (8) closed ($closed)");
cmp_ok($p->stat('tcp:connections_refused_per_ip') // 0, '>=', $r0 + 5,
       'tcp:connections_refused_per_ip counts them');
served('while the flood holds its connections');
$_->close for @many;
# the flood's connections that stayed open die by handshake_timeout_ms
cmp_ok($p->wait_stat('tls:handshake_timeouts', 4, 10), '>=', 4,
       'the silent ones are closed by handshake_timeout_ms');
served('at the end');

$good->stop;
$p->stop;
done_testing;
