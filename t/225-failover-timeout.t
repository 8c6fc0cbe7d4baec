#!/usr/bin/perl
# Failover when a TCP next hop accepts nothing: the priority-10 SRV target
# is a listener whose backlog is full, so the kernel drops our SYNs and
# netd's connect times out (5 s) instead of being refused. The request
# goes back to sipd (MSG_F_SEND_FAILED, reason timeout), dnsd learns the
# target failed, and the INVITE reaches the priority-20 target; the
# failed one shows in dns_blacklist_dump, and the next call goes straight
# to the live target without waiting. Skipped without dnsmasq.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use Proxy;
use Sip;
use Tcp;
use Dnsmasq;

plan skip_all => 'dnsmasq not installed (scripts/deps installs it)'
    unless Dnsmasq::binary();


# A listener that never accepts, its queue filled by connections of our
# own: further SYNs are dropped, a connect to it hangs.
my $full = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Proto => 'tcp', Listen => 1)
    or BAIL_OUT("listen: $!");
my $FULL = $full->sockport;
my @fill;
for (1 .. 4) {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $FULL,
                                  Proto => 'tcp', Blocking => 0);
    push @fill, $c if $c;
}
sleep 0.2;
my $probe = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $FULL,
                                  Proto => 'tcp', Timeout => 1);
plan skip_all => 'this kernel still completes connects to a full backlog'
    if $probe;

my $live = Tcp->listen;
my $LT = $live->port;
my $dport = Dnsmasq::serve(
    '--host-record=tgt.test,127.0.0.1',
    "--srv-host=_sip._tcp.slow.test,tgt.test,$FULL,10,0",
    "--srv-host=_sip._tcp.slow.test,tgt.test,$LT,20,0");

my $p = Proxy->new(sipd => 1, children => 2, tcp => 1, extra => {
    dns => Dnsmasq::dns_cfg($dport),
});
my $P = $p->port;
my $uac = $p->udp_socket;
my $U = $uac->port;
my $ruri = 'sip:bob@slow.test;transport=tcp';

sub invite
{
    my ($id) = @_;
    return Sip::msg("INVITE $ruri SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-to-$id",
        'Max-Forwards: 70',
        "From: <sip:alice\@127.0.0.1:$U>;tag=to$id",
        "To: <$ruri>",
        "Call-ID: to-$id-$$\@127.0.0.1",
        'CSeq: 1 INVITE',
        "Contact: <sip:alice\@127.0.0.1:$U>",
        'Content-Length: 0',
    ], '');
}

my $t0 = time;
$uac->send(invite(1), $P);
my $conn = $live->accept(10);
my $took = time - $t0;
ok($conn, sprintf('connect timed out at the full target; the INVITE '
                  . 'reached the priority-20 one after %.1f s', $took))
    or diag($p->log_tail(20));
ok($took >= 4, 'it waited for the connect timeout (about 5 s)');
my $got = $conn && $conn->recv_msg(3);
like($got // '', qr{^INVITE \Q$ruri\E SIP/2\.0\r\n}, 'the INVITE itself');
my $early = $uac->recv(0.3);
ok(!defined $early || Sip::status($early) != 503, 'no 503 upstream');
like($p->log, qr/127\.0\.0\.1:$FULL.*(?:timed out|timeout)/i,
     'the log names the target and the timeout');
my (undef, undef, $bl) = $p->mi('dns_blacklist_dump');
ok(grep({ /127\.0\.0\.1/ && /\b$FULL\b/ } @{ $bl // [] }),
   'the full target is blacklisted') or diag(join("\n", @{ $bl // [] }));
cmp_ok($p->stat('sipd:failovers') // 0, '>=', 1, 'sipd:failovers counts it');

# the next call: the blacklisted target is skipped, no wait (netd reuses
# its connection to the live target, or opens another)
$t0 = time;
$uac->send(invite(2), $P);
my $got2 = $conn && $conn->recv_msg(3);
my $conn2;
$got2 //= ($conn2 = $live->accept(1)) && $conn2->recv_msg(2);
like($got2 // '', qr{^INVITE .*\r\nCall-ID: to-2-}s,
     sprintf('the next INVITE goes straight to the live target (%.1f s)',
             time - $t0));
cmp_ok(time - $t0, '<', 3, 'without waiting for a connect timeout');
$conn->close if $conn;
$conn2->close if $conn2;
$p->stop;
close($_) for @fill;
done_testing();
