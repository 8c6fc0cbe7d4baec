#!/usr/bin/perl
# One peer cannot hold every TCP slot (issue "supervision and hostile
# peers", A). Before: one client held all tcp_max_connections with CRLF
# keep-alives, every other inbound connect was refused for the whole run,
# and outbound TCP (the RFC 3261 18.1.1 switch for a 1.7 KB INVITE) too.
#
#  - tcp_max_connections_per_ip: connections from one source IP past it
#    are refused (tcp:connections_refused_per_ip, a log line naming the
#    IP); other IPs still get in;
#  - inbound connections leave the last 1/16 of the slots to outgoing
#    ones: with the table full of inbound connections, a 1.7 KB INVITE
#    still leaves over TCP;
#  - keep-alives alone do not keep a connection past tcp_lifetime: it
#    counts from the last SIP message (tcp:closed_idle).
# Sources 127.0.0.2..4 are loopback addresses (Linux routes 127/8 to lo).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;
use Tcp;

$SIG{PIPE} = 'IGNORE';
# 16 slots: 1 kept for outgoing, 15 for inbound; 6 per source IP
my $p = Proxy->new(sipd => 1, children => 2, tcp => 1,
                   log_ok => qr/never matches/,
                   extra => { net => [ 'tcp_lifetime = 3',
                                       'tcp_max_connections = 16',
                                       'tcp_max_connections_per_ip = 6' ] });
my $P = $p->port;

# from(IP, N) - N connections to the proxy from source IP
sub from
{
    my ($ip, $n) = @_;
    my @c;
    for (1 .. $n) {
        my $s = IO::Socket::INET->new(LocalAddr => $ip, PeerAddr => '127.0.0.1',
                                      PeerPort => $P, Proto => 'tcp',
                                      Timeout => 3) or next;
        push @c, Tcp->_wrap($s);
    }
    return @c;
}

# survivors(LIST) - the connections the proxy did not close within 0.5 s
sub survivors
{
    my @c = @_;
    sleep 0.5;
    return grep { !$_->closed(0.05) } @c;
}

# ---- per source IP ----
my @hog = survivors(from('127.0.0.2', 10));
is(scalar @hog, 6, 'one source IP holds at most tcp_max_connections_per_ip (6 of 10)');
is($p->stat('tcp:connections_refused_per_ip'), 4, 'tcp:connections_refused_per_ip = 4');
like($p->log, qr/listen \d+: 127\.0\.0\.2 holds 6 connections \(tcp_max_connections_per_ip\): 127\.0\.0\.2:\d+ refused/,
     'log names the IP and the limit');
my @b = survivors(from('127.0.0.3', 6));
is(scalar @b, 6, 'another IP still gets its connections');

# ---- the outgoing reserve: inbound fills 15 of 16 slots ----
my @c = survivors(from('127.0.0.4', 6));
is(scalar @c, 3, 'inbound stops at 15 of 16 slots (3 of 6 from a third IP)');
like($p->log, qr/connections open, the last 1 slots kept for outgoing ones \(tcp_max_connections\): 127\.0\.0\.4:\d+ refused/,
     'log: refused to keep the outgoing reserve');
my $sink = Tcp->listen;
my $T = $sink->port;
my $uac = $p->udp_socket;
$uac->send(Sip::msg("INVITE sip:bob\@127.0.0.1:$T SIP/2.0", [
    'Via: SIP/2.0/UDP 127.0.0.1:' . $uac->port . ';branch=z9hG4bKbig1',
    'Max-Forwards: 70', 'To: <sip:bob@example.com>',
    'From: <sip:a@example.com>;tag=big', "Call-ID: big-$$", 'CSeq: 1 INVITE',
    'Contact: <sip:a@127.0.0.1>', 'Content-Type: application/sdp',
    'Content-Length: AUTO' ], 'v=0' . ("\r\na=x" . ('y' x 60)) x 26 . "\r\n"), $P);
my $out = $sink->accept(3);
my $inv = $out && $out->recv_msg(3);
like($inv // '', qr/^INVITE sip:bob\@127\.0\.0\.1:$T SIP\/2\.0\r\n/,
     '1.7 KB INVITE leaves over TCP while inbound connections fill the table');
cmp_ok(length($inv // ''), '>', 1700, 'the whole INVITE arrived');

# ---- keep-alives do not extend tcp_lifetime ----
# two new connections each carry one SIP message, then only keep-alives
$_->close for @hog, @b, @c;
my @ka = survivors(from('127.0.0.6', 2));
is(scalar @ka, 2, 'two new connections');
my $k = 0;
for my $x (@ka) {
    $k++;
    $x->send(Sip::msg("OPTIONS sip:127.0.0.1:$P SIP/2.0", [
        'Via: SIP/2.0/TCP 127.0.0.6:5060;branch=z9hG4bKka' . $k,
        'Max-Forwards: 70', 'To: <sip:127.0.0.1>', "From: <sip:k\@127.0.0.6>;tag=$k",
        "Call-ID: ka-$k-$$", "CSeq: 1 OPTIONS", 'Content-Length: 0' ], ''));
    like($x->recv_msg(3) // '', qr{^SIP/2\.0 200 }, "connection $k: a SIP message and its 200");
}
my $idle0 = $p->stat('tcp:closed_idle') // 0;
my $t0 = time;
my $open = scalar @ka;
while ($open > 0 && time - $t0 < 8) {
    $_->send("\r\n\r\n") for grep { !$_->{eof} } @ka;
    $open = grep { !$_->closed(0.1) } @ka;
    sleep 0.2;
}
my $el = time - $t0;
is($open, 0, sprintf('connections sending only CRLF keep-alives closed (%.1f s)', $el));
cmp_ok($el, '<', 5, 'within about tcp_lifetime (3 s) of their last SIP message');
cmp_ok($el, '>', 2, 'but not before tcp_lifetime');
cmp_ok($p->stat('tcp:closed_idle') // 0, '>=', $idle0 + 2, 'tcp:closed_idle counted');
cmp_ok($p->stat('tcp:keepalives') // 0, '>=', 10, 'the keep-alives were answered meanwhile');

# and a new peer gets in again
my @d = survivors(from('127.0.0.5', 2));
is(scalar @d, 2, 'slots free again for others');

$_->close for @d;
$p->stop;
done_testing();
