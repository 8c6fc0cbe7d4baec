#!/usr/bin/perl
# TLS transport (issue 9): relaying between UDP and TLS and TLS to TLS,
# against real TLS peers (Python's ssl module, t/tools/tls_peer.py) with
# a CA and certificates the test makes with openssl. Bytes checked:
#
#  - UDP -> TLS: sip:...;transport=tls leaves over TLS with "Via:
#    SIP/2.0/TLS 127.0.0.1:T" on top, Record-Route ";transport=tls" on
#    top of the UDP side's; the server's 200 comes back over UDP without
#    our Via; the outgoing connection checked the server's chain and its
#    IP SAN (verify_server = 1);
#  - TLS -> UDP: a TLS client (checking our certificate: CA and name)
#    sends an INVITE; Via UDP with ;cid=, Record-Route pair; the 200 goes
#    back on the client's TLS connection;
#  - TLS -> TLS: sips: Request-URI, sips: Record-Route;
#  - the sips downgrade: a sips: request to an IPv6 target with TLS on
#    IPv4 only gets 480 with Warning 380 (sipd:sips_refused), and one
#    from a proxy without TLS (the UDP-only second proxy) too;
#  - the counters: tls:handshakes, tcp:connections_open covers TLS.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Watchdog;
use Proxy qw(free_ports);
use Sip;
use Tcp;
use Tls;

