#!/usr/bin/perl
# Bad input never loses good input: bursts of garbage datagrams (random
# bytes, truncated requests, NULs, 0- and 1-byte datagrams, oversize
# header lines, a 64 KiB datagram, Content-Length beyond the datagram,
# huge numbers) interleaved with valid requests on the same socket.
#
# Every valid request reaches the UAS exactly once, with our Via on top
# and Max-Forwards 69 (counted at the UAS and by core:fwd_requests);
# nothing else reaches it; everything that comes back to the sender is a
# 400 (to garbage whose Via could be read) and never a reply to a valid
# request; no stage restarted and the logs hold no panic, fatal or
# sanitizer line (checked by Proxy.pm at teardown).
#
# The sender is paced on netd's own count of datagrams read (MI
# net:udp_rcv_datagrams, the udp_too_small ones included): each burst
# (at most five datagrams, up to 64 KiB each) starts with the listen
# socket's buffer empty, so the kernel never drops one however slow a
# sanitizer build is. Every datagram sent must then be counted as read
# by netd, and the proxy's own shedding counters (net:ring_full_drops,
# sipd:queue_drops, sipd:stale_drops, ring:out_full_drops) must stay 0:
# a loss is either the kernel's (the /proc/net/udp drops are printed)
# or the proxy's, never unexplained.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;

my $p = Proxy->new(sipd => 1, children => 2);
my $P = $p->port;
my $uac = $p->udp_socket;
my $uas = $p->udp_socket;
my ($U, $S) = ($uac->port, $uas->port);
my %pids0 = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
srand(4475);

sub valid
{
    my ($n, $method, $cid) = @_;
    $method //= 'OPTIONS';
    $cid //= 'good';
    return Sip::msg("$method sip:bob\@127.0.0.1:$S SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-good-$n;rport",
        'Max-Forwards: 70',
        "From: <sip:alice\@127.0.0.1:$U>;tag=g$n",
        "To: <sip:bob\@127.0.0.1:$S>",
        "Call-ID: $cid-$n\@127.0.0.1",
        "CSeq: 1 $method",
        'Content-Length: AUTO',
    ], '');
}

# bad_hdr_msg(N, NO_TO, EXTRA...) - an INVITE that is bad for EXTRA's
# sake, or (NO_TO) for lack of a To header
sub bad_hdr_msg
{
    my ($n, $no_to, @extra) = @_;
    return Sip::msg("INVITE sip:bob\@127.0.0.1:$S SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-bad-$n;rport",
        "From: <sip:alice\@127.0.0.1:$U>;tag=b$n",
        ($no_to ? () : "To: <sip:bob\@127.0.0.1:$S>"),
        "Call-ID: bad-$n\@127.0.0.1",
        "CSeq: 1 INVITE",
        @extra,
    ], '');
}

# The garbage kinds; each returns one datagram.
my @garbage = (
    sub { join('', map { chr(int(rand(256))) } 1 .. 1 + int(rand(1400))) },
    sub { my $v = valid($_[0], 'INVITE', 'trunc');
          substr($v, 0, int(rand(length($v) - 4))) },
    sub { "\0" x (1 + int(rand(1000))) },
    sub { '' },
    sub { chr(int(rand(256))) },
    sub { valid($_[0], 'OPTIONS', 'nul') =~ s/Call-ID: /Call-ID: \0/r },
    sub { bad_hdr_msg($_[0], 1, 'X-Big: ' . ('x' x 60000)) },
    sub { bad_hdr_msg($_[0], 0, 'Content-Length: 500') . 'short body' },
    sub { bad_hdr_msg($_[0], 0, 'Max-Forwards: 4294967297') },
    sub { bad_hdr_msg($_[0], 0, 'Content-Length: -1') },
    sub { bad_hdr_msg($_[0], 0, map { "X-H$_: v" } 1 .. 3000) },
    sub { bad_hdr_msg($_[0], 1, 'Fold: a' . ("\r\n b" x 2000)) },
    sub { bad_hdr_msg($_[0], 0, 'CSeq: 99999999999 INVITE') },
    sub { 'x' x 65507 },
    sub { "SIP/2.0 200 OK\r\n" . ('garbage' x 10) },
    sub { "\r\n\r\n" },
);

my $N = 150;
my (@sent_ok, $ngarbage);
my $nsent = 0;                          # datagrams, garbage and valid
my %got;
my @replies;
my $other = 0;

