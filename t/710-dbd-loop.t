#!/usr/bin/perl
# dbd's engine (pools, connections, queue, answers) against a real
# PostgreSQL, through build/t/dbd_loop, which runs dbd's code and loop on
# rings of its own and plays the sipd side from stdin/stdout:
#
#   answers with the right rows; SQL metacharacters and NULL as plain data;
#   a 3,000-row MSG_DB_Q_ADDRESS answer cut into records of at most
#   MSG_DB_ROWS_MAX bytes with MSG_DB_F_MORE and consecutive seq; unknown
#   query numbers, wrong value counts and malformed records -> ERROR;
#   a query older than timeout_ms -> TIMEOUT without running; queue_max ->
#   BUSY; a query blocked by a table lock -> TIMEOUT within timeout_ms plus
#   slack, its connection closed and reopened; server stopped -> DOWN at
#   once, server started -> served again without intervention; two URLs
#   with the first dead -> the second serves; the first started again ->
#   back to the first (db:failovers); a pg_basebackup streaming replica
#   takes over every lookup when the primary is stopped under traffic,
#   and the primary serves again once it is back.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use DbdLoop;
use Proxy ();
use Pg;

-e Proxy::build_dir() . '/lib/db_postgres.so'
    or BAIL_OUT('build/lib/db_postgres.so not built');

sub q_alias
{
    my ($l, $qid, @v) = @_;
    $l->send('q', $qid, 1, 0, @v);
    return $l->answer($qid);
}

# ---- servers ------------------------------------------------------------

my $pg = Pg->new;
$pg->schema;
$pg->psql("INSERT INTO dbaliases (alias_username, alias_domain, username, "
          . "domain) VALUES ('alice', 'example.com', 'bob', 'b.example'), "
          . "('o''brien', 'example.com', 'obrien', 'x.example'), "
          . "('%', 'example.com', 'percent', 'x.example')", 'sipstage');
$pg->psql("INSERT INTO address (grp, ip_addr, mask, port) SELECT i % 3, "
          . "'10.' || (i / 65536) || '.' || ((i / 256) % 256) || '.' || "
          . "(i % 256), 32, i % 7 FROM generate_series(1, 3000) AS i",
          'sipstage');
my $pw = $pg->password;

# ---- one URL --------------------------------------------------------------

my $l = DbdLoop->new(urls => [$pg->url], pool => 2, queue_max => 4,
                  timeout_ms => 2000);
