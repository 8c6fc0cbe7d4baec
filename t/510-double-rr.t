#!/usr/bin/perl
# Double Record-Route (RFC 5658; RFC 3261 16.6 step 4) with
# [route] record_route = 1. The proxy listens on udp and tcp on port P
# and on udp [::1]:P6; the test plays both UAs and checks bytes.
#
#  - UDP in -> TCP out: two values, the outgoing side on top:
#      Record-Route: <sip:127.0.0.1:P;transport=tcp;r2=on;lr>
#      Record-Route: <sip:127.0.0.1:P;r2=on;lr>
#    the 200 carries both back to the caller;
#  - the caller's ACK (UDP, Route set = the RRs reversed) and the
#    callee's BYE (TCP, Route set = the RRs in order) reach the other
#    side with both Routes removed, over the other side's transport;
#  - an in-dialog request with a Route left after ours goes there;
#  - IPv4 in -> IPv6 out: <sip:[::1]:P6;r2=on;lr>, <sip:127.0.0.1:P;...>;
#  - same socket in and out: one value, as before.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::IP;
use Proxy qw(free_ports);
use Sip;
use Tcp;

my ($P6) = free_ports(1);
my $p = Proxy->new(sipd => 1, children => 2, record_route => 1, tcp => 1,
                   extra => { net => [ "listen = udp:[::1]:$P6" ] });
my $P = $p->port;

my $uac = $p->udp_socket;
my $U = $uac->port;
my $uas = Tcp->listen;
my $T = $uas->port;
my $cid = "rr2-$$\@127.0.0.1";
my $RR_TCP = "<sip:127.0.0.1:$P;transport=tcp;r2=on;lr>";
my $RR_UDP = "<sip:127.0.0.1:$P;r2=on;lr>";

# msg(START, CSEQ, VIA, EXTRA...) - an in-dialog style request/response
sub msg
{
    my ($start, $cseq, $via, @extra) = @_;
    return Sip::msg($start, [ @$via, 'Max-Forwards: 70', @extra,
        "From: <sip:alice\@127.0.0.1:$U>;tag=a1",
        "To: <sip:bob\@127.0.0.1:$T>" . ($cseq =~ /^1 INVITE/ && $start =~ /^INVITE/
                                         ? '' : ';tag=b1'),
        "Call-ID: $cid", "CSeq: $cseq", 'Content-Length: 0' ], '');
}

sub routes { [ map { Sip::value_of($_) } Sip::hdr($_[0], 'Route') ] }

# ---- INVITE: UDP in, TCP out -----------------------------------------------
$uac->send(msg("INVITE sip:bob\@127.0.0.1:$T;transport=tcp SIP/2.0",
               '1 INVITE', ["Via: SIP/2.0/UDP 127.0.0.1:$U;rport;branch=z9hG4bKi1"],
               "Contact: <sip:alice\@127.0.0.1:$U>"), $P);
my $conn = $uas->accept(3);
ok($conn, 'INVITE: the proxy connected to the TCP callee')
    or BAIL_OUT("no connection\n" . $p->log_tail(20));