# netd_read() - datagrams netd has taken off its sockets so far
sub netd_read
{
    return $p->stat('net:udp_rcv_datagrams') // 0;
}

# kernel_drops() - /proc/net/udp's count of datagrams the kernel dropped
# at the proxy's listen socket (its buffer was full), for diagnostics
sub kernel_drops
{
    my $local = sprintf('0100007F:%04X', $P);
    open(my $fh, '<', '/proc/net/udp') or return '?';
    while (<$fh>) {
        my @c = split;
        return $c[12] if defined $c[12] && $c[1] eq $local;
    }
    return '?';
}

# collect() - whatever arrived at the UAS and the UAC so far
sub collect
{
    my ($t) = @_;
    while (1) {
        my ($m) = $uas->recv($t);
        last unless defined $m;
        my $g = Sip::parse($m);
        my ($cid) = $g ? map { Sip::value_of($_) } Sip::hdr($g, 'Call-ID', 'i')
                       : ();
        if (defined $cid && $cid =~ /^good-(\d+)\@/) {
            my $n = $1;
            my @h = @{ $g->{headers} };
            $got{$n}++;
            $got{"via$n"} = $h[0] =~ m{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P;branch=z9hG4bKsS[0-9a-f]{24}$} ? 1 : 0;
            $got{"mf$n"} = (grep { $_ eq 'Max-Forwards: 69' } @h) ? 1 : 0;
        } else {
            $other++;
            diag('UAS got: ' . substr(Sip::show($m), 0, 200));
        }
        $t = 0.01;
    }
    while (defined(my $r = $uac->recv(0.01))) { push @replies, $r }
}

for my $i (1 .. $N) {
    for (1 .. 1 + int(rand(4))) {
        my $g = $garbage[int(rand(@garbage))]->($i . '-' . $_);
        $uac->send($g, $P);
        $ngarbage++;
        $nsent++;
    }
    $uac->send(valid($i, $i % 3 ? 'OPTIONS' : 'INVITE'), $P);
    $nsent++;
    push @sent_ok, $i;
    collect(0) if $i % 10 == 0;
    # The kernel buffers are finite: the next burst waits until netd
    # has read this one.
    my $deadline = time + 5;
    sleep 0.002 while netd_read() < $nsent && time < $deadline;
}
# Until every valid request is in (a slow build may pause longer than
# collect()'s 10 ms between two of them), then a moment for strays.
my $deadline = time + 10;
collect(1) while (grep { !$got{$_} } @sent_ok) && time < $deadline;
collect(0.2);

note("$ngarbage garbage datagrams, $N valid requests");
my $st = $p->stats('all');
is($st->{'net:udp_rcv_datagrams'} // 0, $nsent,
   "netd read all $nsent datagrams sent (the kernel dropped none)")
    or diag('/proc/net/udp drops at the listen socket: ' . kernel_drops());
is($st->{$_} // 0, 0, "$_ = 0 (the proxy shed nothing)")
    for qw(net:ring_full_drops sipd:queue_drops sipd:stale_drops
           ring:out_full_drops);
my @missing = grep { !$got{$_} } @sent_ok;
is(scalar @missing, 0, "every valid request forwarded")
    or diag("missing: @missing; /proc/net/udp drops at the listen socket: "
            . kernel_drops());
is(scalar(grep { ($got{$_} // 0) > 1 } @sent_ok), 0, 'none forwarded twice');
is(scalar(grep { !$got{"via$_"} } grep { $got{$_} } @sent_ok), 0,
   'each with our Via on top');
is(scalar(grep { !$got{"mf$_"} } grep { $got{$_} } @sent_ok), 0,
   'each with Max-Forwards: 69');
is($other, 0, 'nothing but the valid requests reached the UAS');
is($p->wait_stat('core:fwd_requests', $N, 3), $N, "core:fwd_requests = $N");
my @not400 = grep { ($_ // '') !~ m{^SIP/2\.0 400 } } @replies;
is(scalar @not400, 0, 'every reply to the sender is a 400')
    or diag(Sip::show($not400[0]));
cmp_ok(scalar @replies, '>', 0, scalar(@replies) . ' garbage datagrams answered 400');
is(scalar(grep { /\r\nCall-ID: good-/ } @replies), 0,
   'no valid request answered');

my %pids1 = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
is_deeply(\%pids1, \%pids0, 'no stage restarted (same pids)');
is(scalar(grep { $_->{Restarts} != 0 } $p->ps), 0, 'ps: Restarts=0 everywhere');
$p->stop;
done_testing;
