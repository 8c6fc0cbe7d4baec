#!/usr/bin/perl
# Responses toward TCP clients that closed, and honest send counters
# (issue "supervision and hostile peers", C and D).
#
# C: a response whose connection is gone went to the address the client
#    connected FROM (its ephemeral port, via rport): a connect/close storm
#    opened 113,055 connects. Now it goes per RFC 3261 18.2.2 to the
#    received IP and the Via's sent-by port; and a destination whose
#    connect failed is not tried again for 2 s.
# D: tcp:snd_messages counted a message whose connect was refused; now it
#    counts only messages written, and a message dropped with its
#    connection counts tcp:snd_drops. tcp:closed_by_peer counts a
#    connection the peer closed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;
use Tcp;

$SIG{PIPE} = 'IGNORE';
my $p = Proxy->new(sipd => 1, tcp => 1, log_ok => qr/never matches/);
my $P = $p->port;
my $uas = $p->udp_socket;
my $S = $uas->port;

# ok200(REQUEST) - the UAS's 200 for a request it received
sub ok200
{
    my ($req) = @_;
    my $r = Sip::parse($req);
    return Sip::msg('SIP/2.0 200 OK', [
        Sip::hdr($r, 'Via', 'v'), Sip::hdr($r, 'From', 'f'),
        map({ "$_;tag=uas" } Sip::hdr($r, 'To', 't')), Sip::hdr($r, 'Call-ID', 'i'),
        Sip::hdr($r, 'CSeq'), 'Content-Length: 0' ], '');
}

# ---- C: the client closes before the response ----
my $home = Tcp->listen;                 # where the client says it listens
my $H = $home->port;
my $c = Tcp->connect($P);
my $eph = $c->fh->sockport;
$c->send(Sip::msg("OPTIONS sip:bob\@127.0.0.1:$S SIP/2.0", [
    "Via: SIP/2.0/TCP 127.0.0.1:$H;rport;branch=z9hG4bKgone1",
    'Max-Forwards: 70', 'To: <sip:bob@example.com>',
    'From: <sip:a@example.com>;tag=1', "Call-ID: gone-1-$$",
    'CSeq: 1 OPTIONS', 'Content-Length: 0' ], ''));
my ($req) = $uas->recv(3);
ok($req, 'request relayed to the UAS');
like($req // '', qr/;rport=$eph/, "the client's Via got rport=$eph (its source port)");
my $closed0 = $p->stat('tcp:closed_by_peer') // 0;
$c->close;
is($p->wait_stat('tcp:closed_by_peer', $closed0 + 1, 3), $closed0 + 1,
   'D: tcp:closed_by_peer counts the client closing');
my $conn0 = $p->stat('tcp:connections_connected') // 0;
$uas->send(ok200($req), $P);
my $back = $home->accept(3);
my $resp = $back && $back->recv_msg(3);
like($resp // '', qr{^SIP/2\.0 200 OK\r\n}, 'C: the response went to the Via sent-by port (RFC 3261 18.2.2)');
is($p->stat('tcp:connections_connected'), $conn0 + 1, 'C: one connect, to the sent-by port');
unlike($p->log, qr/127\.0\.0\.1:$eph\b.*(?:connect|no connection)/,
       "C: nothing tried toward the client's ephemeral port $eph");
$back->close if $back;

# ---- C and D: a destination that refuses connections ----
my $dead = Tcp::free_port();            # nothing listens there
my $uac = $p->udp_socket;
my $s0 = { %{ $p->stats('tcp:') }, %{ $p->stats('net:') } };
for my $i (1 .. 4) {
    $uac->send(Sip::msg("MESSAGE sip:x\@127.0.0.1:$dead;transport=tcp SIP/2.0", [
        'Via: SIP/2.0/UDP 127.0.0.1:' . $uac->port . ";branch=z9hG4bKdead$i",
        'Max-Forwards: 70', 'To: <sip:x@example.com>',
        "From: <sip:a\@example.com>;tag=d$i", "Call-ID: dead-$i-$$",
        'CSeq: 1 MESSAGE', 'Content-Length: AUTO' ], "hi $i"), $P);
    sleep 0.1;
}
$p->wait_stat('tcp:snd_drops', ($s0->{'tcp:snd_drops'} // 0) + 4, 3);
my $s1 = { %{ $p->stats('tcp:') }, %{ $p->stats('net:') } };
my $d = sub { my $k = $_[0] =~ /:/ ? $_[0] : "tcp:$_[0]";
              ($s1->{$k} // 0) - ($s0->{$k} // 0) };
is($d->('snd_messages'), 0, 'D: tcp:snd_messages does not count messages that never left');
# Each is handed back to sipd for failover (net:send_failed; no target is
# left, so sipd answers 503): the first when its connect is refused, the
# others at once while that failure is fresh (also tcp:snd_drops).
is($d->('net:send_failed'), 4,
   'D: all 4 handed back to sipd, counted in net:send_failed');
is($d->('connect_failed'), 1, 'C: one connect to the dead destination, not one per message');
like($p->log, qr/connect to 127\.0\.0\.1:$dead failed less than 2000 ms ago: not retried yet|conn \d+ \(127\.0\.0\.1:$dead\): connect: Connection refused: 1 (?:messages|requests handed back)/,
     'log: the refused connect names the destination');

# D: a message that does leave is counted once
my $sink = Tcp->listen;
my $T = $sink->port;
$uac->send(Sip::msg("MESSAGE sip:x\@127.0.0.1:$T;transport=tcp SIP/2.0", [
    'Via: SIP/2.0/UDP 127.0.0.1:' . $uac->port . ';branch=z9hG4bKlive',
    'Max-Forwards: 70', 'To: <sip:x@example.com>',
    'From: <sip:a@example.com>;tag=l', "Call-ID: live-$$",
    'CSeq: 1 MESSAGE', 'Content-Length: AUTO' ], 'hi'), $P);
my $in = $sink->accept(3);
ok($in && $in->recv_msg(3), 'a message to a live destination arrives');
is($p->wait_stat('tcp:snd_messages', ($s1->{'tcp:snd_messages'} // 0) + 1, 3),
   ($s1->{'tcp:snd_messages'} // 0) + 1, 'D: and is counted in tcp:snd_messages once written');
$in->close if $in;

$p->stop;
done_testing();
