#!/usr/bin/perl
# A ring per sipd worker (issue 8): netd hashes each Call-ID straight to
# one worker of one sipd, and [core] children can change under traffic
# without losing what waits in the rings.
#
# 1. Order per Call-ID: 10 calls of 6 requests each, sent back to back
#    and interleaved (60 datagrams: what the UAS's socket buffer holds), arrive at the UAS in the order each call sent
#    them (CSeq ascending per Call-ID), over 4 workers.
# 2. Fewer workers: sipd (children = 2) is stopped (SIGSTOP) and 60
#    requests wait in both workers' request rings (netd>sipd.0.0 and
#    netd>sipd.0.1, the ring backlog gauges say so). A reload to
#    children = 1 replaces the stopped sipd (killed once past hang_ms);
#    the new one runs one worker, finds the records of slot 1 that it no
#    longer runs, and hands them to worker 0 (logged): all 60 relayed,
#    none twice. Then new traffic flows through the one worker.
# 3. More workers: a reload back to children = 3 formats the rings of
#    slot 2; netd attaches them (logged) and traffic reaches all 3.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;

my $p = Proxy->new(sipd => 1, children => 4, debug => 2,
                   extra => { stages => [ 'hang_ms = 1500',
                                          'max_queue_ms = 60000' ] },
                   log_ok => qr/killed by signal 9|did not answer|stalled/);
my $P = $p->port;
my $uac = $p->udp_socket;
my $uas = $p->udp_socket;
my ($U, $S) = ($uac->port, $uas->port);
my $base = $p->config_text;

sub req
{
    my ($id, $cseq) = @_;
    my $m = Sip::options("sip:bob\@127.0.0.1:$S", $U, $id);
    $m =~ s/^CSeq: \d+/CSeq: $cseq/m;
    return $m;
}

