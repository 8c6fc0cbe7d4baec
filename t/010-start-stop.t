#!/usr/bin/perl
# Start and stop: mid spawns netd, sipd x N and dnsd from build/bin, MI
# ps shows them all running with distinct pids, and SIGTERM or SIGINT
# stops everything with exit 0 and nothing left behind (the teardown
# checks of Proxy::stop).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Proxy qw(bin proc_scan slurp);

my @LEVELS = qw(debug info notice warning error crit alert fatal panic);
my $LEVEL = join('|', @LEVELS);

sub check_pipeline
{
    my ($p, $nsipd, $children, $tag) = @_;
    my @ps = $p->ps;
    my %by;
    push @{ $by{ $_->{Type} } }, $_ for @ps;
    is(scalar @{ $by{mid} || [] }, 1, "$tag: ps shows one mid");
    is(scalar @{ $by{netd} || [] }, 1, "$tag: ps shows one netd");
    is(scalar @{ $by{sipd} || [] }, $nsipd, "$tag: ps shows $nsipd sipd");
    is(scalar @{ $by{dnsd} || [] }, 1, "$tag: ps shows one dnsd");
    is(scalar(grep { !/^(?:mid|netd|sipd|dnsd)$/ } keys %by), 0,
       "$tag: no other process type (no dbd without [db])");
    is(scalar(grep { $_->{State} ne 'running' } @ps), 0,
       "$tag: every process State=running")
        or diag(Proxy::ps_text(\@ps));
    is(scalar(grep { $_->{Restarts} ne '0' } @ps), 0,
       "$tag: every process Restarts=0");
    my %pid = map { $_->{PID} => 1 } @ps;
    is(scalar keys %pid, scalar @ps, "$tag: distinct pids");
    my %id = map { $_->{ID} => 1 } @ps;
    is(scalar keys %id, scalar @ps, "$tag: distinct IDs");
    is($by{mid}[0]{PID}, $p->pid, "$tag: ps PID of mid is the pid we started")
        if $by{mid};
    is_deeply([ sort { $a <=> $b } map { $_->{Instance} } @{ $by{sipd} || [] } ],
              [ 0 .. $nsipd - 1 ], "$tag: sipd instances 0..N-1");

    for my $r (@ps) {
        next if $r->{Type} eq 'mid';
        my $i = Proxy::proc_info($r->{PID});
        ok($i, "$tag: $r->{Type}/$r->{Instance} pid $r->{PID} exists")
            or next;
        is($i->{ppid}, $p->pid, "$tag: $r->{Type}/$r->{Instance} is mid's child");
        is(readlink("/proc/$r->{PID}/exe"), bin($r->{Type}),
           "$tag: $r->{Type}/$r->{Instance} runs build/bin/$r->{Type}");
        if ($r->{Type} eq 'sipd') {
            # children worker threads and a timer thread at least
            cmp_ok($i->{threads}, '>=', $children + 1,
                   "$tag: sipd/$r->{Instance} has >= children+1 threads");
        }
    }
}

sub check_log_format
{
    my ($p, $tag) = @_;
    my @bad = grep { length && !/^(?:mid|netd|sipd|dnsd)\[\d+\]: (?:$LEVEL): \S+: / }
              split(/\n/, $p->log);
    ok(!@bad, "$tag: every log line is \"NAME[PID]: LEVEL: FUNC: text\"")
        or diag(join("\n", @bad[0 .. ($#bad > 9 ? 9 : $#bad)]));
}

# --- one sipd, SIGTERM -------------------------------------------------
{
    my $p = Proxy->new(children => 2, debug => 3);
    check_pipeline($p, 1, 2, 'sipd=1 children=2');
    $p->stop(signal => 'TERM');
    check_log_format($p, 'sipd=1');
}

# --- two sipd, three workers each, SIGTERM -----------------------------
{
    my $p = Proxy->new(sipd => 2, children => 3, debug => 3);
    check_pipeline($p, 2, 3, 'sipd=2 children=3');
    $p->stop(signal => 'TERM');
    check_log_format($p, 'sipd=2');
}

# --- SIGINT, two listen ports, -P pid file -----------------------------
{
    my $p = Proxy->new(sipd => 1, children => 1, listen => 2,
                       no_start => 1);
    my $pidf = $p->dir . '/dash-P.pid';
    $p->start(args => [ '-P', $pidf ]);
    check_pipeline($p, 1, 1, 'SIGINT run');
    my $want = $p->pid;
    like(slurp($pidf) // '', qr/^\s*$want\s*$/, "-P FILE holds mid's pid");
    $p->stop(signal => 'INT');
}

done_testing();
