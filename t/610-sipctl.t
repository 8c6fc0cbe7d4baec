#!/usr/bin/perl
# scripts/sipctl, the operator's CLI: options anywhere on the line (the
# old "sipctl mi -f FILE ps" sent an MI command named "-f"), every
# command against a running proxy, --json that JSON::PP parses (and
# that escapes what needs it), and the documented exit codes: 0 done,
# 1 failed, 2 usage, 3 not running, 4 config unreadable.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Proxy qw(run_cmd slurp);

my $SIPCTL = Proxy::repo_root() . '/scripts/sipctl';
my $JSON = JSON::PP->new;

sub sipctl
{
    my (@argv) = @_;
    my %env = ref $argv[0] eq 'HASH' ? %{ shift @argv } : ();
    # the build under test (make check: build-address,undefined/...),
    # not build/, which a clean tree checked with sanitizers lacks
    $env{SIPSTAGE_BIN} //= Proxy::build_dir() . '/bin';
    local @ENV{ keys %env } = values %env;
    return run_cmd([ $SIPCTL, @argv ], timeout => 40);
}

sub json_of
{
    my ($r, $tag) = @_;
    my $v = eval { $JSON->decode($r->{out}) };
    ok(defined $v, "$tag: JSON::PP parses the output")
        or diag("$@: $r->{out}$r->{err}");
    return $v;
}

# --- no proxy needed: help, usage, config, not running, db ----------------
my $idle = Proxy->new(no_start => 1);
my $IC = $idle->cfg;
{
    my $r = sipctl('--help');
    is($r->{exit}, 0, '--help: exit 0');
    like($r->{out}, qr/^\s+$_\b/m, "--help lists $_")
        for qw(start stop restart reload status ps stats scale stage cache
               blacklist db mi);
    like($r->{out}, qr/exit status:.*^\s+3\s+not running/ms,
         '--help documents the exit codes');
    is(sipctl('ps', '-h')->{exit}, 0, '-h after the command: exit 0');

    for my $bad ([], ['bogus'], ['-x', 'ps'], ['ps', '--nope'],
                 ['ps', 'extra'], ['scale', 'sipd'], ['scale', 'sipd', 'x'],
                 ['stage', 'stop', 'netd'], ['cache', 'drop'],
                 ['blacklist'], ['db'], ['db', 'drop'], ['mi'],
                 ['ps', '-f'], ['mi', 'a:b']) {
        my $r = sipctl('-f', $IC, @$bad);
        is($r->{exit}, 2, "usage error exits 2: sipctl @$bad")
            or diag($r->{out} . $r->{err});
        like($r->{err}, qr/usage:/, "... and prints the usage: @$bad");
    }

    $r = sipctl('-f', $idle->dir . '/no-such.cfg', 'ps');
    is($r->{exit}, 4, 'unreadable config: exit 4');
    like($r->{err}, qr/cannot read config/, '... says so');
    is(sipctl('status', '-f', $idle->dir . '/no-such.cfg')->{exit}, 4,
       'unreadable config, status: exit 4');

    # db init against real servers: t/705-db-init.t
    $r = sipctl('db', 'init', '-f', $IC);
    is($r->{exit}, 1, 'db init, no [db] url: exit 1');
    like($r->{err}, qr/^sipctl: db init: no \[db\] url in \Q$IC\E$/m,
         'db init, no [db] url: says so');
    is(sipctl('db', 'init', '-f', $idle->dir . '/no-such.cfg')->{exit}, 4,
       'db init, unreadable config: exit 4');

    $r = sipctl('status', '-f', $IC);
    is($r->{exit}, 3, 'status, not running: exit 3');
    like($r->{out}, qr/^not running$/m, '... "not running"');
    $r = sipctl('status', '--json', '-f', $IC);
    is($r->{exit}, 3, 'status --json, not running: exit 3');
    my $j = json_of($r, 'status --json, not running');
    ok($j && !$j->{running} && !defined $j->{pid}, '... running false, pid null');
    for my $cmd (['ps'], ['stats'], ['reload'], ['mi', 'uptime'],
                 ['cache', 'flush'], ['scale', 'sipd', '2']) {
        my $r = sipctl('-f', $IC, @$cmd);
        is($r->{exit}, 3, "not running: sipctl @$cmd exits 3")
            or diag($r->{out} . $r->{err});
    }
    is(sipctl('stop', '-f', $IC)->{exit}, 0, 'stop, not running: exit 0');
}

