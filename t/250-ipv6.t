#!/usr/bin/perl
# IPv6 end to end over ::1. The proxy listens on udp and tcp on
# 127.0.0.1:P and on [::1]:P6; the test plays the UAC and the UAS over
# both families and checks the bytes:
#
#  - UDP v6 in, v6 out (sip:bob@[::1]:S6): our Via is
#      Via: SIP/2.0/UDP [::1]:P6;branch=z9hG4bK...
#    the sender's gets ;rport=U6;received=::1 (RFC 3581 section 4; the
#    received value is an IPv6address, no brackets: RFC 3261 25.1
#    via-received, RFC 5118 section 4.5); the 200 comes back to
#    [::1]:U6 with our Via gone;
#  - v4 in -> v6 out (the 200 back over v4), v6 in -> v4 out (the 200
#    back over v6);
#  - a response whose Via carries received=[::1] (brackets, which RFC
#    5118 4.5 asks receivers to accept) or received=::1 reaches ::1;
#  - a reply sipd makes itself (483, Max-Forwards: 0) to a v6 UAC;
#  - TCP: v6 in -> v6 out, v4 in -> v6 out, v6 in -> v4 out, responses
#    back on the connections;
#  - DNS (dnsmasq, skipped without it): an AAAA-only name is used with
#    [dns] try_ipv6 = 1 and the request that came in over IPv4 leaves
#    over IPv6 with our Via and the top Record-Route naming [::1]:P6
#    (it was sent from the IPv6 socket with a Via naming the IPv4 one
#    before sipd routed such a request again for the target's family); with
#    try_ipv6 = 0 the UAC gets 478 (no A record: nothing to try).
#
# Skipped as a whole when ::1 cannot be bound (no IPv6 loopback).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Watchdog;
use IO::Select;
use IO::Socket::IP;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Proxy qw(free_ports);
use Sip;
use Tcp;
use Dnsmasq;

{
    my $probe = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                                    Proto => 'udp');
    plan skip_all => "no IPv6 loopback: cannot bind udp [::1]: $@"
        unless $probe;
}

# ---- v6 helpers ---------------------------------------------------------

# free_port6() - a port free on ::1 for both UDP and TCP right now
sub free_port6
{
    for (1 .. 50) {
        my $t = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                                    Proto => 'tcp', Listen => 1) or next;
        my $u = IO::Socket::IP->new(LocalHost => '::1',
                                    LocalPort => $t->sockport,
                                    Proto => 'udp') or next;
        return $t->sockport;
    }
    die "free_port6: no port free on ::1 for both udp and tcp";
}

sub udp6 { IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                               Proto => 'udp') or die "udp6: $@" }

# send6(SOCK, BYTES, PORT) - to [::1]:PORT
sub send6
{
    my ($s, $bytes, $port) = @_;
    my $to = (IO::Socket::IP->new(PeerHost => '::1', PeerPort => $port,
                                  Proto => 'udp') or die "peer6: $@")->peername;
    defined(send($s, $bytes, 0, $to)) or die "send6 to $port: $!";
}

# recv_any(SOCK, TIMEOUT) - one datagram, or undef
sub recv_any
{
    my ($s, $t) = @_;
    return undef unless IO::Select->new($s)->can_read($t // 3);
    defined(recv($s, my $buf, 65535, 0)) or return undef;
    return $buf;
}

sub tcp6_listen
{
    my $l = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                                Proto => 'tcp', Listen => 16, ReuseAddr => 1)
        or die "tcp6 listen: $@";
    return bless { l => $l }, 'Tcp';
}

sub tcp6_connect
{
    my ($port) = @_;
    my $s = IO::Socket::IP->new(PeerHost => '::1', PeerPort => $port,
                                Proto => 'tcp', Timeout => 3)
        or return undef;
    $s->autoflush(1);
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
    return bless { s => $s, buf => '', eof => 0 }, 'Tcp';
}

# ---- the proxy ----------------------------------------------------------

my $P6 = free_port6();
my $p = Proxy->new(sipd => 1, children => 2, tcp => 1,
                   extra => { net => [ "listen = udp:[::1]:$P6",
                                       "listen = tcp:[::1]:$P6" ] });
my $P = $p->port;
my $seq = 0;

