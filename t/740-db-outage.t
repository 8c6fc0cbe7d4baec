#!/usr/bin/perl
# The database and dbd failing under traffic ([route] db_aliases, a real
# PostgreSQL, the real pipeline). A steady load runs through the proxy
# the whole time: INVITEs that need a lookup (a row aliases them to the
# test's UAS) and BYEs in a dialog (a To tag: never looked up) to the
# UAS's IP literal, which the UAS answers 200 through the proxy.
#
#  - the server stopped (pg_ctl stop, in the middle of the load): every
#    INVITE sent from then on is answered "503 Service Unavailable" with
#    Retry-After, within [db] timeout_ms plus the worker's slack (1 s)
#    plus slack for a loaded machine; the BYEs and their 200s go on
#    (each forwarded and answered, none waiting on the database); the
#    503s are counted in db:unavailable_replies;
#  - the server started again: lookups work again by themselves (dbd
#    reconnects; nothing is done to the proxy);
#  - dbd killed with SIGKILL under the load, while a lock on dbaliases
#    holds the lookups of the moment inside it: mid restarts it; every
#    INVITE still gets an answer; only the lookups the dead dbd had in
#    hand are lost, each answered 503 after the timeout by the worker's
#    deadline (sipd:db_expired); the lookups sent meanwhile wait in the
#    ring for the new dbd, and every INVITE sent a second after the
#    kill is aliased.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX qw(_exit WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use DbSip;
use Pg;
use Proxy;
use Sip;

my $TIMEOUT = 3000;                     # [db] timeout_ms
my $SLACK = 1000 + 3000;                # sipd's own, and a busy machine
my $pg = Pg->new;
$pg->schema;
my ($uac, $uac2, $uas) = map { Proxy::UDP->new } 1 .. 3;
my $UAS = '127.0.0.1:' . $uas->port;
$pg->psql("INSERT INTO dbaliases (alias_username, alias_domain, username, "
          . "domain) VALUES ('bob', 'example.com', 'robert', '$UAS')",
          'sipstage');
my $p = Proxy->new(sipd => 1, children => 2, extra => {
    db => [ 'url = ' . $pg->url, "timeout_ms = $TIMEOUT" ],
    route => [ 'db_aliases = 1' ] });
my @load = (port => $p->port, uas => $uas,
            alias => [ $uac, 'sip:bob@example.com' ],
            plain => [ $uac2, "sip:bob\@$UAS" ]);

