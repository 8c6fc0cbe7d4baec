#!/usr/bin/perl
# A TCP destination held down after a failed connect (issue 9 found it):
# a second request to it within the 2 s hold-down is handed back to sipd
# at once, and its 503 must leave at once too. Before, netd wrote the
# handed-back record to the sipd ring without publishing it, so the 503
# waited for the next message netd happened to receive.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Proxy;
use Sip;
use Tcp;

my $p = Proxy->new(sipd => 1, children => 2, tcp => 1);
my $uac = $p->udp_socket;
my $U = $uac->port;
my $dead = Tcp::free_port();            # nothing listens there

for my $n (1, 2) {
    $uac->send(Sip::msg("OPTIONS sip:bob\@127.0.0.1:$dead;transport=tcp SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bKheld$n",
        'Max-Forwards: 70', 'To: <sip:bob@example.com>',
        "From: <sip:a\@example.com>;tag=h$n", "Call-ID: held-$n-$$",
        "CSeq: $n OPTIONS", 'Content-Length: 0' ]), $p->port);
    my $t0 = time;
    my $r = Sip::parse(scalar $uac->recv(5));
    is($r->{start} // '', 'SIP/2.0 503 Service Unavailable',
       $n == 1 ? 'connect refused: 503' : 'held down: 503');
    cmp_ok(time - $t0, '<', 4, "503 number $n came without waiting for other traffic");
}
is($p->stat('tcp:connect_failed'), 1, 'one connect only: the second was held down');
$p->stop;
done_testing;