# req(RURI, VIA, [MF]) - an OPTIONS with the given top Via value
sub req
{
    my ($ruri, $via, $mf) = @_;
    my $n = ++$seq;
    return Sip::msg("OPTIONS $ruri SIP/2.0", [
        "Via: $via", 'Max-Forwards: ' . ($mf // 70),
        "From: <sip:alice\@example.com>;tag=f$n",
        "To: <$ruri>", "Call-ID: v6-$n-$$\@example.com",
        "CSeq: $n OPTIONS", 'Content-Length: 0' ], '');
}

# vias(BYTES) - the Via lines, in order
sub vias { [ Sip::hdr(Sip::parse($_[0] // '') // { headers => [] }, 'Via') ] }

# ok200(FORWARDED) - the UAS's 200: its Vias (and the rest) echoed
sub ok200
{
    my ($fwd, %o) = @_;
    my $q = Sip::parse($fwd);
    my @h = grep { Sip::name_of($_) =~ /^(?:via|from|to|call-id|cseq)$/ }
            @{ $q->{headers} };
    @h = map { $o{edit} ? $o{edit}->($_) : $_ } @h;
    s/^(To: .*)$/$1;tag=u1/ for @h;
    return Sip::msg('SIP/2.0 200 OK', [ @h, 'Content-Length: 0' ], '');
}

# our_via(LINE, PROTO, HOSTPORT) - LINE is our Via: exact up to ;branch
sub our_via
{
    my ($line, $proto, $hp, $name) = @_;
    # over TCP netd's connection id follows (;cid=HEX: the response goes
    # back on that connection)
    my $cid = $proto eq 'TCP' ? ';cid=[0-9a-f]+' : '';
    like($line // '', qr{^Via: SIP/2\.0/$proto \Q$hp\E;branch=z9hG4bK[^;,]+$cid$},
         "$name: our Via is SIP/2.0/$proto $hp;branch=...");
}

# ---- UDP v6 in -> v6 out --------------------------------------------------
my $uac6 = udp6();
my $U6 = $uac6->sockport;
my $uas6 = udp6();
my $S6 = $uas6->sockport;

send6($uac6, req("sip:bob\@[::1]:$S6", "SIP/2.0/UDP [::1]:$U6;rport;branch=z9hG4bKa6"),
      $P6);
my $f = recv_any($uas6, 3);
ok(defined $f, 'v6 -> v6: forwarded to [::1]:S6')
    or diag($p->log_tail(20));
like(Sip::parse($f // '')->{start} // '', qr{^OPTIONS sip:bob\@\[::1\]:$S6 SIP/2\.0$},
     'v6 -> v6: Request-URI kept');
my $v = vias($f);
our_via($v->[0], 'UDP', "[::1]:$P6", 'v6 -> v6');
is($v->[1], "Via: SIP/2.0/UDP [::1]:$U6;rport=$U6;branch=z9hG4bKa6;received=::1",
   'v6 -> v6: sender Via: rport filled, received=::1 (no brackets)');
send6($uas6, ok200($f), $P6);
my $r = recv_any($uac6, 3);
is(Sip::status($r), 200, 'v6 -> v6: 200 back to [::1]:U6');
is_deeply(vias($r), [ $v->[1] ], 'v6 -> v6: 200 has our Via removed');

# ---- v4 in -> v6 out ------------------------------------------------------
my $uac = $p->udp_socket;
my $U = $uac->port;
$uac->send(req("sip:bob\@[::1]:$S6", "SIP/2.0/UDP 127.0.0.1:$U;rport;branch=z9hG4bKb4"),
           $P);
$f = recv_any($uas6, 3);
ok(defined $f, 'v4 -> v6: forwarded to [::1]:S6');
$v = vias($f);
our_via($v->[0], 'UDP', "[::1]:$P6", 'v4 -> v6');
is($v->[1], "Via: SIP/2.0/UDP 127.0.0.1:$U;rport=$U;branch=z9hG4bKb4;received=127.0.0.1",
   'v4 -> v6: sender Via as v4');
send6($uas6, ok200($f), $P6);
($r) = $uac->recv(3);
is(Sip::status($r), 200, 'v4 -> v6: 200 back over IPv4 to 127.0.0.1:U');
is_deeply(vias($r), [ $v->[1] ], 'v4 -> v6: 200 has our Via removed');

# ---- v6 in -> v4 out ------------------------------------------------------
my $uas = $p->udp_socket;
my $S = $uas->port;
send6($uac6, req("sip:bob\@127.0.0.1:$S", "SIP/2.0/UDP [::1]:$U6;rport;branch=z9hG4bKc6"),
      $P6);
($f) = $uas->recv(3);
ok(defined $f, 'v6 -> v4: forwarded to 127.0.0.1:S');
$v = vias($f);
our_via($v->[0], 'UDP', "127.0.0.1:$P", 'v6 -> v4');
is($v->[1], "Via: SIP/2.0/UDP [::1]:$U6;rport=$U6;branch=z9hG4bKc6;received=::1",
   'v6 -> v4: sender Via keeps its v6 sent-by, received=::1');
$uas->send(ok200($f), $P);
$r = recv_any($uac6, 3);
is(Sip::status($r), 200, 'v6 -> v4: 200 back over IPv6 to [::1]:U6');
is_deeply(vias($r), [ $v->[1] ], 'v6 -> v4: 200 has our Via removed');

# ---- received= with and without brackets (RFC 5118 4.5) ----------------------
# The sent-by is a name nobody resolves: only received=/rport can carry
# the response back. The UAS rewrites received= as the case says.
for my $case ([ 'brackets', '[::1]' ], [ 'no brackets', '::1' ]) {
    my ($name, $rcvd) = @$case;
    my $b = 'z9hG4bKd' . ++$seq;
    send6($uac6, req("sip:bob\@127.0.0.1:$S",
                     "SIP/2.0/UDP uac.invalid:$U6;rport;branch=$b"), $P6);
    ($f) = $uas->recv(3);
    $v = vias($f);
    is($v->[1], "Via: SIP/2.0/UDP uac.invalid:$U6;rport=$U6;branch=$b;received=::1",
       "received $name: forwarded with received=::1");
    my $edit = sub { (my $l = $_[0]) =~ s/;received=::1$/;received=$rcvd/;
                     return $l };
    $uas->send(ok200($f, edit => $edit), $P);
    $r = recv_any($uac6, 3);
    is(Sip::status($r), 200, "received=$rcvd: the 200 reaches [::1]:U6");
    is_deeply(vias($r),
              [ "Via: SIP/2.0/UDP uac.invalid:$U6;rport=$U6;branch=$b;"
                . "received=$rcvd" ],
              "received=$rcvd: Via relayed as the UAS sent it");
}

# ---- a reply sipd makes itself, to a v6 UAC ----------------------------------
send6($uac6, req("sip:bob\@[::1]:$S6", "SIP/2.0/UDP [::1]:$U6;rport;branch=z9hG4bKe6", 0),
      $P6);
$r = recv_any($uac6, 3);
is(Sip::status($r), 483, 'Max-Forwards: 0 from a v6 UAC: 483 back to [::1]:U6');
is_deeply(vias($r),
          [ "Via: SIP/2.0/UDP [::1]:$U6;rport=$U6;branch=z9hG4bKe6;received=::1" ],
          '483: Via with rport and received=::1');
ok(!defined recv_any($uas6, 0.3), '483: nothing forwarded');

# ---- TCP ----------------------------------------------------------------------
my $tl6 = tcp6_listen();
my $T6 = $tl6->port;
my $tl4 = Tcp->listen;
my $T4 = $tl4->port;
my $c6 = tcp6_connect($P6);
ok($c6, 'TCP: connected to [::1]:P6') or BAIL_OUT($p->log_tail(20));
my $C6 = $c6->{s}->sockport;

# v6 in -> v6 out
$c6->send(req("sip:bob\@[::1]:$T6;transport=tcp",
              "SIP/2.0/TCP [::1]:$C6;rport;branch=z9hG4bKt1"));
my $conn6 = $tl6->accept(3);
ok($conn6, 'TCP v6 -> v6: the proxy connected to [::1]:T6');
$f = $conn6 ? $conn6->recv_msg(3) : undef;
$v = vias($f);
our_via($v->[0], 'TCP', "[::1]:$P6", 'TCP v6 -> v6');
is($v->[1], "Via: SIP/2.0/TCP [::1]:$C6;rport=$C6;branch=z9hG4bKt1;received=::1",
   'TCP v6 -> v6: sender Via');
$conn6->send(ok200($f)) if $conn6;
$r = $c6->recv_msg(3);
is(Sip::status($r), 200, 'TCP v6 -> v6: 200 back on the client connection');
is_deeply(vias($r), [ $v->[1] ], 'TCP v6 -> v6: our Via removed');

# v4 in -> v6 out: reuses the proxy's connection to [::1]:T6
my $c4 = Tcp->connect($P);
my $C4 = $c4->{s}->sockport;
$c4->send(req("sip:bob\@[::1]:$T6;transport=tcp",
              "SIP/2.0/TCP 127.0.0.1:$C4;rport;branch=z9hG4bKt2"));
$f = $conn6 ? $conn6->recv_msg(3) : undef;
$v = vias($f);
our_via($v->[0], 'TCP', "[::1]:$P6", 'TCP v4 -> v6');
is($v->[1], "Via: SIP/2.0/TCP 127.0.0.1:$C4;rport=$C4;branch=z9hG4bKt2;received=127.0.0.1",
   'TCP v4 -> v6: sender Via');
$conn6->send(ok200($f)) if $conn6;
$r = $c4->recv_msg(3);
is(Sip::status($r), 200, 'TCP v4 -> v6: 200 back over IPv4');

# v6 in -> v4 out
$c6->send(req("sip:bob\@127.0.0.1:$T4;transport=tcp",
              "SIP/2.0/TCP [::1]:$C6;rport;branch=z9hG4bKt3"));
my $conn4 = $tl4->accept(3);
ok($conn4, 'TCP v6 -> v4: the proxy connected to 127.0.0.1:T4');
$f = $conn4 ? $conn4->recv_msg(3) : undef;
$v = vias($f);
our_via($v->[0], 'TCP', "127.0.0.1:$P", 'TCP v6 -> v4');
is($v->[1], "Via: SIP/2.0/TCP [::1]:$C6;rport=$C6;branch=z9hG4bKt3;received=::1",
   'TCP v6 -> v4: sender Via');
$conn4->send(ok200($f)) if $conn4;
$r = $c6->recv_msg(3);
is(Sip::status($r), 200, 'TCP v6 -> v4: 200 back over IPv6');
is_deeply(vias($r), [ $v->[1] ], 'TCP v6 -> v4: our Via removed');

$p->stop;

# ---- DNS: AAAA with try_ipv6 ---------------------------------------------------
SKIP: {
    skip('dnsmasq not installed (scripts/deps installs it)', 7)
        unless Dnsmasq::binary();
    my $tmp = tempdir('sipstage-v6dns-XXXXXXXX', TMPDIR => 1,
                      CLEANUP => !$ENV{T_LEAVE});
    Watchdog::dir($tmp);                 # removed if the test dies
    my $dport = Tcp::free_port();
    my $dm = Dnsmasq::start($tmp, $dport, '--host-record=uas6.test,::1');
    skip('dnsmasq did not start', 7) unless $dm;

    for my $try (1, 0) {
        my $q = Proxy->new(sipd => 1, children => 2, record_route => 1,
            extra => { net => [ "listen = udp:[::1]:$P6" ],
                       dns => [ "servers = 127.0.0.1:$dport",
                                'timeout_ms = 1000', 'tries = 1',
                                "try_ipv6 = $try" ] });
        my $QP = $q->port;
        my $u = $q->udp_socket;
        my $UP = $u->port;
        $u->send(req("sip:bob\@uas6.test:$S6",
                     "SIP/2.0/UDP 127.0.0.1:$UP;branch=z9hG4bKn$try"), $QP);
        if ($try) {
            $f = recv_any($uas6, 5);
            ok(defined $f, 'try_ipv6 = 1: AAAA-only name sent to [::1]:S6')
                or diag($q->log_tail(20));
            $v = vias($f);
            our_via($v->[0], 'UDP', "[::1]:$P6", 'try_ipv6 = 1');
            is($v->[1], "Via: SIP/2.0/UDP 127.0.0.1:$UP;branch=z9hG4bKn1",
               'try_ipv6 = 1: the sender Via untouched');
            is_deeply([ Sip::hdr(Sip::parse($f // ''), 'Record-Route') ],
                      [ "Record-Route: <sip:[::1]:$P6;r2=on;lr>",
                        "Record-Route: <sip:127.0.0.1:$QP;r2=on;lr>" ],
                      'try_ipv6 = 1: double Record-Route, IPv6 side on top');
            send6($uas6, ok200($f), $P6);
            ($r) = $u->recv(3);
            is(Sip::status($r), 200, 'try_ipv6 = 1: 200 back over IPv4');
        } else {
            ($r) = $u->recv(5);
            is(Sip::status($r), 478,
               'try_ipv6 = 0: AAAA-only name: 478 (no A record)');
            ok(!defined recv_any($uas6, 0.3),
               'try_ipv6 = 0: nothing sent over IPv6');
        }
        $q->stop;
    }
    Dnsmasq::stop($dm);
}

done_testing;
