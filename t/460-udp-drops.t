#!/usr/bin/perl
# Loss nobody counted (issue "supervision and hostile peers", B): what
# the kernel drops because a UDP socket's receive buffer is full (netd
# stalled) is counted as net:udp_kernel_drops (SO_RXQ_OVFL), and the
# default udp_maxbuffer is 4 MiB.
#
# Deterministic: with udp_maxbuffer at its minimum (4096), netd is
# stopped (SIGSTOP), 300 datagrams of 1 KB are sent (loopback delivers
# synchronously: a few fit, the rest are dropped at once), netd continues
# (SIGCONT), and a few more datagrams carry the kernel's running total.
# Every datagram sent is either received or counted as dropped.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;

my $p = Proxy->new(sipd => 1, no_start => 1);
$p->{opts}{extra} = { net => [ 'udp_maxbuffer = 4096' ] };
Proxy::spew($p->cfg, $p->config_text);
$p->start;
my $P = $p->port;

is($p->stat('net:udp_kernel_drops'), 0, 'get_statistics net:udp_kernel_drops: exists, 0');
like($p->log, qr/udp 0: receive buffer \d+ bytes \(udp_maxbuffer 4096\)/,
     'log: the receive buffer obtained');

my ($netd) = map { $_->{PID} } grep { $_->{Type} eq 'netd' } $p->ps;
ok($netd, "netd pid $netd");
my $uac = $p->udp_socket;
my $k = 0;
sub dgram
{
    $k++;
    return Sip::msg("OPTIONS sip:127.0.0.1:$P SIP/2.0", [
        'Via: SIP/2.0/UDP 127.0.0.1:' . $uac->port . ";branch=z9hG4bKd$k",
        'Max-Forwards: 70', 'To: <sip:127.0.0.1>', "From: <sip:d\@127.0.0.1>;tag=$k",
        "Call-ID: drop-$k-$$", "CSeq: $k OPTIONS", 'Content-Length: AUTO' ],
        'x' x 800);
}
my $rcv0 = $p->stat('net:udp_rcv_datagrams') // 0;
my $N = 300;
kill 'STOP', $netd;
$uac->send(dgram(), $P) for 1 .. $N;
kill 'CONT', $netd;
sleep 0.3;
for (1 .. 5) {                          # they carry the drop total
    $uac->send(dgram(), $P);
    sleep 0.1;
}
my $drops = $p->wait_stat('net:udp_kernel_drops', 200, 5) // 0;
cmp_ok($drops, '>=', 200, "net:udp_kernel_drops counts the kernel's drops ($drops of $N)");
my $deadline = time + 5;
my $rcv;
while (1) {
    $rcv = ($p->stat('net:udp_rcv_datagrams') // 0) - $rcv0;
    last if $rcv + $drops >= $N + 5 || time > $deadline;
    sleep 0.1;
}
is($rcv + $drops, $N + 5, "received ($rcv) + dropped ($drops) = sent");
like($p->log, qr/udp 0: the kernel dropped \d+ datagrams \(receive buffer full; \d+ in all\)/,
     'log: the drops, naming the socket');

# a restarted netd does not count the socket's old drops again
$p->mi('stage_restart', 'netd');
$p->wait_ready(10);
sleep 0.5;
$uac->send(dgram(), $P) for 1 .. 3;
sleep 0.5;
is($p->stat('net:udp_kernel_drops'), $drops, 'after a netd restart: not counted again');
$p->stop;

# the default is 4 MiB
my $q = Proxy->new(sipd => 1);
like($q->log, qr/udp 0: receive buffer 4194304 bytes \(udp_maxbuffer 4194304/,
     'default udp_maxbuffer: 4 MiB obtained');
$q->stop;
done_testing();
