#!/usr/bin/perl
# A dead stage is restarted by mid while the others keep running: SIGKILL
# sipd during a sipp run (3000 calls at 200 cps): ps shows a new sipd pid,
# State=running, Restarts=1, netd and dnsd untouched, and the run goes on
# (calls in flight at the kill may fail; failures stay bounded). Then
# dnsd, then netd, each killed and seen restarted with the others intact,
# and calls placed afterwards all succeed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;

-x '/usr/bin/sipp' || `which sipp 2>/dev/null`
    or plan(skip_all => 'sipp not installed (scripts/deps installs sip-tester)');

my $p = Proxy->new(sipd => 1, children => 4);
my $uas = $p->sipp_uas(timeout => 180);
ok($uas->{ready}, "sipp uas listening on $uas->{port}");
my %uac = (sn => 'uac', remote => "127.0.0.1:$uas->{port}",
           rsa => '127.0.0.1:' . $p->port);

sub pids { return map { ($_->{Type} => $_) } $p->ps }

# kill_and_wait(TYPE) - SIGKILL the stage, wait until ps shows it running
# with a new pid; returns (before, after) ps rows of every type
sub kill_and_wait
{
    my ($type) = @_;
    my %before = pids();
    my $old = $before{$type}{PID};
    ok(kill('KILL', $old), "SIGKILL $type (pid $old)");
    my @ps = $p->wait_ps(sub {
        my ($r) = grep { $_->{Type} eq $type } @_;
        $r && $r->{PID} != $old && $r->{State} eq 'running'
    }, 15);
    ok(@ps, "$type restarted: new pid, State=running, within 15 s")
        or diag(Proxy::ps_text($p->{last_ps}));
    my %after = map { ($_->{Type} => $_) } @ps;
    return (\%before, \%after);
}

sub same_pids
{
    my ($before, $after, $type, @others) = @_;
    for my $o (@others) {
        is($after->{$o}{PID}, $before->{$o}{PID}, "after $type restart: $o has the same pid");
        is($after->{$o}{Restarts}, $before->{$o}{Restarts}, "after $type restart: $o Restarts unchanged");
    }
}

sub calls_ok
{
    my ($tag, $n) = @_;
    my $r = $p->sipp(%uac, m => $n, r => 100, timeout => 30);
    my $ok = is($r->{successful}, $n, "$tag: $n calls succeed");
    $ok &= is($r->{failed}, 0, "$tag: zero failed");
    Proxy::sipp_diag($r) unless $ok;
}

# --- sipd killed during a run ---------------------------------------------
{
    my $N = 3000;
    my $h = $p->sipp_start(%uac, m => $N, r => 200, timeout => 60);
    sleep 3;
    my ($b, $a) = kill_and_wait('sipd');
    is($a->{sipd}{Restarts}, 1, 'sipd: Restarts=1');
    same_pids($b, $a, 'sipd', qw(mid netd dnsd));
    my $t0 = time;
    my $r = $p->sipp_wait($h);
    ok(!$r->{killed}, 'the sipp run ended by itself');
    my $ok = cmp_ok($r->{successful} // 0, '>=', int(0.8 * $N),
                    "at least 80% of $N calls succeeded across the restart");
    $ok &= cmp_ok($r->{failed} // $N, '<=', int(0.10 * $N),
                  'failed calls bounded (<= 10%: only calls in flight at the kill)');
    $ok &= is(($r->{successful} // 0) + ($r->{failed} // 0), $N,
              'every call ended, successful or failed');
    Proxy::sipp_diag($r) unless $ok;
    diag("sipd kill: $r->{successful} successful, $r->{failed} failed")
        if defined $r->{successful};
    calls_ok('after the sipd restart', 200);
}

# --- dnsd ------------------------------------------------------------------
{
    my ($b, $a) = kill_and_wait('dnsd');
    is($a->{dnsd}{Restarts}, 1, 'dnsd: Restarts=1');
    same_pids($b, $a, 'dnsd', qw(mid netd sipd));
    calls_ok('after the dnsd restart', 200);
}

# --- netd: the sockets belong to mid, so a new netd serves the same ports
{
    my ($b, $a) = kill_and_wait('netd');
    is($a->{netd}{Restarts}, 1, 'netd: Restarts=1');
    same_pids($b, $a, 'netd', qw(mid sipd dnsd));
    calls_ok('after the netd restart', 200);
}

my %end = pids();
ok(kill(0, $end{$_}{PID}), "$_ still alive at the end") for qw(netd sipd dnsd);
$p->stop;
done_testing();
