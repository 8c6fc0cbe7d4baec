#!/usr/bin/perl
# An idle proxy sleeps (issue 8: "idle CPU stays near zero, no
# busy-polling when there is no traffic").
#
# After one request is relayed, nothing is sent for 4 s and the wake-ups
# (voluntary + involuntary context switches, /proc/PID/task/TID/status)
# of every thread of every stage are counted, with their CPU time:
#
#   - sipd's main thread is woken 2-3 times a second (its once-a-second
#     tick when no worker has parked lookups; mid's ping, through
#     nanomsg's thread), not by every 100 ms timer tick: at most 6/s.
#     It was 12/s before the timer stopped ticking an idle main thread.
#   - every other thread (netd's reactor with its 250 ms transport
#     tick, sipd's timer thread at 10/s, the workers, mid's main thread
#     and nanomsg's threads, which pass mid's 1/s pings with about ten
#     futex hand-offs) at most 30/s: busy-polling would be thousands.
#   - the stages and mid together use under 20 ms of CPU a second
#     (about 2 ms in a quiet run).
# A sleeping thread's count does not grow with the machine's load, so
# the bounds hold on a busy machine.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use POSIX ();
use Proxy qw(slurp);
use Sip;

my $SECS = 4;
my $HZ = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

my $p = Proxy->new(sipd => 1, children => 2);
my $P = $p->port;
my $uac = $p->udp_socket;
my $uas = $p->udp_socket;
my $S = $uas->port;

$uac->send(Sip::options("sip:bob\@127.0.0.1:$S", $uac->port, 'idle-1'),
           $P);
my ($m) = $uas->recv(5);
like($m // '', qr/^OPTIONS sip:bob\@/, 'a request is relayed first');

# Every process of the proxy, asked once: an MI request wakes mid.
my %type = map { $_->{PID} => $_->{Type} } $p->ps;
is(scalar(keys %type), 4, 'mid, netd, sipd and dnsd found')
    or diag(join(' ', %type));

# thread key => [wake-ups, CPU ticks]; every thread of mid and its stages
sub snap
{
    my %s;
    for my $pid (keys %type) {
        my $type = $type{$pid};
        for my $t (glob("/proc/$pid/task/*")) {
            my ($tid) = $t =~ m{/(\d+)$};
            my $st = slurp("$t/status") // next;
            my $w = 0;
            $w += $1 while $st =~ /ctxt_switches:\s+(\d+)/g;
            my $stat = slurp("$t/stat") // next;
            $stat =~ /^\d+ \(.*\) (.*)$/s or next;
            my @f = split(' ', $1);
            my $key = "$type/$pid/$tid"
                      . ($tid == $pid ? '/main' : '');
            $s{$key} = [ $w, $f[11] + $f[12] ];
        }
    }
    return \%s;
}

sleep 1;                                # the first ticks look and settle
my $s0 = snap();
sleep $SECS;
my $s1 = snap();

my ($cpu, @lines) = (0);
my ($sipd_main, $worst, $worst_key) = (undef, 0, '');
for my $k (sort keys %$s1) {
    next unless $s0->{$k};
    my $w = ($s1->{$k}[0] - $s0->{$k}[0]) / $SECS;
    $cpu += $s1->{$k}[1] - $s0->{$k}[1];
    push @lines, sprintf('%-24s %5.1f wake-ups/s', $k, $w);
    if ($k =~ m{^sipd/\d+/\d+/main$}) {
        $sipd_main = $w;
    } elsif ($w > $worst) {
        ($worst, $worst_key) = ($w, $k);
    }
}
my $ms = $cpu * 1000 / $HZ / $SECS;

ok(defined $sipd_main, 'sipd main thread found') or diag(join("\n", @lines));
cmp_ok($sipd_main // 99, '<=', 6,
       'idle: sipd main thread woken at most 6 times a second')
    or diag(join("\n", @lines));
cmp_ok($worst, '<=', 30, "idle: no other thread woken over 30/s"
       . " (most: $worst_key)") or diag(join("\n", @lines));
cmp_ok($ms, '<', 20, 'idle: the proxy uses under 20 ms CPU a second')
    or diag(sprintf('%.1f ms/s', $ms));
note(join("\n", @lines));

# Traffic after the quiet: ticks are not needed for a relay, but the
# proxy must answer at once, not after a slow tick.
$uac->send(Sip::options("sip:bob\@127.0.0.1:$S", $uac->port, 'idle-2'),
           $P);
($m) = $uas->recv(5);
like($m // '', qr/^OPTIONS sip:bob\@.*idle-2/s, 'relayed after the quiet');

$p->stop;
done_testing();