my $inv = $conn->recv_msg(3);
my $q = Sip::parse($inv // '');
is_deeply([ Sip::hdr($q, 'Record-Route') ],
          [ "Record-Route: $RR_TCP", "Record-Route: $RR_UDP" ],
          'UDP -> TCP: two Record-Routes, outgoing (tcp) side on top');
like((Sip::hdr($q, 'Via'))[0] // '', qr{^Via: SIP/2\.0/TCP 127\.0\.0\.1:$P;},
     'our Via names the TCP side');

# 200 OK back over the connection, with the Record-Route set.
my @h = grep { Sip::name_of($_) =~ /^(?:via|from|to|call-id|cseq|record-route)$/i }
    @{ $q->{headers} };
s/^(To: .*)$/$1;tag=b1/ for @h;
$conn->send(Sip::msg('SIP/2.0 200 OK', [ @h,
    "Contact: <sip:bob\@127.0.0.1:$T;transport=tcp>", 'Content-Length: 0' ], ''));
my ($ok) = $uac->recv(3);
is(Sip::status($ok // ''), 200, '200 relayed to the UDP caller');
is_deeply([ Sip::hdr(Sip::parse($ok // ''), 'Record-Route') ],
          [ "Record-Route: $RR_TCP", "Record-Route: $RR_UDP" ],
          'the caller sees both Record-Routes');

# ---- ACK from the caller: Route set reversed, over UDP -----------------------
$uac->send(msg("ACK sip:bob\@127.0.0.1:$T;transport=tcp SIP/2.0", '1 ACK',
               ["Via: SIP/2.0/UDP 127.0.0.1:$U;rport;branch=z9hG4bKa1"],
               "Route: $RR_UDP, $RR_TCP"), $P);
my $ack = Sip::parse($conn->recv_msg(3) // '');
like($ack->{start} // '', qr{^ACK sip:bob\@127\.0\.0\.1:$T;transport=tcp },
     'ACK reaches the callee over TCP');
is_deeply(routes($ack), [], 'ACK: both Routes naming us removed');

# ---- BYE from the callee: Route set in order, over TCP -----------------------
$conn->send(Sip::msg("BYE sip:alice\@127.0.0.1:$U SIP/2.0", [
    "Via: SIP/2.0/TCP 127.0.0.1:$T;branch=z9hG4bKb1", 'Max-Forwards: 70',
    "Route: $RR_TCP", "Route: $RR_UDP",
    "From: <sip:bob\@127.0.0.1:$T>;tag=b1",
    "To: <sip:alice\@127.0.0.1:$U>;tag=a1",
    "Call-ID: $cid", 'CSeq: 1 BYE', 'Content-Length: 0' ], ''));
my ($bye) = $uac->recv(3);
my $b = Sip::parse($bye // '');
like($b->{start} // '', qr{^BYE sip:alice\@127\.0\.0\.1:$U SIP/2\.0},
     'BYE reaches the caller over UDP');
is_deeply(routes($b), [], 'BYE: both Routes naming us removed');

# ---- a Route left after ours: it is the next hop -----------------------------
my $next = $p->udp_socket;
my $N = $next->port;
$uac->send(msg("INFO sip:bob\@127.0.0.1:$T;transport=tcp SIP/2.0", '2 INFO',
               ["Via: SIP/2.0/UDP 127.0.0.1:$U;rport;branch=z9hG4bKn1"],
               "Route: $RR_UDP, $RR_TCP, <sip:127.0.0.1:$N;lr>"), $P);
my ($info) = $next->recv(3);
my $ip = Sip::parse($info // '');
like($ip->{start} // '', qr{^INFO sip:bob\@127\.0\.0\.1:$T;transport=tcp },
     'INFO with a further Route goes to that Route, RURI kept');
is_deeply(routes($ip), ["<sip:127.0.0.1:$N;lr>"],
          'INFO: ours removed, the further Route kept');

# ---- IPv4 in -> IPv6 out --------------------------------------------------------
SKIP: {
    my $u6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                                 Proto => 'udp');
    skip('no IPv6 loopback', 2) unless $u6;
    my $S6 = $u6->sockport;
    $uac->send(msg("OPTIONS sip:bob\@[::1]:$S6 SIP/2.0", '3 OPTIONS',
                   ["Via: SIP/2.0/UDP 127.0.0.1:$U;rport;branch=z9hG4bKo6"]),
               $P);
    my $buf = '';
    my $rin = '';
    vec($rin, fileno($u6), 1) = 1;
    $u6->recv($buf, 65535) if select(my $r = $rin, undef, undef, 3);
    my $o = Sip::parse($buf);
    is_deeply([ Sip::hdr($o, 'Record-Route') ],
              [ "Record-Route: <sip:[::1]:$P6;r2=on;lr>",
                "Record-Route: $RR_UDP" ],
              'IPv4 -> IPv6: the IPv6 side on top, then the IPv4 side');
    like((Sip::hdr($o, 'Via'))[0] // '', qr{^Via: SIP/2\.0/UDP \[::1\]:$P6;},
         'our Via names the IPv6 socket');
}

# ---- same socket: one Record-Route ---------------------------------------------
my $uas2 = $p->udp_socket;
my $S2 = $uas2->port;
$uac->send(msg("OPTIONS sip:bob\@127.0.0.1:$S2 SIP/2.0", '4 OPTIONS',
               ["Via: SIP/2.0/UDP 127.0.0.1:$U;rport;branch=z9hG4bKo4"]), $P);
my ($one) = $uas2->recv(3);
is_deeply([ Sip::hdr(Sip::parse($one // ''), 'Record-Route') ],
          [ "Record-Route: <sip:127.0.0.1:$P;lr>" ],
          'UDP -> UDP on one socket: one Record-Route, no r2');

$p->stop;
done_testing;
