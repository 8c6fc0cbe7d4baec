#!/usr/bin/perl
# TCP transport (issue 4): the proxy listens on udp and tcp on one port.
# The test plays UAC and UAS itself and checks bytes:
#
#  - UDP -> TCP: a request to sip:...;transport=tcp leaves over TCP with
#    "Via: SIP/2.0/TCP 127.0.0.1:P;branch=..." on top and the sender's
#    Via below with received/rport; the response comes back over the
#    same connection and leaves over UDP without our Via;
#  - TCP -> UDP: the new Via says UDP; the sender's Via gets
#    received/rport; our Via carries ;cid= and the response goes back
#    on the request's connection;
#  - two messages in one segment, one message in pieces with pauses;
#  - an RFC 5626 double-CRLF ping is answered with one CRLF;
#  - a second request to the same TCP peer reuses the connection;
#  - RFC 3261 18.1.1: a request over 1300 bytes to an IP with no
#    transport leaves over TCP;
#  - several interfaces: with udp on two ports, a response to a request
#    that came in on the second goes out from it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy qw(free_ports);
use Sip;
use Tcp;

my ($P2) = free_ports(1);
# listen: udp P, tcp P (Proxy.pm's, tcp => 1), udp P2
my $p = Proxy->new(sipd => 1, children => 2, tcp => 1,
                   extra => { net => [ "listen = udp:127.0.0.1:$P2" ] });
my $P = $p->port;

my $uac = $p->udp_socket;
my $U = $uac->port;
my $seq = 0;

sub req
{
    my (%o) = @_;
    my $n = ++$seq;
    my $m = $o{method} // 'OPTIONS';
    my $body = $o{body} // '';
    return Sip::msg("$m $o{ruri} SIP/2.0", [
        @{ $o{via} },
        'Max-Forwards: 70',
        'To: <sip:bob@example.com>',
        "From: <sip:alice\@example.com>;tag=a$n",
        "Call-ID: tcp-$n-$$\@test",
        "CSeq: $n $m",
        ($body ne '' ? 'Content-Type: text/plain' : ()),
        'Content-Length: AUTO' ], $body);
}

sub reply_to
{
    my ($bytes, $code) = @_;
    my $q = Sip::parse($bytes);
    my @h = grep { Sip::name_of($_) =~ /^(?:via|v|from|f|to|t|call-id|i|cseq)$/ }
        @{ $q->{headers} };
    return Sip::msg("SIP/2.0 $code OK", [ @h, 'Content-Length: 0' ]);
}

my $ourvia_tcp = qr{^Via: SIP/2\.0/TCP 127\.0\.0\.1:$P;branch=z9hG4bKsS[0-9a-f]+$};
my $ourvia_udp_cid = qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P;branch=z9hG4bKsS[0-9a-f]+;cid=[0-9a-f]+$};

# ---- UDP -> TCP ----------------------------------------------------------
my $uas = Tcp->listen;
my $T = $uas->port;
my $via_c = "Via: SIP/2.0/UDP 127.0.0.1:$U;rport;branch=z9hG4bKc1";
$uac->send(req(ruri => "sip:bob\@127.0.0.1:$T;transport=tcp",
               via => [$via_c], body => "hello"), $P);