# --- against a running proxy ----------------------------------------------
my $p = Proxy->new(children => 1);
my $C = $p->cfg;
my $MID = $p->pid;
{
    # option placement: before, after, between, glued, long, environment
    for my $argv (['-f', $C, 'ps'], ['ps', '-f', $C], ['mi', '-f', $C, 'ps'],
                  ['mi', 'ps', '-f', $C], ["--config=$C", 'ps'],
                  ['ps', '--config', $C], ["-f$C", 'mi', 'ps'],
                  [{ SIPSTAGE_CFG => $C }, 'mi', 'ps']) {
        my @a = @$argv;
        my $shown = join(' ', map { ref $_ ? 'SIPSTAGE_CFG=..' : $_ } @a);
        my $r = sipctl(@a);
        is($r->{exit}, 0, "option placement: sipctl $shown: exit 0")
            or diag($r->{out} . $r->{err});
        like($r->{out}, qr/\b$MID\b.*\bmid\b|PID=$MID Type=mid/,
             "... shows mid's pid");
    }

    # status and ps, text and JSON
    my $r = sipctl('status', '-f', $C);
    is($r->{exit}, 0, 'status: exit 0');
    like($r->{out}, qr/^running, pid $MID$/m, 'status: running, pid');
    like($r->{out}, qr/^ID\s+PID\s+TYPE\s+INSTANCE\s+STATE\s+RESTARTS$/m,
         'status: the process table');
    $r = sipctl('--json', 'status', '-f', $C);
    my $j = json_of($r, 'status --json');
    is($j && $j->{pid}, $MID, 'status --json: pid');
    ok($j && $j->{running} && JSON::PP::is_bool($j->{running}),
       'status --json: running true');
    is($j && ref $j->{processes} && scalar @{ $j->{processes} }, 4,
       'status --json: four processes');

    $r = sipctl('ps', '-f', $C);
    is($r->{exit}, 0, 'ps: exit 0');
    like($r->{out}, qr/^\d+\s+\d+\s+$_\s+0\s+running\s+0$/m,
         "ps: a row for $_") for qw(mid netd sipd dnsd);
    $r = sipctl('ps', '-j', '-f', $C);
    $j = json_of($r, 'ps -j');
    is(ref $j, 'ARRAY', 'ps --json: an array');
    my %t = map { $_->{type} => $_ } @{ $j || [] };
    is_deeply([ sort keys %t ], [qw(dnsd mid netd sipd)], 'ps --json: types');
    is($t{mid}{pid}, $MID, 'ps --json: mid pid, a number');
    is_deeply([ sort keys %{ $t{sipd} || {} } ],
              [qw(build id instance pid restarts state type)],
              'ps --json: fields');

    # stats
    $r = sipctl('stats', '-f', $C);
    is($r->{exit}, 0, 'stats: exit 0');
    like($r->{out}, qr/^core:rcv_requests \d+$/m, 'stats: NAME VALUE lines');
    like($r->{out}, qr/^net:udp_rcv_datagrams \d+$/m, 'stats: every group');
    $r = sipctl('stats', 'core', '-f', $C);
    ok($r->{out} =~ /^core:/m && $r->{out} !~ /^(?!core:)/m,
       'stats core: only core counters') or diag($r->{out});
    $r = sipctl('stats', 'core:fwd_requests', 'dns:', '--json', '-f', $C);
    $j = json_of($r, 'stats --json');
    ok($j && exists $j->{'core:fwd_requests'} && exists $j->{'dns:queries'}
       && !exists $j->{'core:rcv_requests'},
       'stats NAME GROUP: --json: an object of those counters');
    like($j && $j->{'dns:queries'}, qr/^\d+$/, 'stats --json: numbers');
    $r = sipctl('stats', 'nosuch:counter', '-f', $C);
    is($r->{exit}, 1, 'stats of an unknown counter: exit 1');
    like($r->{err}, qr/404/, '... mid\'s 404 on stderr');

    # mi: raw replies, a negative argument, --, errors, JSON
    $r = sipctl('mi', 'debug', '-1', '-f', $C);
    is($r->{exit}, 0, 'mi debug -1: exit 0 (a negative number is no option)');
    like($r->{out}, qr/^200 OK\nDEBUG:: -1$/m, 'mi debug -1: raw reply');
    $r = sipctl('-f', $C, 'mi', '--', 'debug', '2');
    like($r->{out}, qr/^DEBUG:: 2$/m, 'mi -- debug 2');
    $r = sipctl('mi', 'nosuchcmd', '-f', $C);
    is($r->{exit}, 1, 'mi unknown command: exit 1');
    like($r->{out}, qr/^500 /, 'mi unknown command: the 500 reply');
    $r = sipctl('--json', 'mi', 'nosuchcmd', '-f', $C);
    $j = json_of($r, 'mi --json error');
    is($j && $j->{code}, 500, 'mi --json: code 500');
    is($r->{exit}, 1, 'mi --json error: exit 1');
    $r = sipctl('mi', 'version', '--json', '-f', $C);
    $j = json_of($r, 'mi version --json');
    is($j && $j->{values}[0]{name}, 'Server', 'mi --json: values name');
    like($j && $j->{values}[0]{value}, qr/^sipstage /, '... and value');

    # scale, stage restart, cache and blacklist, reload
    $r = sipctl('scale', 'sipd', '2', '-f', $C);
    is($r->{exit}, 0, 'scale sipd 2: exit 0');
    like($r->{out}, qr/^sipd:: 2$/m, 'scale sipd 2: mid says so');
    ok(scalar $p->wait_ps(sub { 2 == grep { $_->{Type} eq 'sipd'
                                            && $_->{State} eq 'running' } @_ }),
       'scale sipd 2: two sipd running');
    $r = sipctl('scale', 'netd', '2', '-f', $C);
    is($r->{exit}, 1, 'scale netd 2: refused by mid, exit 1');
    is(sipctl('scale', 'sipd', '1', '-f', $C)->{exit}, 0, 'scale sipd 1');
    ok(scalar $p->wait_ps(sub { 1 == grep { $_->{Type} eq 'sipd' } @_ }),
       'scale sipd 1: one sipd left');

    my ($dnsd) = $p->ps_of('dnsd');
    $r = sipctl('stage', 'restart', 'dnsd', '-f', $C);
    is($r->{exit}, 0, 'stage restart dnsd: exit 0');
    like($r->{out}, qr/dnsd\/0 PID=$dnsd->{PID} stopping/, '... stopping');
    ok(scalar $p->wait_ps(sub { grep { $_->{Type} eq 'dnsd'
                                       && $_->{PID} != $dnsd->{PID}
                                       && $_->{State} eq 'running' } @_ }),
       'stage restart dnsd: a new dnsd runs');
    is(sipctl('stage', 'restart', 'nosuch', '-f', $C)->{exit}, 1,
       'stage restart of an unknown stage: exit 1');

    for my $w ([qw(cache flush)], [qw(blacklist flush)]) {
        my $r = sipctl(@$w, '-f', $C);
        is($r->{exit}, 0, "@$w: exit 0") or diag($r->{err});
    }
    for my $w ([qw(cache dump)], [qw(blacklist dump)]) {
        my $r = sipctl(@$w, '--json', '-f', $C);
        is($r->{exit}, 0, "@$w --json: exit 0") or diag($r->{err});
        my $j = json_of($r, "@$w --json");
        ok($j && grep({ $_->{name} eq 'Entries' } @{ $j->{values} }),
           "@$w --json: Entries");
    }

    $r = sipctl('reload', '-f', $C);
    is($r->{exit}, 0, 'reload: exit 0');
    like($r->{out}, qr/^Reload:: \d+ stages restart/m, 'reload: mid says so');
    ok(scalar $p->wait_ps(sub { !grep { $_->{State} ne 'running' } @_ }, 20),
       'reload: every stage running again');
    my $good = slurp($C);
    Proxy::spew($C, $good . "[bogus]\n");
    $r = sipctl('reload', '-f', $C);
    is($r->{exit}, 1, 'reload of an invalid file: exit 1');
    like($r->{err}, qr/400 .*bogus/, '... mid\'s reason on stderr');
    Proxy::spew($C, $good);

    # JSON escaping: a config path with a quote, a backslash and a tab
    my $odd = $p->dir . "/we\"ird\\na\tme.cfg";
    symlink($C, $odd) or die "symlink: $!";
    $r = sipctl('status', '--json', '-f', $odd);
    $j = json_of($r, 'status --json, odd config path');
    is($j && $j->{config}, $odd, 'status --json: the path escaped and back');

    is($p->pid, $MID, 'mid was never restarted');
    $p->stop;
}