my $dir = tempdir('sipstage-tls-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);

Watchdog::dir($dir);                 # removed if the test dies
my $pki = Tls::pki($dir);
my ($T) = Tcp::free_port();
my $p = Proxy->new(sipd => 1, children => 2, record_route => 1,
                   extra => { net => [ "listen = tls:127.0.0.1:$T" ],
                              tls => [ "certificate = $pki->{server}",
                                       "private_key = $pki->{server_key}",
                                       "ca_list = $pki->{ca}",
                        'handshake_timeout_ms = 30000' ] });
my $P = $p->port;

my $seq = 0;
sub req
{
    my (%o) = @_;
    my $n = ++$seq;
    my $m = $o{method} // 'INVITE';
    return Sip::msg("$m $o{ruri} SIP/2.0", [
        @{ $o{via} }, 'Max-Forwards: 70', 'To: <sip:bob@sip.test>',
        "From: <sip:alice\@sip.test>;tag=a$n", "Call-ID: tls-$n-$$\@test",
        "CSeq: $n $m", 'Contact: <sip:alice@127.0.0.1>',
        'Content-Length: AUTO' ], $o{body} // '');
}

sub reply_to
{
    my ($bytes, $code) = @_;
    my $q = Sip::parse($bytes);
    my @h = grep { Sip::name_of($_) =~ /^(?:via|v|from|f|to|t|call-id|i|cseq|record-route)$/ }
        @{ $q->{headers} };
    return Sip::msg("SIP/2.0 $code OK", [ @h, 'Content-Length: 0' ]);
}

my $br = qr/branch=z9hG4bKsS[0-9a-f]+/;

# ---- UDP -> TLS ------------------------------------------------------
my $srv = Tls->server(cert => $pki->{server}, key => $pki->{server_key});
my $S = $srv->port;
my $uac = $p->udp_socket;
my $U = $uac->port;
my $via_c = "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bKu1";
$uac->send(req(ruri => "sip:bob\@127.0.0.1:$S;transport=tls", via => [$via_c],
               body => 'v=0'), $P);
my $conn = $srv->accept(5);
ok($conn, 'udp->tls: the proxy connected to the TLS server');
like($srv->line(3) // '', qr/^accepted ok TLSv1\.[23] /,
     'udp->tls: handshake with the Python server done (it checked nothing, '
     . 'the proxy checked its chain and IP SAN)');
my $got = $conn ? $conn->recv_msg(5) : undef;
my $g = Sip::parse($got);
ok($g, 'udp->tls: the request arrived over TLS, framed');
my @via = $g ? Sip::hdr($g, 'Via', 'v') : ();
like($via[0] // '', qr{^Via: SIP/2\.0/TLS 127\.0\.0\.1:$T;$br$},
     'udp->tls: our Via says TLS and names the tls listen address');
is($via[1] // '', $via_c, 'udp->tls: sender Via below, unchanged');
is_deeply([ $g ? Sip::hdr($g, 'Record-Route') : () ],
          [ "Record-Route: <sip:127.0.0.1:$T;transport=tls;r2=on;lr>",
            "Record-Route: <sip:127.0.0.1:$P;r2=on;lr>" ],
          'udp->tls: Record-Route ;transport=tls on top, UDP side below');
is($g->{body} // '', 'v=0', 'udp->tls: body intact');
$conn->send(reply_to($got, 200)) if $got;
my ($r) = $uac->recv(5);
my $rp = Sip::parse($r);
is($rp->{start} // '', 'SIP/2.0 200 OK', 'udp->tls: 200 relayed back over UDP');
is_deeply([ $rp ? Sip::hdr($rp, 'Via', 'v') : () ],
          [ $via_c ], 'udp->tls: only the sender Via left');
# a second request reuses the connection
$uac->send(req(ruri => "sip:bob\@127.0.0.1:$S;transport=tls", via => [$via_c]),
           $P);
ok($conn && $conn->recv_msg(5), 'udp->tls: second request on the same connection');
ok(!$srv->accept(0.3), 'udp->tls: no second TLS connection');

# ---- TLS -> UDP ------------------------------------------------------
my $uas = $p->udp_socket;
my $A = $uas->port;
my $c = Tls->client($T, ca => $pki->{ca}, name => 'sip.test');
like($c->{tls}, qr/^ok TLSv1\.[23] /,
     'tls->udp: client handshake, our chain and name sip.test verified');
my $via_t = 'Via: SIP/2.0/TLS client.test:5061;branch=z9hG4bKt1';
$c->send(req(ruri => "sip:bob\@127.0.0.1:$A", via => [$via_t], body => 'x'));
my ($u) = $uas->recv(5);
my $up = Sip::parse($u);
my @uv = $up ? Sip::hdr($up, 'Via', 'v') : ();
like($uv[0] // '', qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P;$br;cid=[0-9a-f]+$},
     'tls->udp: our Via says UDP and carries the connection id');
is($uv[1] // '', "$via_t;received=127.0.0.1",
   'tls->udp: sender Via gets received (sent-by is a name)');
is_deeply([ $up ? Sip::hdr($up, 'Record-Route') : () ],
          [ "Record-Route: <sip:127.0.0.1:$P;r2=on;lr>",
            "Record-Route: <sip:127.0.0.1:$T;transport=tls;r2=on;lr>" ],
          'tls->udp: UDP side on top, the TLS side below with ;transport=tls');
$uas->send(reply_to($u, 200), $P) if $u;
my $back = $c->recv_msg(5);
my $bp = Sip::parse($back);
is($bp->{start} // '', 'SIP/2.0 200 OK', 'tls->udp: 200 back on the TLS connection');
is_deeply([ $bp ? Sip::hdr($bp, 'Via', 'v') : () ],
          [ "$via_t;received=127.0.0.1" ], 'tls->udp: only the sender Via');

# ---- TLS -> TLS, sips: ---------------------------------------------------
$c->send(req(ruri => "sips:bob\@127.0.0.1:$S", via => [$via_t]));
my $conn2 = $conn;                  # the proxy's connection to $S is reused
my $tt = $conn2 ? $conn2->recv_msg(5) : undef;
my $tp = Sip::parse($tt);
ok($tp, 'tls->tls: sips: request relayed over TLS');
my @tv = $tp ? Sip::hdr($tp, 'Via', 'v') : ();
like($tv[0] // '', qr{^Via: SIP/2\.0/TLS 127\.0\.0\.1:$T;$br;cid=[0-9a-f]+$},
     'tls->tls: Via TLS with the incoming connection id');
is_deeply([ $tp ? Sip::hdr($tp, 'Record-Route') : () ],
          [ "Record-Route: <sips:127.0.0.1:$T;lr>" ],
          'tls->tls: one Record-Route, a sips: URI (RFC 3261 16.6 step 4)');
$conn2->send(reply_to($tt, 200)) if $tt;
my $b2 = Sip::parse($c->recv_msg(5));
is($b2->{start} // '', 'SIP/2.0 200 OK', 'tls->tls: 200 back to the TLS client');

# ---- the sips downgrade ----------------------------------------------
my $via_u = "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bKd1";
my $before = $p->stat('sipd:sips_refused') // 0;
$uac->send(req(ruri => 'sips:bob@[::1]:5061', via => [$via_u]), $P);
my $dr = Sip::parse(scalar $uac->recv(5));
is($dr->{start} // '', 'SIP/2.0 480 Temporarily Unavailable',
   'sips: to IPv6 with TLS on IPv4 only: 480, never over UDP');
is_deeply([ $dr ? Sip::hdr($dr, 'Warning') : () ],
          [ 'Warning: 380 sipstage "SIPS Not Allowed"' ],
          'the 480 carries Warning 380 SIPS Not Allowed (RFC 5630 5.3)');
is($p->wait_stat('sipd:sips_refused', $before + 1), $before + 1,
   'sipd:sips_refused counts it');
# sips: whose Route says sip: over UDP still leaves over TLS
$uac->send(Sip::msg("INVITE sips:bob\@127.0.0.1:$S SIP/2.0", [
    $via_u, "Route: <sip:127.0.0.1:$S;transport=udp;lr>", 'Max-Forwards: 70',
    'To: <sips:bob@sip.test>', 'From: <sips:a@sip.test>;tag=r1',
    "Call-ID: route-$$", 'CSeq: 1 INVITE', 'Content-Length: 0' ]), $P);
my $rt = $conn ? Sip::parse($conn->recv_msg(5)) : undef;
like(($rt ? (Sip::hdr($rt, 'Via', 'v'))[0] : '') // '',
     qr{^Via: SIP/2\.0/TLS },
     'sips: with a sip: Route ;transport=udp: forwarded over TLS anyway');

my $q = Proxy->new(sipd => 1, children => 1);
$uac->send(req(ruri => "sips:bob\@127.0.0.1:$S", via => [$via_u]), $q->port);
my $qr = Sip::parse(scalar $uac->recv(5));
is($qr->{start} // '', 'SIP/2.0 480 Temporarily Unavailable',
   'a proxy without TLS answers a sips: request 480 (no downgrade)');
$q->stop;

# ---- counters ------------------------------------------------------------
cmp_ok($p->stat('tls:handshakes') // 0, '>=', 2,
       'tls:handshakes counts both directions');
is($p->stat('tls:handshake_failed') // -1, 0, 'no handshake failed');
cmp_ok($p->stat('tcp:connections_open') // 0, '>=', 2,
       'tcp:connections_open counts the TLS connections');

$srv->stop;
$p->stop;
done_testing;
