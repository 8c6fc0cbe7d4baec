#!/usr/bin/perl
# MI stage_scale sipd N: sipd processes added and retired at run time
# while traffic flows. Up: the new instances run and carry calls (shown
# by stopping sipd/0 with SIGSTOP: requests whose Call-ID hashes to the
# others are still forwarded). Down: the retired instances stop and
# leave the process table, every request goes through the one left, and
# netd and dnsd keep their pids throughout. Bad arguments get 400.

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
my %pid0 = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
my $seq = 0;

sub options
{
    my $n = ++$seq;
    return Sip::options("sip:bob\@127.0.0.1:$S", $U, "sc-$n");
}

# burst(N, WAIT) - send N requests with distinct Call-IDs; how many the
# UAS got within WAIT seconds
sub burst
{
    my ($n, $wait) = @_;
    $uac->send(options(), $P) for 1 .. $n;
    my ($got, $deadline) = (0, time + $wait);
    while ($got < $n && time < $deadline) {
        my ($m) = $uas->recv(0.2);
        $got++ if defined $m;
    }
    return $got;
}

sub sipd_rows { grep { $_->{Type} eq 'sipd' } $p->ps }

# -- arguments
my ($c, $r) = $p->mi('stage_scale', 'netd', '2');
is($c, 400, 'stage_scale netd: 400');
like($r, qr/only sipd/i, 'stage_scale netd: says only sipd scales');
($c) = $p->mi('stage_scale', 'sipd', '0');
is($c, 400, 'stage_scale sipd 0: 400');
($c) = $p->mi('stage_scale', 'sipd', '17');
is($c, 400, 'stage_scale sipd 17: 400');
($c) = $p->mi('stage_scale', 'sipd', 'x');
is($c, 400, 'stage_scale sipd x: 400');
($c) = $p->mi('stage_scale', 'sipd');
is($c, 400, 'stage_scale sipd (no count): 400');

# -- up: 1 -> 3
my ($code, $reason, $lines) = $p->mi('stage_scale', 'sipd', '3');
is($code, 200, 'stage_scale sipd 3: 200');
is_deeply($lines, ['sipd:: 3'], 'stage_scale sipd 3: reply line');
ok($p->wait_ps(sub { (grep { $_->{Type} eq 'sipd'
                             && $_->{State} eq 'running' } @_) == 3 }, 10),
   'three sipd instances running') or diag(Proxy::ps_text($p->{last_ps}));
my %inst = map { ($_->{Instance} => $_->{PID}) } sipd_rows();
is_deeply([sort keys %inst], [0, 1, 2], 'instances 0, 1, 2');
is($inst{0}, $pid0{'sipd/0'}, 'sipd/0 kept its pid');
sleep 0.5;                              # netd picks the count up per tick
is(burst(60, 5), 60, 'after scaling up: 60 of 60 forwarded');

# Stop sipd/0: what hashes to 1 and 2 still goes through, so they carry
# traffic; what hashes to 0 waits in its ring until it continues.
ok(Proxy::stop_process($inst{0}), 'sipd/0: every thread stopped');
my $while_stopped = burst(60, 2);
kill('CONT', $inst{0});
ok($while_stopped > 0 && $while_stopped < 60,
   "with sipd/0 stopped, the other instances forwarded $while_stopped of 60");
my ($rest) = (0);
my $deadline = time + 5;
while ($while_stopped + $rest < 60 && time < $deadline) {
    my ($m) = $uas->recv(0.2);
    $rest++ if defined $m;
}
is($while_stopped + $rest, 60,
   'after SIGCONT the requests queued for sipd/0 are forwarded too');

# -- down: 3 -> 1
($code, undef, $lines) = $p->mi('stage_scale', 'sipd', '1');
is($code, 200, 'stage_scale sipd 1: 200');
ok($p->wait_ps(sub { (grep { $_->{Type} eq 'sipd' } @_) == 1 }, 10),
   'one sipd row left') or diag(Proxy::ps_text($p->{last_ps}));
my @left = sipd_rows();
is($left[0]{Instance}, 0, 'the one left is sipd/0');
is($left[0]{PID}, $inst{0}, 'with its pid');
ok(!kill(0, $inst{1}) && !kill(0, $inst{2}), 'sipd/1 and sipd/2 are gone');
is(burst(60, 5), 60, 'after scaling down: 60 of 60 forwarded');

my %pid1 = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
is($pid1{'netd/0'}, $pid0{'netd/0'}, 'netd kept its pid');
is($pid1{'dnsd/0'}, $pid0{'dnsd/0'}, 'dnsd kept its pid');
is((grep { $_->{Restarts} } $p->ps), 0, 'nothing was restarted');
is($p->stat('core:fwd_requests'), 180, 'core:fwd_requests: 3 bursts of 60');

# -- up again: a fresh sipd/1
($code) = $p->mi('stage_scale', 'sipd', '2');
is($code, 200, 'stage_scale sipd 2: 200');
ok($p->wait_ps(sub { (grep { $_->{Type} eq 'sipd'
                             && $_->{State} eq 'running' } @_) == 2 }, 10),
   'two sipd instances running again');
sleep 0.5;
is(burst(40, 5), 40, 'after scaling up again: 40 of 40 forwarded');

# -- up to the most at once: 1 -> 16, twice. A new instance checks its
# number against the live count in the segment (nsipd) at start; mid
# forks 15 of them in a row, so the first ones reach that check while
# mid is still forking the rest: the count must be raised before the
# first fork, or they die "rings: Invalid argument" and restart.
for my $round (1, 2) {
    ($code) = $p->mi('stage_scale', 'sipd', '1');
    is($code, 200, "round $round: stage_scale sipd 1: 200");
    ok($p->wait_ps(sub { (grep { $_->{Type} eq 'sipd' } @_) == 1 }, 10),
       "round $round: one sipd row left")
        or diag(Proxy::ps_text($p->{last_ps}));
    ($code) = $p->mi('stage_scale', 'sipd', '16');
    is($code, 200, "round $round: stage_scale sipd 16: 200");
    ok($p->wait_ps(sub { (grep { $_->{Type} eq 'sipd'
                                 && $_->{State} eq 'running' } @_) == 16 },
                   20),
       "round $round: sixteen sipd instances running")
        or diag(Proxy::ps_text($p->{last_ps}));
}
my @bad = grep { /sipd\[\d+\]: \w+: .*rings: / } split /\n/, $p->log;
is(scalar(@bad), 0, 'no new sipd failed to attach its rings')
    or diag(join("\n", @bad[0 .. ($#bad < 3 ? $#bad : 3)]));
is((grep { $_->{Restarts} } $p->ps), 0, 'no sipd was restarted');
sleep 0.5;
is(burst(80, 5), 80, 'with 16 instances: 80 of 80 forwarded');

$p->stop;
done_testing();
