#!/usr/bin/perl
# TCP limits and hostile peers (issue 4). Each misbehaving connection is
# closed with a log line naming it and the reason, and a tcp: counter,
# while a well-behaved connection opened first keeps being served:
#
#  - a peer that connects and sends nothing: closed after tcp_lifetime
#    (tcp:closed_idle);
#  - slowloris (one byte every 0.4 s): closed when the message is not
#    complete within min(tcp_lifetime, 10) s (tcp:closed_slow);
#  - an endless header (no empty line within tcp_max_size):
#    tcp:closed_oversize;
#  - Content-Length: 2147483648: 513 Message Too Large, then closed
#    (tcp:closed_oversize);
#  - no Content-Length: closed (tcp:closed_bad_frame);
#  - a UAS that never reads: its write queue bound is hit, the
#    connection is closed (tcp:write_queue_drops), others unaffected;
#  - tcp_max_connections: the connection past the limit is refused
#    (tcp:connections_refused).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy qw(free_ports);
use Sip;
use Tcp;

$SIG{PIPE} = 'IGNORE';
my $p = Proxy->new(sipd => 1, children => 2, tcp => 1,
                   log_ok => qr/never matches/,
                   extra => { net => [ 'tcp_lifetime = 2',
                                       'tcp_max_connections = 8',
                                       'tcp_max_size = 16384' ] });
my $P = $p->port;

my $udp_uas = $p->udp_socket;
my $S = $udp_uas->port;
my $n = 0;