# --- start, restart, stop ---------------------------------------------------
{
    my $q = Proxy->new(no_start => 1);
    my $Q = $q->cfg;
    my $r = sipctl('start', '-f', $Q);
    is($r->{exit}, 0, 'start: exit 0') or diag($r->{out} . $r->{err});
    my ($pid1) = $r->{out} =~ /started, pid (\d+)/;
    ok($pid1, 'start: says the pid');
    $r = sipctl('-f', $Q, 'start');
    is($r->{exit}, 1, 'start again: exit 1');
    like($r->{err}, qr/already running/, '... already running');
    $r = sipctl('restart', '-f', $Q);
    is($r->{exit}, 0, 'restart: exit 0') or diag($r->{out} . $r->{err});
    my ($pid2) = $r->{out} =~ /started, pid (\d+)/;
    ok($pid2 && $pid2 != ($pid1 // 0), 'restart: a new mid');
    $r = sipctl('status', '-j', '-f', $Q);
    my $j = json_of($r, 'status after restart');
    is($j && $j->{pid}, $pid2, 'status after restart: the new pid');
    $r = sipctl('stop', '-f', $Q);
    is($r->{exit}, 0, 'stop: exit 0');
    like($r->{out}, qr/stopped/, 'stop: stopped');
    is(sipctl('status', '-f', $Q)->{exit}, 3, 'status after stop: exit 3');
    ok(!-e $q->fifo, 'stop: the FIFO is gone');
}

done_testing();