# collect(WANT, SECS) - Call-ID => [CSeqs in arrival order] at the UAS
sub collect
{
    my ($want, $secs) = @_;
    my (%got, $n);
    my $deadline = time + $secs;
    while (($n // 0) < $want && time < $deadline) {
        my ($m) = $uas->recv(0.2);
        next unless defined $m;
        my ($id) = $m =~ /^Call-ID:\s*(\S+)-\d+\@/mi;   # Sip.pm adds -PID@
        my ($cs) = $m =~ /^CSeq:\s*(\d+)/mi;
        push @{ $got{$id} }, $cs;
        $n++;
    }
    return \%got;
}

sub total { my $n = 0; $n += @$_ for values %{ $_[0] }; $n }

sub backlog
{
    my ($ring) = @_;
    my (undef, undef, $l) = $p->mi('get_statistics', 'ring:');
    for (@{ $l || [] }) {
        return $1 if /^ring:\Q$ring\E_backlog:: (\d+)$/;
    }
    return undef;
}

sub reload_children
{
    my ($n) = @_;
    Proxy::spew($p->cfg, $base =~ s/^children = \d+$/children = $n/mr);
    my ($c, $why) = $p->mi('reload');
    my $until = time + 15;
    while (defined $c && $c == 409 && $why =~ /in progress/ && time < $until) {
        sleep 0.2;
        ($c, $why) = $p->mi('reload');
    }
    return ($c, $why);
}

sub sipd_pid
{
    my ($row) = grep { $_->{Type} eq 'sipd' && $_->{State} eq 'running' }
                $p->ps;
    return $row ? $row->{PID} : undef;
}

like($base, qr/^children = 4$/m, 'the config says children = 4');

# -- 1. order per Call-ID over 4 workers
{
    my @calls = map { "wk-o$_" } 1 .. 10;
    for my $cs (1 .. 6) {
        $uac->send(req($_, $cs), $P) for @calls;
    }
    my $got = collect(60, 10);
    is(total($got), 60, 'order: 60 of 60 relayed');
    my @bad = grep { join(',', @{ $got->{$_} || [] }) ne join(',', 1 .. 6) }
              @calls;
    is(scalar(@bad), 0, 'order: every call arrived in the order it was sent')
        or diag("$bad[0]: @{ $got->{$bad[0]} || [] }");
}

# -- 2. fewer workers: what waits in slot 1's rings is not lost
{
    my ($c, $why) = reload_children(2);
    is($c, 200, 'reload to children = 2') or diag($why);
    ok($p->wait_ps(sub { grep { $_->{Type} eq 'sipd'
                                && $_->{State} eq 'running' } @_ }, 15),
       'sipd running with 2 workers');
    sleep 0.5;                          # netd reads the count per tick
    my $old = sipd_pid();
    ok(Proxy::stop_process($old), "sipd $old stopped, every thread");
    my @ids = map { "wk-l$_" } 1 .. 60;
    $uac->send(req($_, 1), $P) for @ids;
    my ($b0, $b1, $prev) = (0, 0, -1);
    my $until = time + 5;
    while (time < $until) {             # until all 60 are in the rings
        ($b0, $b1) = (backlog('netd>sipd.0.0') // 0,
                      backlog('netd>sipd.0.1') // 0);
        last if $b0 > 0 && $b1 > 0 && $b0 + $b1 == $prev;
        $prev = $b0 + $b1;
        sleep 0.1;
    }
    ok($b0 > 0 && $b1 > 0,
       "requests wait in both workers' rings ($b0 and $b1 bytes)");
    ($c, $why) = reload_children(1);
    is($c, 200, 'reload to children = 1 while sipd is stopped') or diag($why);
    ok($p->wait_ps(sub { grep { $_->{Type} eq 'sipd' && $_->{PID} != $old
                                && $_->{State} eq 'running' } @_ }, 20),
       'a new sipd runs') or diag(Proxy::ps_text($p->{last_ps}));
    my $got = collect(60, 15);
    my @lost = grep { !$got->{$_} } @ids;
    is(scalar(@lost), 0, 'all 60 relayed, from both rings')
        or diag(scalar(@lost) . " lost: @lost[0 .. ($#lost < 4 ? $#lost : 4)]");
    is(scalar(grep { @{ $got->{$_} } > 1 } keys %$got), 0, 'none twice');
    like($p->log, qr/netd>sipd\.0\.1(\.r)?: \d+ records of a worker this sipd does not run handed to worker 0/,
         'log: slot 1\'s records handed to worker 0');
    my $until2 = time + 5;
    sleep 0.1 while time < $until2 && $p->log !~ /sipd\/0 workers: 2 -> 1/;
    like($p->log, qr/sipd\/0 workers: 2 -> 1/, 'log: netd hashes over 1 worker');
    my @again = map { "wk-a$_" } 1 .. 20;
    $uac->send(req($_, 1), $P) for @again;
    $got = collect(20, 10);
    is(scalar(grep { $got->{$_} } @again), 20, 'then 20 of 20 through one worker');
    is(backlog('netd>sipd.0.1') // 0, 0, 'slot 1\'s ring stays empty');
}

# -- 3. more workers: slot 2's rings appear and carry traffic
{
    my ($c, $why) = reload_children(3);
    is($c, 200, 'reload to children = 3') or diag($why);
    ok($p->wait_ps(sub { grep { $_->{Type} eq 'sipd'
                                && $_->{State} eq 'running' } @_ }, 15),
       'sipd running with 3 workers');
    my $until = time + 5;
    sleep 0.1 while time < $until && $p->log !~ /sipd\/0 workers: 1 -> 3/;
    like($p->log, qr/sipd\/0 workers: 1 -> 3/, 'log: netd hashes over 3 workers');
    my (undef, undef, $l) = $p->mi('get_statistics', 'ring:');
    ok((grep { /^ring:sipd\.0\.2>netd_backlog:: \d+$/ } @{ $l || [] }),
       'the rings of worker 2 are listed');
    my @ids = map { "wk-m$_" } 1 .. 60;
    $uac->send(req($_, 1), $P) for @ids;
    my $got = collect(60, 10);
    is(scalar(grep { $got->{$_} } @ids), 60, '60 of 60 relayed over 3 workers');
}

$p->stop;
done_testing();