sub req
{
    my ($body, $via) = @_;
    $n++;
    return Sip::msg("OPTIONS sip:bob\@127.0.0.1:$S SIP/2.0", [
        $via, 'Max-Forwards: 70', 'To: <sip:bob@example.com>',
        "From: <sip:a\@example.com>;tag=$n", "Call-ID: lim-$n-$$",
        "CSeq: $n OPTIONS", 'Content-Length: AUTO' ], $body // '');
}

# a good client that keeps talking: an OPTIONS to the proxy itself every
# check (a CRLF ping would not do: keep-alives do not extend tcp_lifetime)
my $good = Tcp->connect($P);
my $gvia = 'Via: SIP/2.0/TCP 127.0.0.1:' . $good->fh->sockport . ';branch=z9hG4bKg';
sub keep
{
    diag(sprintf("keep %.2f", time)) if $ENV{T_DEBUG};
    $n++;
    $good->send(Sip::msg("OPTIONS sip:127.0.0.1:$P SIP/2.0", [
        $gvia . "k$n", 'Max-Forwards: 70', 'To: <sip:127.0.0.1>',
        "From: <sip:k\@127.0.0.1>;tag=k$n", "Call-ID: keep-$n-$$",
        "CSeq: $n OPTIONS", 'Content-Length: 0' ], ''));
    $good->recv_msg(1);
}
sub good_ok
{
    my ($what) = @_;
    $good->send(req("good", $gvia . $n));
    my ($m) = $udp_uas->recv(3);
    ok($m && Sip::parse($m)->{body} eq 'good', "good connection still served ($what)")
        or diag(join(' ', map { "$_->[0]=$_->[1]" } grep { $_->[1] } map { [$_, $p->stats('all')->{$_}] }
                     sort keys %{ $p->stats('all') }), " eof=$good->{eof}");
}
good_ok('start');

# ---- hostile input, in parallel with the good client ----
my $endless = Tcp->connect($P);
$endless->send("OPTIONS sip:x\@127.0.0.1 SIP/2.0\r\n");
$endless->send("X-Junk: " . ('a' x 1000) . "\r\n") for 1 .. 20;
ok($endless->closed(3), 'endless header: connection closed');
keep();

my $huge = Tcp->connect($P);
$huge->send(Sip::msg("INVITE sip:x\@127.0.0.1:$S SIP/2.0", [
    'Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKhuge', 'Max-Forwards: 70',
    'To: <sip:x@example.com>', 'From: <sip:y@example.com>;tag=1',
    'Call-ID: huge', 'CSeq: 1 INVITE', 'Content-Length: 2147483648' ], ''));
my $r513 = $huge->recv_msg(3);
like($r513 // '', qr{^SIP/2\.0 513 Message Too Large\r\n}, 'Content-Length 2^31: 513');
ok($huge->closed(4), 'Content-Length 2^31: then closed');
keep();

my $nocl = Tcp->connect($P);
$nocl->send("OPTIONS sip:x\@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4\r\n\r\n");
ok($nocl->closed(3), 'no Content-Length: connection closed');
good_ok('after hostile headers');

my $idle = Tcp->connect($P);
my $slow = Tcp->connect($P);
my $t0 = time;
my $slowmsg = req('slow', 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKslow');
my $i = 0;
while (!$slow->closed(0.4) && time - $t0 < 8) {
    $slow->send(substr($slowmsg, $i++, 1)) if $i < length $slowmsg;
    keep();                             # the good one must not idle
}
my $el = time - $t0;
ok($slow->{eof}, sprintf('slowloris closed after %.1f s', $el));
cmp_ok($el, '<', 6, 'slowloris closed within ~tcp_lifetime');
ok($idle->closed(4), 'silent peer closed after tcp_lifetime');
good_ok('after slowloris and silent peer');

# ---- a UAS that never reads ----
my $sink = Tcp->listen(rcvbuf => 4096);
my $T = $sink->port;
my $uac = $p->udp_socket;
my $body = 'z' x 8000;
my $sconn;
for my $k (1 .. 1500) {
    keep() if $k % 200 == 0;
    $uac->send(Sip::msg("MESSAGE sip:bob\@127.0.0.1:$T;transport=tcp SIP/2.0", [
        'Via: SIP/2.0/UDP 127.0.0.1:' . $uac->port . ";branch=z9hG4bKs$k",
        'Max-Forwards: 70', 'To: <sip:bob@example.com>',
        "From: <sip:a\@example.com>;tag=s$k", "Call-ID: sink-$k-$$",
        "CSeq: 1 MESSAGE", 'Content-Length: AUTO' ], $body), $P);
    $sconn //= $sink->accept(0);
    if ($k % 25 == 0) {
        sleep 0.02;
        last if ($p->stat('tcp:write_queue_drops') // 0) > 0;
    }
}
keep();
$sconn //= $sink->accept(1);
ok($p->wait_stat('tcp:write_queue_drops', 1, 5),
   'never-reading UAS: write queue bound hit (tcp:write_queue_drops)');
keep();
ok($sconn && $sconn->closed(5), 'never-reading UAS: its connection closed');
good_ok('after the slow reader');

# ---- tcp_max_connections = 8 ----
my @hold = grep { defined } map { Tcp->connect($P) } 1 .. 10;
sleep 0.5;
my $refused = grep { $_->closed(0.5) } @hold;
cmp_ok($refused, '>=', 1, "connections past tcp_max_connections refused ($refused of 10)");
$_->close for @hold;

my $s = $p->stats('tcp:');
cmp_ok($s->{"tcp:$_"} // 0, '>=', 1, "tcp:$_ counted")
    for qw(closed_idle closed_slow closed_oversize closed_bad_frame
           write_queue_drops connections_refused);
cmp_ok($s->{'tcp:closed_oversize'} // 0, '>=', 2, 'tcp:closed_oversize: endless header and 2^31');
my $log = $p->log;
like($log, qr/conn \d+ \(127\.0\.0\.1:\d+\): header block longer than tcp_max_size: closed/, 'log: endless header names the connection');
like($log, qr/conn \d+ \(127\.0\.0\.1:\d+\): message of \d+ bytes .*over tcp_max_size/, 'log: oversize names the connection');
like($log, qr/partial message .* not complete after \d+ s \(slow sender\): closed/, 'log: slowloris');
like($log, qr/write queue full .*peer does not read: closed/, 'log: write queue bound');
like($log, qr/tcp_max_connections\): 127\.0\.0\.1:\d+ refused/, 'log: refused connection');

$good->close;
$p->stop;
done_testing();