my $conn = $uas->accept(3);
ok($conn, 'udp->tcp: the proxy connected to the TCP UAS');
my $got = $conn ? $conn->recv_msg(3) : undef;
my $g = Sip::parse($got);
ok($g, 'udp->tcp: request arrived framed');
my @via = $g ? Sip::hdr($g, 'Via', 'v') : ();
like($via[0] // '', $ourvia_tcp, 'udp->tcp: our Via names TCP and the tcp listen address');
is($via[1] // '', "Via: SIP/2.0/UDP 127.0.0.1:$U;rport=$U;branch=z9hG4bKc1;received=127.0.0.1",
   'udp->tcp: sender Via gets rport and received');
is($g->{body} // '', 'hello', 'udp->tcp: body intact');
$conn->send(reply_to($got, 200)) if $got;
my ($r) = $uac->recv(3);
my $rp = Sip::parse($r);
ok($rp && $rp->{start} eq 'SIP/2.0 200 OK', 'udp->tcp: 200 relayed back over UDP');
is_deeply([ $rp ? Sip::hdr($rp, 'Via', 'v') : () ],
          [ "Via: SIP/2.0/UDP 127.0.0.1:$U;rport=$U;branch=z9hG4bKc1;received=127.0.0.1" ],
          'udp->tcp: response carries only the sender Via');

# a second request to the same peer reuses the connection
$uac->send(req(ruri => "sip:bob\@127.0.0.1:$T;transport=tcp", via => [$via_c]), $P);
my $got2 = $conn ? $conn->recv_msg(3) : undef;
ok($got2, 'udp->tcp: second request on the same connection');
ok(!$uas->accept(0.3), 'udp->tcp: no second connection opened');

# ---- TCP -> UDP ----------------------------------------------------------
my $udp_uas = $p->udp_socket;
my $S = $udp_uas->port;
my $c = Tcp->connect($P);
ok($c, 'tcp->udp: connected to the proxy');
my $cport = $c->fh->sockport;
my $via_t = "Via: SIP/2.0/TCP 127.0.0.1:$cport;branch=z9hG4bKt1";
$c->send(req(ruri => "sip:bob\@127.0.0.1:$S", via => [$via_t], body => 'x'));
my ($u) = $udp_uas->recv(3);
my $up = Sip::parse($u);
my @uv = $up ? Sip::hdr($up, 'Via', 'v') : ();
like($uv[0] // '', $ourvia_udp_cid, 'tcp->udp: our Via names UDP, with cid');
is($uv[1] // '', $via_t, 'tcp->udp: sender Via unchanged (sent-by is the source)');
$udp_uas->send(reply_to($u, 200), $P) if $u;
my $back = $c->recv_msg(3);
my $bp = Sip::parse($back);
ok($bp && $bp->{start} eq 'SIP/2.0 200 OK', 'tcp->udp: 200 back on the TCP connection');
is_deeply([ $bp ? Sip::hdr($bp, 'Via', 'v') : () ], [ $via_t ],
          'tcp->udp: response carries only the sender Via');

# ---- framing ------------------------------------------------------------
my $m1 = req(ruri => "sip:bob\@127.0.0.1:$S", via => [$via_t], body => 'one');
my $m2 = req(ruri => "sip:bob\@127.0.0.1:$S", via => [$via_t], body => 'two');
$c->send($m1 . $m2);
my @two = grep { defined } map { scalar $udp_uas->recv(3) } 1 .. 2;
is(scalar @two, 2, 'two messages in one segment: both forwarded');
# (two Call-IDs: two workers, so no order between them is promised)
is(join(',', sort map { Sip::parse($_)->{body} } @two), 'one,two', 'two messages in one segment: both intact');

my $m3 = req(ruri => "sip:bob\@127.0.0.1:$S", via => [$via_t], body => 'split body');
for my $piece (substr($m3, 0, 10), substr($m3, 10, 60), substr($m3, 70, length($m3) - 75),
               substr($m3, -5)) {
    $c->send($piece);
    sleep 0.3;
}
my ($s3) = $udp_uas->recv(3);
is(Sip::parse($s3)->{body} // '', 'split body', 'message in 4 segments with pauses: forwarded whole');

$c->send("\r\n\r\n");
is($c->recv_raw(2, 2), "\r\n", 'double-CRLF ping answered with one CRLF (RFC 5626)');
$c->send("\r\n" . req(ruri => "sip:bob\@127.0.0.1:$S", via => [$via_t], body => 'after'));
my ($s4) = $udp_uas->recv(3);
is(Sip::parse($s4)->{body} // '', 'after', 'a pong CRLF before a message is skipped');

# ---- RFC 3261 18.1.1: large request over TCP ------------------------------
my $big = 'b' x 1400;
$uac->send(req(ruri => "sip:bob\@127.0.0.1:$T", via => [$via_c], body => $big), $P);
my $gb = $conn ? $conn->recv_msg(3) : undef;
ok($gb && Sip::parse($gb)->{body} eq $big,
   'request over 1300 bytes to an IP without transport goes over TCP (18.1.1)');

# ---- several interfaces --------------------------------------------------
$uac->send(req(ruri => "sip:bob\@127.0.0.1:$S", via => [$via_c]), $P2);
my ($i2) = $udp_uas->recv(3);
my @iv = $i2 ? Sip::hdr(Sip::parse($i2), 'Via', 'v') : ();
like($iv[0] // '', qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P2;branch=},
     'second interface: Via names the port the request came in on');
$udp_uas->send(reply_to($i2, 200), $P2) if $i2;
my ($ir, $from) = $uac->recv(3);
is($from, $P2, 'second interface: response leaves from the port it came in on');

my $s = $p->stats('tcp:');
cmp_ok($s->{'tcp:connections_accepted'} // 0, '>=', 1, 'tcp:connections_accepted counted');
cmp_ok($s->{'tcp:connections_connected'} // 0, '>=', 1, 'tcp:connections_connected counted');
cmp_ok($s->{'tcp:keepalives'} // 0, '>=', 1, 'tcp:keepalives counted');
is($s->{'tcp:connections_open'} // -1, 2, 'tcp:connections_open gauge = 2');

$c->close;
$conn->close if $conn;
$p->stop;
done_testing();
