#!/usr/bin/perl
# dbd's engine over the MySQL backend (db_mysql.so), against a real
# MariaDB, through build/t/dbd_loop: the backend is chosen by the URL's
# scheme; alias rows byte for byte; a 3,000-row MSG_DB_Q_ADDRESS answer in
# several records; a query blocked by LOCK TABLES -> TIMEOUT within
# timeout_ms plus slack and its connection reopened (closing a MariaDB
# connection in the middle of a query does not block the loop); server
# stopped -> DOWN at once; started -> served again by itself.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use DbdLoop;
use Maria;
use Proxy ();

-e Proxy::build_dir() . '/lib/db_mysql.so'
    or BAIL_OUT('build/lib/db_mysql.so not built');

my $m = Maria->new;
$m->schema;
$m->sql("INSERT INTO dbaliases (alias_username, alias_domain, username, "
        . "domain) VALUES ('alice', 'example.com', 'bob', 'b.example'), "
        . "('o''brien', 'example.com', 'obrien', 'x.example')", 'sipstage');
$m->sql('INSERT INTO address (grp, ip_addr, mask, port) VALUES '
        . join(', ', map { sprintf("(%d, '10.0.%d.%d', 32, %d)", $_ % 3,
                                   int($_ / 256), $_ % 256, $_ % 7) }
               1 .. 3000), 'sipstage');
my $pw = $m->password;
my $port = $m->port;

sub q_alias
{
    my ($l, $qid, @v) = @_;
    $l->send('q', $qid, 1, 0, @v);
    return $l->answer($qid);
}

my $l = DbdLoop->new(urls => [$m->url], pool => 2, queue_max => 8,
                     timeout_ms => 2000);
my $s = $l->wait_status(sub { ($_[0][0]{state} // '') eq 'up'
                              && $_[0][0]{conns} eq '2/2' });
ok($s, 'the pool of 2 connects') or diag(explain($l->status));
is($s->[0]{url}, "mysql://sip:***\@127.0.0.1:$port/sipstage",
   'status shows the URL with the password masked');

my $a = q_alias($l, 1, 'alice', 'example.com');
is_deeply([$a->{status}, $a->{rows}], [0, ["bob\tb.example"]],
          'alias: the row');
is(q_alias($l, 2, "o'brien", 'example.com')->{rows}[0], "obrien\tx.example",
   'a quote in a value is data');
$a = q_alias($l, 3, 'Alice', 'example.com');
is_deeply([$a->{status}, scalar @{ $a->{rows} }], [0, 0],
          'Alice is not alice (byte for byte)');

$l->send('q', 10, 2, 0);
$a = $l->answer(10, 20);
is($a->{status}, 0, 'address: OK');
is(scalar @{ $a->{rows} }, 3000, 'address: 3,000 rows');
cmp_ok($a->{records}, '>=', 3, "address: $a->{records} records");
is($a->{seq_ok}, 1, 'address: seq without a gap');
cmp_ok($a->{max_rec}, '<=', 16384, 'no record over MSG_DB_ROWS_MAX');
is_deeply([grep { !/^\d\t10\.0\.\d+\.\d+\t32\t\d$/ } @{ $a->{rows} }], [],
          'address: every row is grp, ip_addr, mask, port');

# LOCK TABLES ... WRITE in a client session blocks the SELECTs.
open(my $lock, '|-', 'mariadb', '--no-defaults', '-S', $m->dir . '/run/sock',
     '-u', ($> == 0 ? 'root' : scalar getpwuid($>)), '-D', 'sipstage')
    or die "mariadb: $!";
$lock->autoflush(1);
print $lock "LOCK TABLES dbaliases WRITE;\n";
my $held = 0;
for (1 .. 100) {
    $held = $m->sql('SHOW OPEN TABLES FROM sipstage WHERE `Table` = '
                    . "'dbaliases' AND In_use > 0") =~ /dbaliases/;
    last if $held;
    sleep 0.1;
}
ok($held, 'a client session holds a write lock on dbaliases');
my $st0 = $l->stats;
$l->send('q', 100 + $_, 1, 0, 'alice', 'example.com') for 0 .. 1;
for my $q (100, 101) {
    $a = $l->answer($q, 10);
    is($a->{status}, 2, "blocked query $q: TIMEOUT");
    cmp_ok($a->{ms}, '>=', 1900, "... not before timeout_ms ($a->{ms} ms)");
    cmp_ok($a->{ms}, '<', 2000 + 3000, '... within timeout_ms plus slack');
}
$s = $l->wait_status(sub { $_[0][0]{conns} eq '2/2'
                           && $_[0][0]{state} eq 'up' });
ok($s, 'both connections reopened');
cmp_ok($l->stats->{'db:reconnects'} - $st0->{'db:reconnects'}, '>=', 2,
       'db:reconnects counts them');
print $lock "UNLOCK TABLES;\n";
close($lock);
is(q_alias($l, 110, 'alice', 'example.com')->{rows}[0], "bob\tb.example",
   'lock released: served again');

$m->stop;
$s = $l->wait_status(sub { $_[0][0]{state} eq 'down' }, 10);
ok($s, 'server stopped: status down') or diag(explain($l->status));
$a = q_alias($l, 120, 'alice', 'example.com');
is($a->{status}, 4, 'every URL down: DOWN');
cmp_ok($a->{ms}, '<', 1500, "... at once ($a->{ms} ms, timeout_ms 2000)");
$m->start;
$s = $l->wait_status(sub { $_[0][0]{state} eq 'up'
                           && $_[0][0]{conns} eq '2/2' }, 15);
ok($s, 'server started: up again without intervention');
is(q_alias($l, 121, 'alice', 'example.com')->{rows}[0], "bob\tb.example",
   'served again');
is($l->quit, 0, 'dbd_loop exits 0');
my $log = $l->log_text;
unlike($log, qr/\Q$pw\E/, 'no log line holds the password');
like($log, qr{mysql://sip:\*\*\*\@127\.0\.0\.1:$port/sipstage},
     'log lines name the URL, masked');

done_testing();
