#!/usr/bin/perl
# RFC 3263 choosing the transport: a NAPTR that offers only SIP+D2T sends
# a request that came in over UDP, for a URI that names no transport, out
# over TCP, and the Via the proxy adds names TCP and its TCP socket
# (RFC 3261 18.1.1: the Via says the transport really used). dnsmasq is
# started on 127.0.0.1 with the records; the test plays UAC (UDP) and
# UAS (TCP), and the UAS's 200 goes back to the UAC over UDP.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Proxy;
use Sip;
use Tcp;
use Dnsmasq;

plan skip_all => 'dnsmasq not installed (scripts/deps installs it)'
    unless Dnsmasq::binary();

my $uas = Tcp->listen;
my $UP = $uas->port;
my $dport = Dnsmasq::serve(
    '--host-record=uas-t.test,127.0.0.1',
    '--naptr-record=tcp-only.test,10,10,S,SIP+D2T,,_sip._tcp.tcp-only.test',
    "--srv-host=_sip._tcp.tcp-only.test,uas-t.test,$UP,10,0");

my $p = Proxy->new(sipd => 1, children => 2, tcp => 1, extra => {
    dns => Dnsmasq::dns_cfg($dport),
});
my $P = $p->port;

my $uac = $p->udp_socket;
my $U = $uac->port;
my $ruri = 'sip:bob@tcp-only.test';
my $req = Sip::msg("OPTIONS $ruri SIP/2.0", [
    "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-dnstcp-1",
    'Max-Forwards: 70',
    "From: <sip:alice\@127.0.0.1:$U>;tag=t1",
    "To: <$ruri>",
    "Call-ID: dnstcp-1-$$\@127.0.0.1",
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
], '');
$uac->send($req, $P);

my $conn = $uas->accept(5);
ok($conn, 'NAPTR SIP+D2T: the proxy connected to the SRV target over TCP')
    or BAIL_OUT('no TCP connection: ' . Sip::show(($uac->recv(0.5))[0]));
my $got = $conn->recv_msg(5);
my $g = Sip::parse($got);
is($g && $g->{start}, "OPTIONS $ruri SIP/2.0", 'request line unchanged');
like(($g && $g->{headers}[0]) // '',
     qr{^Via: SIP/2\.0/TCP 127\.0\.0\.1:$P;branch=z9hG4bK\S+$},
     'our Via names TCP and the TCP socket');
is(($g && $g->{headers}[1]) // '',
   "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-dnstcp-1",
   "the UAC's Via follows, unchanged");
is(scalar(grep { /^Max-Forwards: 69$/ } @{ $g ? $g->{headers} : [] }), 1,
   'Max-Forwards decremented');

# The UAS answers on the same connection; the proxy relays it over UDP.
my @vias = grep { /^Via:/ } @{ $g ? $g->{headers} : [] };
my $resp = Sip::msg('SIP/2.0 200 OK', [
    @vias,
    "From: <sip:alice\@127.0.0.1:$U>;tag=t1",
    "To: <$ruri>;tag=uas1",
    "Call-ID: dnstcp-1-$$\@127.0.0.1",
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
], '');
$conn->send($resp);
my ($back) = $uac->recv(5);
is(Sip::status($back), 200, '200 relayed back to the UAC over UDP');
like($back // '', qr{\r\nVia: SIP/2\.0/UDP 127\.0\.0\.1:$U;branch=z9hG4bK-dnstcp-1\r\n},
     "the UAC's Via is the top one again");
unlike($back // '', qr{SIP/2\.0/TCP}, 'our Via removed');
is($p->stat('core:drop_requests'), 0, 'nothing dropped');

$p->stop;
done_testing();