# aliased(REC) - the INVITE reached the UAS with the alias
sub aliased
{
    my ($r) = @_;
    return ($r->{what} // '') eq 'fwd'
           && DbSip::ruri($r->{bytes}) eq "sip:robert\@$UAS";
}

sub unavailable
{
    my ($r) = @_;
    return ($r->{what} // '') eq 'reply'
           && $r->{line} eq 'SIP/2.0 503 Service Unavailable'
           && $r->{bytes} =~ /\r\nRetry-After: \d+\r\n/;
}

# plain_ok(RECS, NAME) - every BYE forwarded and its 200 relayed
sub plain_ok
{
    my ($recs, $name) = @_;
    my @p = grep { $_->{kind} eq 'plain' } @$recs;
    my @bad = grep { !defined $_->{fwd_ms} || !defined $_->{resp_ms}
                     || $_->{line} ne 'SIP/2.0 200 OK' } @p;
    ok(@p > 0 && !@bad, "$name: all " . scalar(@p) . " BYEs forwarded "
       . "and their 200s relayed") or diag(scalar(@bad) . ' not');
    my ($max) = sort { $b <=> $a } map { $_->{resp_ms} // 0 } @p;
    ok(($max // 0) < $TIMEOUT + $SLACK,
       "$name: none waited on the database (slowest round trip "
       . ($max // 0) . ' ms)');
}

# --- up ---------------------------------------------------------------------
{
    my $recs = DbSip::traffic(@load, rate => 10, secs => 1);
    my @a = grep { $_->{kind} eq 'alias' } @$recs;
    ok(@a && !grep({ !aliased($_) } @a), 'database up: every INVITE aliased')
        or diag(join("\n", map { ($_->{what} // 'none') . ' '
                                 . ($_->{line} // '') } @a));
}

# --- the server stops under the load ----------------------------------------
my ($stopper, $stopped_at);
my $u0 = $p->stat('db:unavailable_replies');
my $recs = DbSip::traffic(@load, rate => 10, secs => 5, at => [
    [ 1, sub { $stopper = fork // die "fork: $!";
               if (!$stopper) { $pg->stop; _exit(0) } } ],
    [ 1.2, sub { waitpid($stopper, 0); $stopped_at = time;
                 $pg->{up} = 0 } ],     # the child stopped it
]);
{
    my @after = grep { $_->{kind} eq 'alias' && $_->{t} > $stopped_at }
                @$recs;
    ok(@after >= 10, scalar(@after) . ' INVITEs sent after the stop');
    my @bad = grep { !unavailable($_) } @after;
    ok(!@bad, 'server stopped: every INVITE answered 503 with Retry-After')
        or diag(join("\n", map { ($_->{what} // 'none') . ' '
                                 . ($_->{line} // '') } @bad));
    my ($max) = sort { $b <=> $a } map { $_->{ms} // 1e9 } @after;
    ok(($max // 1e9) < $TIMEOUT + $SLACK,
       "server stopped: 503 within timeout_ms + slack (slowest $max ms)");
    ok($p->stat('db:unavailable_replies') - $u0 >= @after,
       'db:unavailable_replies counts them');
    my @lost = grep { $_->{kind} eq 'alias' && !$_->{done} } @$recs;
    is(scalar(@lost), 0, 'no INVITE went unanswered');
    plain_ok($recs, 'server stopped');
}

# --- the server starts again ------------------------------------------------
$pg->start;
{
    my $t = time;
    my $back;
    while (!$back && time < $t + 20) {
        my $r = DbSip::traffic(@load, rate => 5, secs => 1);
        $back = time if grep { aliased($_) } @$r;
    }
    ok($back, 'server started: lookups work again by themselves')
        or diag($p->log_tail(20));
    $recs = DbSip::traffic(@load, rate => 10, secs => 2);
    my @a = grep { $_->{kind} eq 'alias' } @$recs;
    ok(@a && !grep({ !aliased($_) } @a),
       'server started: every INVITE aliased again');
    plain_ok($recs, 'server back');
}

# --- dbd SIGKILLed under the load -------------------------------------------
# A session holds an exclusive lock on dbaliases for 2 s, so the lookups
# sent meanwhile wait inside dbd (on its connections, or in its queue):
# they are in flight when dbd is killed, and only they may be lost.
{
    my ($dbd) = grep { $_->{Type} eq 'dbd' } $p->ps;
    my $e0 = $p->stat('sipd:db_expired');
    my ($locker, $locked_at, $killed_at);
    $recs = DbSip::traffic(@load, rate => 20, secs => 8, settle => 10, at => [
        [ 1, sub { $locker = fork // die "fork: $!";
                   if (!$locker) {
                       eval { $pg->psql('BEGIN; LOCK TABLE dbaliases IN '
                                        . 'ACCESS EXCLUSIVE MODE; SELECT '
                                        . 'pg_sleep(2); COMMIT', 'sipstage') };
                       _exit(0);
                   } } ],
        [ 1.3, sub { for (1 .. 20) {
                         my $n = $pg->psql("SELECT count(*) FROM pg_locks "
                             . "WHERE relation = 'dbaliases'::regclass AND "
                             . "mode = 'AccessExclusiveLock' AND granted",
                             'sipstage');
                         if ($n =~ /^1/) { $locked_at = time; last }
                         sleep 0.05;
                     } } ],
        [ 1.8, sub { kill 'KILL', $dbd->{PID}; $killed_at = time } ],
        [ 4, sub { waitpid($locker, 0) } ],
    ]);
    my @a = grep { $_->{kind} eq 'alias' } @$recs;
    my @none = grep { !$_->{done} } @a;
    is(scalar(@none), 0, 'dbd killed: every INVITE answered');
    my @bad = grep { !aliased($_) && !unavailable($_) } @a;
    ok(!@bad, 'dbd killed: each aliased, or 503 with Retry-After')
        or diag(join("\n", map { ($_->{what} // 'none') . ' '
                                 . ($_->{line} // '') } @bad));
    my $d2 = $p->wait_ps(sub { grep { $_->{Type} eq 'dbd'
                                      && $_->{PID} != $dbd->{PID}
                                      && $_->{State} eq 'running' } @_ },
                         10);
    ok($d2, 'dbd restarted by mid');
    my @u = grep { unavailable($_) } @a;
    SKIP: {
        skip 'the lock was not seen taken in time: nothing in flight', 4
            unless $locked_at;
        # a sanitizer build (make check) runs every stage and psql's
        # round trips several times slower: the lock, the traffic and the
        # kill no longer line up to put lookups in flight; the plain
        # build checks this accounting
        skip 'sanitizer build: the in-flight window is not reproducible', 4
            if Proxy::build_dir() =~ m{/build-[^/]*(?:address|thread)};
        my $lock_from = $locked_at - 0.3 - 0.05;
        ok(@u >= 1, scalar(@u) . ' lookups in flight in the killed dbd');
        my @early = grep { $_->{t} < $lock_from - 0.5 || $_->{t} > $killed_at }
                    @u;
        ok(!@early, 'only lookups sent while the lock held them and before '
           . 'the kill were lost') or diag(join(' ', map {
               sprintf('%.2f', $_->{t} - $killed_at) } @early));
        my ($min) = sort { $a <=> $b } map { $_->{ms} } @u;
        ok(!@u || $min >= $TIMEOUT,
           "they are answered 503 after timeout_ms ($min ms at the least)");
        is($p->stat('sipd:db_expired') - $e0, scalar(@u),
           'each one counted in sipd:db_expired');
    }
    my @late = grep { $_->{t} > $killed_at + 1 } @a;
    ok(@late >= 20 && !grep({ !aliased($_) } @late),
       'every INVITE sent a second after the kill aliased ('
       . scalar(@late) . ')')
        or diag(join("\n", map { sprintf('%.2f ', $_->{t} - $killed_at)
                                 . ($_->{line} // 'none') }
                            grep { !aliased($_) } @late));
    plain_ok($recs, 'dbd killed');
}
$p->stop;

done_testing();
