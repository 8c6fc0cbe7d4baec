#!/usr/bin/perl
# dbd as a stage of the real proxy, against a real PostgreSQL: mid starts
# it only when [db] url is set and supervises it like dnsd (ps, SIGKILL ->
# restarted, stage_restart); MI db_status (FIFO and JSON-RPC) shows each
# URL masked with its state; the password appears in no log line, no
# /proc/PID/cmdline and no /proc/PID/environ of mid and the stages; the
# server stopped -> down within a few seconds, started -> up again;
# reload starts dbd when the URL appears and stops it when it goes; no
# [db] url -> no dbd, and db_status says so (404).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;
use Pg;
use Tcp;

-e Proxy::build_dir() . '/lib/db_postgres.so'
    or BAIL_OUT('build/lib/db_postgres.so not built');

my $pg = Pg->new;
$pg->schema;
my $pw = $pg->password;
my $port = $pg->port;
my $shown = "postgres://sip:***\@127.0.0.1:$port/sipstage";
my $H = Tcp::free_port();

my $p = Proxy->new(debug => 4, extra => {
    db => [ 'url = ' . $pg->url, 'pool = 3', 'timeout_ms = 1000' ],
    mi => [ "http_listen = 127.0.0.1:$H", 'http_allow = 127.0.0.1/32' ] });

# db_status() - (code, {state, role, conns, ...} of the first URL, lines)
sub db_status
{
    my ($code, $reason, $lines) = $p->mi('db_status');
    my ($u) = grep { /^URL:: / } @$lines;
    my %f;
    if ($u && $u =~ /^URL:: (\S+) (.*)$/) {
        %f = (url => $1, map { split /=/, $_, 2 } split ' ', $2);
    }
    return ($code, \%f, $lines, $reason);
}