my $s = $l->wait_status(sub { ($_[0][0]{state} // '') eq 'up'
                              && $_[0][0]{conns} eq '2/2' });
ok($s, 'the pool of 2 connects') or diag(explain($l->status));
my $port = $pg->port;
is($s->[0]{url}, "postgres://sip:***\@127.0.0.1:$port/sipstage",
   'status shows the URL with the password masked');
is($s->[0]{role}, 'serving', 'the only URL serves');

my $a = q_alias($l, 1, 'alice', 'example.com');
is($a->{status}, 0, 'alias: OK');
is_deeply($a->{rows}, ["bob\tb.example"], 'alias: the row');
is($a->{ncols}, 2, 'alias: two columns');
is(q_alias($l, 2, "o'brien", 'example.com')->{rows}[0], "obrien\tx.example",
   'a quote in a value is data');
is(q_alias($l, 3, '%', 'example.com')->{rows}[0], "percent\tx.example",
   '% is matched as itself');
$a = q_alias($l, 4, "'; DROP TABLE dbaliases; --", 'example.com');
is_deeply([$a->{status}, scalar @{ $a->{rows} }], [0, 0],
          'SQL in a value: no row, no error');
$a = q_alias($l, 5, 'bob', 'example.com');
is_deeply([$a->{status}, scalar @{ $a->{rows} }], [0, 0], 'no alias: no row');
$a = q_alias($l, 6, '\N', 'example.com');
is_deeply([$a->{status}, scalar @{ $a->{rows} }], [0, 0],
          'NULL matches nothing');
is(q_alias($l, 7, 'alice', 'example.com')->{rows}[0], "bob\tb.example",
   'the table is still there');

$l->send('q', 10, 2, 0);
$a = $l->answer(10, 20);
is($a->{status}, 0, 'address: OK');
is(scalar @{ $a->{rows} }, 3000, 'address: 3,000 rows');
is($a->{ncols}, 4, 'address: four columns');
cmp_ok($a->{records}, '>=', 3, "address: several records ($a->{records})");
is($a->{seq_ok}, 1, 'address: seq 0, 1, 2 ... without a gap');
cmp_ok($a->{max_rec}, '<=', 16384, 'no record over MSG_DB_ROWS_MAX');
cmp_ok($a->{max_rec}, '>', 16384 - 64, 'records are filled');
my %ip = map { (split /\t/)[1] => 1 } @{ $a->{rows} };
is(scalar keys %ip, 3000, 'address: 3,000 distinct ip_addr values');
ok($ip{'10.0.11.184'} && $ip{'10.0.0.1'}, 'address: first and last rows');
is_deeply([grep { !/^\d\t10\.0\.\d+\.\d+\t32\t\d$/ } @{ $a->{rows} }], [],
          'address: every row is grp, ip_addr, mask, port');

# A sipd that does not read: 6 x 3,000 rows do not fit the 256 KiB ring;
# dbd holds what does not fit (db:backlogged) and sends it once there is
# room, every answer whole and in order.
my $bl0 = $l->stats->{'db:backlogged'};
$l->send('hold');
$l->send('q', 30 + $_, 2, 0) for 0 .. 5;
my $bl;
for (1 .. 100) {
    $bl = $l->stats->{'db:backlogged'} - $bl0;
    last if $bl > 0;
    sleep 0.1;
}
cmp_ok($bl, '>=', 1, "ring full: answers held (db:backlogged +$bl)");
$l->send('release');
for my $q (30 .. 35) {
    $a = $l->answer($q, 20);
    ok($a && $a->{status} == 0 && @{ $a->{rows} } == 3000
       && $a->{seq_ok} == 1, "held answer $q: whole, 3,000 rows, in order");
}

my $st0 = $l->stats;
$l->send('q', 20, 99, 0);
is($l->answer(20)->{status}, 1, 'unknown query number: ERROR');
$l->send('q', 21, 1, 0, 'alice');
is($l->answer(21)->{status}, 1, 'one value where two are needed: ERROR');
$l->send('raw', 22, 2);
is($l->answer(22)->{status}, 1, 'values cut short: ERROR');
my $st = $l->stats;
is($st->{'db:errors'} - $st0->{'db:errors'}, 3, 'db:errors counts them');
is($st->{'db:queries'} - $st0->{'db:queries'}, 3, 'db:queries too');

my $ran = $l->status->[0]{queries};
$l->send('q', 23, 1, 2500, 'alice', 'example.com');
is($l->answer(23)->{status}, 2, 'a query older than timeout_ms: TIMEOUT');
is($l->status->[0]{queries}, $ran, '... without running it');

# A table lock blocks the SELECTs: 2 run, 4 wait, the 7th finds the
# queue full. The two running ones time out and cost their connections.
open(my $lock, '|-', ($> == 0 ? ('runuser', '-u', 'nobody', '--') : ()),
     (Pg::binary()) . '/psql', '-X', '-q', '-h', $pg->dir . '/sock',
     '-p', $port, '-U', 'postgres', '-d', 'sipstage')
    or die "psql: $!";
$lock->autoflush(1);
print $lock "BEGIN;\nLOCK TABLE dbaliases IN ACCESS EXCLUSIVE MODE;\n";
my $held = 0;
for (1 .. 100) {
    $held = $pg->psql("SELECT count(*) FROM pg_locks WHERE mode = "
                      . "'AccessExclusiveLock' AND granted AND relation = "
                      . "'dbaliases'::regclass", 'sipstage') + 0;
    last if $held;
    sleep 0.1;
}
ok($held, 'a psql session holds an exclusive lock on dbaliases');
$st0 = $l->stats;
my $rec0 = $st0->{'db:reconnects'};
$l->send('q', 100 + $_, 1, 0, 'alice', 'example.com') for 0 .. 6;
$a = $l->answer(106);
is($a->{status}, 3, 'the 7th query with 2 running and 4 waiting: BUSY');
$s = $l->status->[0];
is_deeply([$s->{busy}, $s->{queued}], [2, 4],
          'status: busy=2 queued=4 while the lock is held');
is($l->stats->{'db:queue_len'}, 4, 'db:queue_len is 4');
for my $q (100, 101) {
    $a = $l->answer($q, 10);
    is($a->{status}, 2, "running query $q: TIMEOUT");
    cmp_ok($a->{ms}, '>=', 1900, "... not before timeout_ms ($a->{ms} ms)");
    cmp_ok($a->{ms}, '<', 2000 + 3000, '... within timeout_ms plus slack');
}
is($l->answer($_, 10)->{status}, 2, "waiting query $_: TIMEOUT")
    for 102 .. 105;
$st = $l->stats;
is($st->{'db:timeouts'} - $st0->{'db:timeouts'}, 6, 'db:timeouts + 6');
is($st->{'db:queue_full'} - $st0->{'db:queue_full'}, 1, 'db:queue_full + 1');
is($st->{'db:queue_len'}, 0, 'db:queue_len back to 0');
$s = $l->wait_status(sub { $_[0][0]{conns} eq '2/2'
                           && $_[0][0]{state} eq 'up' });
ok($s, 'both connections reopened');
cmp_ok($l->stats->{'db:reconnects'} - $rec0, '>=', 2,
       'db:reconnects counts them');
print $lock "COMMIT;\n";
close($lock);
is(q_alias($l, 110, 'alice', 'example.com')->{rows}[0], "bob\tb.example",
   'lock released: served again');

# The server goes away: DOWN at once, not after timeout_ms.
$pg->stop;
$s = $l->wait_status(sub { $_[0][0]{state} eq 'down' }, 10);
ok($s, 'server stopped: status down') or diag(explain($l->status));
like($s->[0]{reason} // '', qr/^1 \S/, 'status says why');
$a = q_alias($l, 120, 'alice', 'example.com');
is($a->{status}, 4, 'every URL down: DOWN');
cmp_ok($a->{ms}, '<', 1500, "... at once ($a->{ms} ms, timeout_ms 2000)");
$pg->start;
$s = $l->wait_status(sub { $_[0][0]{state} eq 'up'
                           && $_[0][0]{conns} eq '2/2' }, 15);
ok($s, 'server started: up again without intervention');
is(q_alias($l, 121, 'alice', 'example.com')->{rows}[0], "bob\tb.example",
   'served again');
is($l->quit, 0, 'dbd_loop exits 0');
my $log = $l->log_text;
unlike($log, qr/\Q$pw\E/, 'no log line holds the password');
like($log, qr/127\.0\.0\.1:$port/, 'log lines name the URL');

# ---- two URLs -------------------------------------------------------------

my $pg2 = Pg->new;
$pg2->schema;
$pg2->psql("INSERT INTO dbaliases (alias_username, alias_domain, username, "
           . "domain) VALUES ('alice', 'example.com', 'carol', "
           . "'second.example')", 'sipstage');
$pg->stop;
$l = DbdLoop->new(urls => [$pg->url, $pg2->url], pool => 2, queue_max => 16,
               timeout_ms => 2000);
$s = $l->wait_status(sub { ($_[0][0]{state} // '') eq 'down'
                           && ($_[0][1]{role} // '') eq 'serving' });
ok($s, 'first URL dead: the second serves') or diag(explain($l->status));
is(q_alias($l, 200, 'alice', 'example.com')->{rows}[0],
   "carol\tsecond.example", '... and answers');
is($l->stats->{'db:failovers'}, 0, 'choosing at start is no failover');
$pg->start;
$s = $l->wait_status(sub { $_[0][0]{state} eq 'up'
                           && $_[0][0]{role} eq 'serving' }, 15);
ok($s, 'first URL started: it serves again');
is($s->[1]{role}, 'standby', 'the second stands by');
is(q_alias($l, 201, 'alice', 'example.com')->{rows}[0], "bob\tb.example",
   '... and answers');
is($l->stats->{'db:failovers'}, 1, 'db:failovers 1');

# Under traffic: queries keep being answered across the switch.
my @qs = map { 300 + $_ } 0 .. 199;
my %got;
for my $i (0 .. $#qs) {
    $l->send('q', $qs[$i], 1, 0, 'alice', 'example.com');
    $pg->stop('immediate') if $i == 50;
    my $x = $l->answer($qs[$i], 10);
    $got{ $x ? ($x->{rows}[0] // "status $x->{status}") : 'none' }++;
}
ok($got{"carol\tsecond.example"}, 'primary stopped under traffic: the '
   . 'replica answers') or diag(explain(\%got));
is($got{none} // 0, 0, 'every query was answered')
    or diag(explain(\%got));
$s = $l->wait_status(sub { $_[0][1]{role} eq 'serving' });
ok($s, 'the second serves');
is($l->stats->{'db:failovers'}, 2, 'db:failovers 2');
is($l->quit, 0, 'dbd_loop exits 0');
unlike($l->log_text, qr/\Q$pw\E/, 'no log line holds the password');

# ---- a streaming replica (pg_basebackup -R) ------------------------------

$pg->start;
my $rep = Pg->new(replica_of => $pg);
my $copied = '';
for (1 .. 100) {
    $copied = eval { $rep->psql("SELECT username FROM dbaliases WHERE "
                                . "alias_username = 'alice'", 'sipstage') }
              // '';
    last if $copied =~ /bob/;
    sleep 0.1;
}
like($copied, qr/^bob$/m, 'the replica has the primary\'s rows');
$l = DbdLoop->new(urls => [$pg->url, $rep->url], pool => 2,
                  queue_max => 64, timeout_ms => 2000);
$s = $l->wait_status(sub { ($_[0][0]{role} // '') eq 'serving'
                           && ($_[0][1]{state} // '') eq 'up' });
ok($s, 'primary serves, the replica is up and stands by')
    or diag(explain($l->status));
my %ans;
for my $i (0 .. 299) {
    $l->send('q', 400 + $i, 1, 0, 'alice', 'example.com');
    $pg->stop('immediate') if $i == 100;
    my $x = $l->answer(400 + $i, 10);
    $ans{ $x ? ($x->{rows}[0] // "status $x->{status}") : 'none' }++;
}
is_deeply(\%ans, { "bob\tb.example" => 300 },
          'primary stopped under traffic: all 300 lookups answered, from '
          . 'the replica after the stop') or diag(explain(\%ans));
$s = $l->status;
is($s->[1]{role}, 'serving', 'the replica serves');
cmp_ok($s->[1]{queries}, '>=', 150, "the replica ran the rest "
       . "($s->[1]{queries})");
is($l->stats->{'db:failovers'}, 1, 'db:failovers 1');
$pg->start;
$s = $l->wait_status(sub { $_[0][0]{role} eq 'serving' }, 15);
ok($s, 'primary back: it serves again');
is($l->stats->{'db:failovers'}, 2, 'db:failovers 2');
is($l->quit, 0, 'dbd_loop exits 0');

done_testing();
