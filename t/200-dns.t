#!/usr/bin/perl
# DNS resolution of the Request-URI (RFC 3263) through the whole pipeline:
# sipd parks the request, dnsd resolves with c-ares against a dnsmasq
# this test starts on 127.0.0.1, and the request leaves for the address
# and port DNS gave. The test plays the UAC and the UASes over UDP.
#
#   A only         sip:bob@uas-a.test:PORT      -> 127.0.0.1:PORT
#   SRV            sip:bob@uas-srv.test         -> _sip._udp SRV port
#   NAPTR -> SRV   sip:bob@uas-naptr.test       -> the SRV the NAPTR names
#                                                  (not the default one)
#   transport      sip:bob@uas-naptr.test;transport=udp skips NAPTR
#   NXDOMAIN       sip:bob@nowhere.test         -> 478 at the UAC
#   cache          a second request to uas-srv.test: dns:cache_hits
#   dead server    [dns] servers on a port nothing answers -> 503
#
# Skipped without dnsmasq (scripts/deps installs it; Debian: dnsmasq).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG _exit);
use Time::HiRes qw(time sleep);
use Proxy qw(free_ports slurp);
use Sip;
use Dnsmasq;
use Tcp;
use Watchdog ();

plan skip_all => 'dnsmasq not installed (scripts/deps installs it)'
    unless Dnsmasq::binary();

my $tmp = tempdir('sipstage-dns-XXXXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{T_LEAVE});
Watchdog::dir($tmp);                    # also when the test dies hard
my $dm_pid;

sub dnsmasq { return Dnsmasq::start($tmp, @_) }

END { Dnsmasq::stop($dm_pid) }         # disarms its watchdog too

# Four UAS sockets: A, SRV, NAPTR's SRV, and the decoy default SRV that
# must not be used when the NAPTR points elsewhere.
my %uas = map { $_ => Proxy::UDP->new } qw(a srv naptr decoy);
my %port = map { $_ => $uas{$_}->port } keys %uas;
my $dport = Tcp::free_port();   # dnsmasq binds UDP and TCP

$dm_pid = dnsmasq($dport,
    '--host-record=uas-a.test,127.0.0.1',
    "--srv-host=_sip._udp.uas-srv.test,uas-a.test,$port{srv},10,0",
    '--naptr-record=uas-naptr.test,10,10,S,SIP+D2U,,'
        . '_sip._udp.pool.uas-naptr.test',
    "--srv-host=_sip._udp.pool.uas-naptr.test,uas-a.test,$port{naptr},10,0",
    "--srv-host=_sip._udp.uas-naptr.test,uas-a.test,$port{decoy},10,0");
BAIL_OUT('dnsmasq did not start') unless $dm_pid;

my $p = Proxy->new(sipd => 1, children => 2,
                   extra => { dns => [ "servers = 127.0.0.1:$dport",
                                       'timeout_ms = 1000', 'tries = 1' ] });
my $P = $p->port;
my $uac = $p->udp_socket;
my $U = $uac->port;
my $seq = 0;

sub request
{
    my ($ruri, $method) = @_;
    my $n = ++$seq;
    $method //= 'OPTIONS';
    return Sip::msg("$method $ruri SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-dns-$n;rport",
        'Max-Forwards: 70',
        "From: <sip:alice\@127.0.0.1:$U>;tag=d$n",
        "To: <$ruri>",
        "Call-ID: dns-$n-$$\@127.0.0.1",
        "CSeq: 1 $method",
        "Contact: <sip:alice\@127.0.0.1:$U>",
        'Content-Length: 0',
    ], '');
}

# forwarded_to(NAME, RURI, WHICH) - send from the UAC; the UAS WHICH must
# get the request (same request line, our Via on top) and no other UAS
sub forwarded_to
{
    my ($name, $ruri, $which) = @_;
    my $req = request($ruri);
    $uac->send($req, $P);
    my ($got, $from) = $uas{$which}->recv(5);
    ok(defined $got, "$name: request reached the UAS on port $port{$which}")
        or do {
            my ($r) = $uac->recv(0.2);
            diag("UAC got instead: " . Sip::show($r));
            return;
        };
    is($from, $P, "$name: sent from the proxy's port");
    my $g = Sip::parse($got);
    is($g && $g->{start}, "OPTIONS $ruri SIP/2.0",
       "$name: Request-URI unchanged");
    like(($g && $g->{headers}[0]) // '',
         qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P;branch=z9hG4bK},
         "$name: our Via on top");
    for my $o (grep { $_ ne $which } sort keys %uas) {
        my ($x) = $uas{$o}->recv(0.05);
        ok(!defined $x, "$name: nothing at the $o UAS") or last;
    }
}

# replied(NAME, RURI, CODE) - the UAC must get CODE back, no UAS anything
sub replied
{
    my ($name, $ruri, $code) = @_;
    $uac->send(request($ruri), $P);
    my ($r) = $uac->recv(5);
    is(Sip::status($r), $code, "$name: $code at the UAC")
        or diag(Sip::show($r));
    my $sl = defined $r ? (split(/\r\n/, $r))[0] : '';
    note("reply: $sl");
    my @any = grep { defined(($uas{$_}->recv(0.05))[0]) } sort keys %uas;
    ok(!@any, "$name: nothing forwarded") or diag("forwarded to @any");
}

forwarded_to('A only (port in URI)', "sip:bob\@uas-a.test:$port{a}", 'a');
forwarded_to('SRV (no port, no NAPTR)', 'sip:bob@uas-srv.test', 'srv');
forwarded_to('NAPTR -> SRV -> A', 'sip:bob@uas-naptr.test', 'naptr');
forwarded_to('transport=udp: SRV without NAPTR',
             'sip:bob@uas-naptr.test;transport=udp', 'decoy');
forwarded_to('names are case-insensitive', "sip:bob\@UAS-A.Test:$port{a}",
             'a');
replied('NXDOMAIN', 'sip:bob@nowhere.test', 478);

my $hits0 = $p->stat('dns:cache_hits') // 0;
forwarded_to('SRV again (cached)', 'sip:bob@uas-srv.test', 'srv');
my $hits = $p->wait_stat('dns:cache_hits', $hits0 + 1, 2);
ok(defined $hits && $hits > $hits0,
   "dns:cache_hits went up ($hits0 -> " . ($hits // 'undef') . ')');

my $q = $p->wait_stat('dns:queries', 7, 2);
ok(defined $q && $q >= 7, "dns:queries counts them (" . ($q // 'undef')
   . ')');
my $a = $p->wait_stat('dns:answers', $q // 7, 2);
is($a, $q, 'dns:answers == dns:queries');
my $f = $p->stat('dns:failures');
is($f, 1, 'dns:failures: the NXDOMAIN one');
$p->stop;

# A [dns] server that never answers: 503 (sipd's TIMEOUT mapping), and
# quickly (timeout_ms 300 x 1 try, NAPTR step only).
my $sink = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
                                 LocalPort => 0) or die "udp: $!";
my $p2 = Proxy->new(sipd => 1, children => 1,
                    extra => { dns => [ 'servers = 127.0.0.1:'
                                        . $sink->sockport,
                                        'timeout_ms = 300', 'tries = 1' ] });
($P, $uac) = ($p2->port, $p2->udp_socket);
$U = $uac->port;
my $t0 = time;
replied('DNS server silent', 'sip:bob@uas-a.test', 503);
ok(time - $t0 < 3, sprintf('503 within %.1f s', time - $t0));
is($p2->stat('dns:failures'), 1, 'dns:failures counts the timeout');
$p2->stop;

done_testing;