# wait_db(CODE, S) - poll db_status until CODE->(fields) holds
sub wait_db
{
    my ($pred, $t) = @_;
    my $deadline = time + $t;
    my ($code, $f, $lines);
    while (time < $deadline) {
        ($code, $f, $lines) = db_status();
        return $f if defined $code && $code == 200 && $pred->($f);
        sleep 0.1;
    }
    diag("last db_status: " . join("\n", @{ $lines // [] }));
    return undef;
}

my ($dbd) = $p->ps_of('dbd');
ok($dbd, 'ps shows dbd');
is($dbd->{State}, 'running', 'dbd running');
is($dbd->{Restarts}, 0, 'dbd Restarts=0');

my $f = wait_db(sub { $_[0]{state} eq 'up' && $_[0]{conns} eq '3/3' }, 15);
ok($f, 'db_status: up, conns=3/3');
is($f->{url}, $shown, 'db_status shows the URL with the password masked');
is($f->{role}, 'serving', 'db_status: role=serving');
like(join(' ', map { "$_=" . ($f->{$_} // '') } qw(busy queued latency_ms
     queries errors)),
     qr/^busy=\d+ queued=\d+ latency_ms=\d+\.\d queries=\d+ errors=\d+$/,
     'db_status: busy, queued, latency_ms, queries, errors');

# sipctl db status: the same lines.
my $sc = Proxy::run_cmd([Proxy::repo_root() . '/scripts/sipctl', '-f',
                         $p->cfg, 'db', 'status'], timeout => 10);
is($sc->{exit}, 0, 'sipctl db status: exit 0');
like($sc->{out}, qr/^URL:: \Q$shown\E state=up role=serving conns=3\/3 /m,
     'sipctl db status: the URL line');

# The same command over JSON-RPC (POST /mi): the relay works there too.
my $http = HTTP::Tiny->new(timeout => 10);
my $r = $http->post("http://127.0.0.1:$H/mi", {
    content => encode_json({ jsonrpc => '2.0', method => 'db_status',
                             id => 7 }),
    headers => { 'Content-Type' => 'application/json' } });
is($r->{status}, 200, 'POST /mi db_status: HTTP 200');
my $j = eval { decode_json($r->{content}) } // {};
like(JSON::PP->new->canonical->encode($j->{result} // {}),
     qr/\Q$shown\E state=up role=serving/, 'JSON-RPC result holds the URL '
     . 'line') or diag($r->{content});
unlike($r->{content}, qr/\Q$pw\E/, 'no password in the JSON-RPC reply');

# The password: in the config file only. A stage that a reload is
# restarting may vanish between ps and /proc: then ps is asked again.
sub leak_check
{
    my ($tag) = @_;
    my (@pids, @where, %types);
    my $deadline = time + 15;
    while (1) {
        my @ps = $p->ps;
        %types = map { ($_->{Type} => 1) } grep { $_->{PID} } @ps;
        @pids = ($p->pid, map { $_->{PID} } grep { $_->{PID} } @ps);
        @where = ();
        my $gone = 0;
        for my $pid (@pids) {
            for my $what (qw(cmdline environ)) {
                my $s = Proxy::slurp("/proc/$pid/$what");
                $gone++ unless defined $s;
                push @where, "$pid/$what" if defined $s && index($s, $pw) >= 0;
            }
        }
        last if (!$gone && keys %types == 5) || time > $deadline;
        sleep 0.2;
    }
    is_deeply(\@where, [], "$tag: the password is in no cmdline or environ "
              . 'of ' . scalar(@pids) . ' processes');
    is(join(' ', sort keys %types), 'dbd dnsd mid netd sipd',
       "$tag: ... mid and every stage among them");
    my $log = $p->log;
    ok(index($log, $pw) < 0, "$tag: the password is in no log line");
}
leak_check('running');

# kill -9 dbd: mid restarts it, db_status is up again.
my $old = $dbd->{PID};
ok(kill('KILL', $old), "SIGKILL dbd (pid $old)");
my @ps = $p->wait_ps(sub {
    my ($d) = grep { $_->{Type} eq 'dbd' } @_;
    $d && $d->{PID} != $old && $d->{State} eq 'running' }, 15);
my ($d2) = grep { $_->{Type} eq 'dbd' } @ps;
ok($d2, 'dbd restarted by mid') or diag(Proxy::ps_text($p->{last_ps}));
is($d2->{Restarts}, 1, 'ps: dbd Restarts=1');
ok(wait_db(sub { $_[0]{state} eq 'up' && $_[0]{conns} eq '3/3' }, 15),
   'db_status up again after the restart');

# The server stops and starts: dbd sees it, by itself.
$pg->stop;
ok(wait_db(sub { $_[0]{state} eq 'down' }, 5),
   'server stopped: db_status down within 5 s');
my (undef, undef, $lines) = db_status();
ok((grep { /^Reason:: 1 \S/ } @$lines), 'db_status gives the reason');
$pg->start;
ok(wait_db(sub { $_[0]{state} eq 'up' && $_[0]{conns} eq '3/3' }, 15),
   'server started: db_status up again');
cmp_ok($p->stat('db:reconnects'), '>=', 3, 'db:reconnects counted');

# stage_restart dbd: planned, no back-off.
my ($c, $why) = $p->mi('stage_restart', 'dbd');
is($c, 200, 'stage_restart dbd: 200') or diag($why);
@ps = $p->wait_ps(sub {
    my ($d) = grep { $_->{Type} eq 'dbd' } @_;
    $d && $d->{PID} != $d2->{PID} && $d->{State} eq 'running' }, 15);
ok(@ps, 'stage_restart: dbd running with a new pid');
ok(wait_db(sub { $_[0]{state} eq 'up' }, 15), 'and up');
leak_check('after restarts');

# reload() - MI reload, again while a rolling restart is still going (409)
sub reload
{
    my $deadline = time + 20;
    my ($code, $reason);
    while (time < $deadline) {
        ($code, $reason) = $p->mi('reload');
        last unless defined $code && $code == 409
                    && $reason =~ /in progress/;
        sleep 0.2;
    }
    return ($code, $reason);
}

# Reload without the URL: dbd goes; with it again: dbd comes back.
my $cfg = Proxy::slurp($p->cfg);
(my $nodb = $cfg) =~ s/^url = .*\n//m;
Proxy::spew($p->cfg, $nodb);
($c, $why) = reload();
is($c, 200, 'reload without [db] url: 200') or diag($why);
ok($p->wait_ps(sub { !grep { $_->{Type} eq 'dbd' } @_ }, 15),
   'reload without [db] url: dbd leaves ps');
($c, $why) = $p->mi('db_status');
is($c, 404, 'db_status without [db] url: 404') or diag($why);
like($why, qr/\[db\] url/, '... saying [db] url is not set');
Proxy::spew($p->cfg, $cfg);
($c, $why) = reload();
is($c, 200, 'reload with [db] url again: 200') or diag($why);
ok($p->wait_ps(sub { grep { $_->{Type} eq 'dbd'
                            && $_->{State} eq 'running' } @_ }, 15),
   'reload with [db] url: dbd back in ps');
ok(wait_db(sub { $_[0]{state} eq 'up' }, 15), 'and up');
leak_check('at the end');
$p->stop;

# No [db] url: no dbd at all.
my $q = Proxy->new;
ok(!(grep { $_->{Type} eq 'dbd' } $q->ps), 'no [db] url: no dbd in ps');
($c, $why) = $q->mi('db_status');
is($c, 404, 'no [db] url: db_status 404');
$sc = Proxy::run_cmd([Proxy::repo_root() . '/scripts/sipctl', '-f',
                      $q->cfg, 'db', 'status'], timeout => 10);
is($sc->{exit}, 1, 'sipctl db status without [db] url: exit 1');
like($sc->{err}, qr/404 No database: \[db\] url is not set/,
     '... and says why');
$q->stop;

done_testing();
