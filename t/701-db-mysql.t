#!/usr/bin/perl
# The MySQL backend module (build/lib/db_mysql.so) on its own, against a
# real MariaDB (t/lib/Maria.pm), through build/t/db_try (one query per
# connection, the backend's non-blocking calls and poll() only).
#
#   rows            a row read back, columns in the order asked; numbers,
#                   decimals and dates come back as text
#   hostile values  o'brien, "'; DROP TABLE dbaliases; --", backslashes,
#                   % and _, double quotes, a tab and a newline, UTF-8:
#                   stored byte for byte (HEX() on the server) and
#                   matched as plain data; the table survives; % and _
#                   match nothing else; "Alice" is not "alice", nor is
#                   "alice " (VARBINARY: no case folding, no padding)
#   NULL            a NULL parameter, a NULL column; '' is not NULL
#   no rows         exit 0, no output; an INSERT: no rows either
#   query errors    missing table, syntax, placeholder count: exit 1 and
#                   the server's reason
#   connection      wrong password: exit 2, the reason, no password in
#                   it (raw or percent-encoded); a user named like the
#                   password: "***" instead; a server that never answers
#                   and a query slower than the tool's 10 s: the tool
#                   times out (4), the module never blocks; stopped
#                   server: exit 2 well within the 30 s bound; back
#                   after a restart
#   big             5,000 rows all read, in order; a 1 MB value; a
#                   100 kB parameter
#   one connection  with build/t/db_seq (several queries on one
#                   connection; skipped where it is not built): a
#                   statement prepared once and executed three times
#                   (the server's general log), a query error leaves the
#                   connection usable, a killed connection is a
#                   connection error
#
# Needs mariadb-server and mariadb-client (scripts/deps test installs
# them); Maria.pm bails without.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::MD5 qw(md5_hex);
use IO::Socket::INET;
use Time::HiRes qw(time);
use Proxy ();
use Maria;

my $lib = Proxy::build_dir() . '/lib';
my $try = Proxy::build_dir() . '/t/db_try';
my $seq = Proxy::build_dir() . '/t/db_seq';
-x $try or BAIL_OUT("$try not built (run make)");
-f "$lib/db_mysql.so" or BAIL_OUT("$lib/db_mysql.so not built");

my $my = Maria->new;
$my->schema;
my $url = $my->url;
my $pw = $my->password;

# db(URL, SQL, VALUES...) - db_try, bounded; {exit, out, err}
sub db { return tool($try, @_) }

# tool(TOOL, URL, ARGS...) - db_try or db_seq, bounded
sub tool
{
    my ($tool, $u, @args) = @_;
    my $r = Proxy::run_cmd([$tool, $lib, $u, @args], timeout => 30);
    fail("$args[0]: no end in 30 s, killed") if $r->{timed_out};
    $r->{exit} //= -1;
    return $r;
}

sub try_ok
{
    my ($sql, $vals, $want, $name) = @_;
    my $r = db($url, $sql, @$vals);
    is($r->{exit}, 0, "$name: exit 0") or diag($r->{err});
    is($r->{out}, $want, "$name: rows");
    return $r;
}

# esc(V) - V as db_try prints it
sub esc
{
    my ($v) = @_;
    $v =~ s/\\/\\\\/g;
    $v =~ s/\t/\\t/g;
    $v =~ s/\n/\\n/g;
    return $v;
}

sub sql { return $my->sql($_[0], 'sipstage') }

my $ins = 'INSERT INTO dbaliases (alias_username, alias_domain, username, '
          . 'domain) VALUES (?, ?, ?, ?)';
my $lookup = 'SELECT username, domain FROM dbaliases WHERE '
             . 'alias_username = ? AND alias_domain = ?';

# --- a row read back -----------------------------------------------------
sql("INSERT INTO dbaliases (alias_username, alias_domain, username, domain)"
    . " VALUES ('alice', 'example.com', 'bob', 'b.example.org')");
try_ok('SELECT alias_username, alias_domain, username, domain FROM '
       . 'dbaliases WHERE alias_username = ? AND alias_domain = ?',
       ['alice', 'example.com'],
       "alice\texample.com\tbob\tb.example.org\n", 'one row, four columns');
try_ok('SELECT domain, username FROM dbaliases WHERE alias_username = ?',
       ['alice'], "b.example.org\tbob\n", 'columns in the order asked');
try_ok("SELECT ? + 1, ?, 7, 2.50, CAST('2024-02-29 12:34:56' AS DATETIME)",
       ['41', 'x'], "42\tx\t7\t2.50\t2024-02-29 12:34:56\n",
       'numbers, decimals and dates as text');

# --- hostile values: plain data, byte for byte ----------------------------
my @hostile = (
    "o'brien",
    "'; DROP TABLE dbaliases; --",
    "back\\slash\\",
    "\\'; DROP TABLE address; -- \\",
    '100%',
    '%',
    'a_b',
    '_',
    'say "hi"',
    "tab\there",
    "new\nline",
    "caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80",
    '?',
);
for my $i (0 .. $#hostile) {
    my $v = $hostile[$i];
    my $r = db($url, $ins, $v, 'h.example', "target-$i", "d$i.example");
    is($r->{exit}, 0, "insert hostile value $i: exit 0") or diag($r->{err});
}
is(sql("SELECT COUNT(*) FROM dbaliases"), (1 + @hostile) . "\n",
   'every hostile row is there, and the table too');
like(sql("SHOW TABLES"), qr/^address$/m, 'table address is still there');
for my $i (0 .. $#hostile) {
    my $v = $hostile[$i];
    is(sql("SELECT HEX(alias_username) FROM dbaliases WHERE "
           . "username = 'target-$i'"), uc(unpack('H*', $v)) . "\n",
       "hostile value $i stored byte for byte");
    try_ok($lookup, [$v, 'h.example'], "target-$i\td$i.example\n",
           "hostile value $i matched as plain data");
    try_ok('SELECT ?', [$v], esc($v) . "\n",
           "hostile value $i comes back unchanged");
}
try_ok($lookup, ['a%', 'h.example'], '', '"a%" matches nothing');
try_ok($lookup, ['axb', 'h.example'], '', '"axb" is not "a_b"');
try_ok($lookup, ['100_', 'h.example'], '', '"100_" is not "100%"');
try_ok($lookup, ["o''brien", 'h.example'], '', "o''brien is not o'brien");
try_ok($lookup, ['Alice', 'example.com'], '', '"Alice" is not "alice"');
try_ok($lookup, ['alice ', 'example.com'], '', '"alice " is not "alice"');
try_ok($lookup, ['alice', 'EXAMPLE.COM'], '',
       'the domain compares byte for byte too');
try_ok($lookup, ['alice', 'example.com'], "bob\tb.example.org\n",
       '... while "alice" still matches');

# --- NULL ------------------------------------------------------------------
try_ok('SELECT ?, ? IS NULL, ?', ['\\N', '\\N', ''], "\\N\t1\t\n",
       'a NULL parameter, and "" is not NULL');
my $r = db($url, 'INSERT INTO address (ip_addr, tag) VALUES (?, ?)',
           '192.0.2.1', '\\N');
is($r->{exit}, 0, 'insert with a NULL tag: exit 0') or diag($r->{err});
is($r->{out}, '', '... an INSERT has no rows');
try_ok('SELECT ip_addr, mask, port, tag FROM address WHERE ip_addr = ?',
       ['192.0.2.1'], "192.0.2.1\t32\t0\t\\N\n", 'a NULL column');
is(sql("SELECT COUNT(*) FROM address WHERE tag IS NULL"), "1\n",
   '... NULL on the server too');

# --- no rows -----------------------------------------------------------------
try_ok($lookup, ['nobody', 'nowhere.example'], '', 'no rows: exit 0, nothing');

# --- query errors ----------------------------------------------------------
$r = db($url, 'SELECT * FROM no_such_table WHERE x = ?', 'a');
is($r->{exit}, 1, 'missing table: exit 1');
like($r->{err}, qr/no_such_table.*doesn't exist/, '... with the reason');
$r = db($url, 'SELEKT 1');
is($r->{exit}, 1, 'syntax error: exit 1');
like($r->{err}, qr/SQL syntax/, '... with the reason');
$r = db($url, 'SELECT ?, ?', 'one');
is($r->{exit}, 1, 'two placeholders, one value: exit 1');
like($r->{err}, qr/2 placeholders, 1 value/, '... says so');
$r = db($url, $ins, 'dup', 'h.example', 'x', '\\N');
is($r->{exit}, 1, 'NULL into a NOT NULL column: exit 1');
like($r->{err}, qr/cannot be null/, '... with the reason');

# --- connection errors -------------------------------------------------------
(my $bad = $url) =~ s/:[^:\@]*\@/:wrong-Pw-xyz\@/;
$r = db($bad, 'SELECT 1');
is($r->{exit}, 2, 'wrong password: exit 2');
like($r->{err}, qr/Access denied/, '... with the reason');
unlike($r->{err} . $r->{out}, qr/wrong-Pw-xyz/, '... and no password');
like($r->{err}, qr{mysql://sip:\*\*\*\@127\.0\.0\.1}, '... the URL masked');
# a user named like the password: the module scrubs it from the text
my $pwenc = ($url =~ m{^mysql://sip:([^\@]*)\@})[0];
(my $same = $url) =~ s{^mysql://sip:}{mysql://$pwenc:};
$r = db($same, 'SELECT 1');
is($r->{exit}, 2, 'user named like the password: exit 2');
# db_try shows the masked URL (user included) first; the rest is the
# module's text
(my $text = $r->{err}) =~ s{^db_try: mysql://\S+: }{};
like($text, qr/^mysql: connect: Access denied for user '\*\*\*'/,
     '... the module\'s text has "***" for the name') or diag($r->{err});
unlike($text, qr/\Q$pw\E|\Q$pwenc\E/, '... and not the password');

# a server that accepts and never says a word, and a query that takes
# longer than db_try waits: the module hands back a wait each time, and
# the tool's own 10 s timeout ends it (exit 4), not the 30 s kill
my $mute = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Proto => 'tcp', Listen => 5)
    or die "listen: $!";
(my $muteurl = $url) =~ s/:\d+\//:${\ $mute->sockport }\//;
$r = db($muteurl, 'SELECT 1');
is($r->{exit}, 4, 'a server that never answers: the tool times out (4)')
    or diag($r->{err});
ok(!$r->{timed_out}, '... the module never blocked it');
close($mute);
$r = db($url, 'SELECT SLEEP(12)');
is($r->{exit}, 4, 'a query slower than the tool waits: it times out (4)')
    or diag($r->{err});
ok(!$r->{timed_out}, '... the module never blocked it');

$my->stop;
my $t0 = time;
$r = db($url, 'SELECT 1');
is($r->{exit}, 2, 'server stopped: exit 2 (a connection error)')
    or diag($r->{err});
ok(!$r->{timed_out}, '... within the 30 s bound (not hung)');
like($r->{err}, qr/connect/, '... says connect') or diag($r->{err});
unlike($r->{err}, qr/\Q$pw\E|\Q$pwenc\E/, '... and no password');
diag(sprintf('stopped server: db_try exited after %.2f s', time - $t0));
$my->start;
try_ok('SELECT username FROM dbaliases WHERE alias_username = ?', ['alice'],
       "bob\n", 'server started again: the same URL works');

# --- big ---------------------------------------------------------------------
sql("INSERT INTO dbaliases (alias_username, alias_domain, username, domain)"
    . " SELECT CONCAT('bulk-', seq), 'bulk.example', CONCAT('u', seq),"
    . " 'd.example' FROM seq_1_to_5000");
$r = try_ok('SELECT alias_username, username FROM dbaliases WHERE '
            . 'alias_domain = ? ORDER BY id', ['bulk.example'],
            join('', map { "bulk-$_\tu$_\n" } 1 .. 5000),
            '5,000 rows, all read, in order');
is(scalar(() = $r->{out} =~ /\n/g), 5000, '... 5,000 lines');
$r = db($url, "SELECT REPEAT('ab', 524288), 'end'");
is($r->{exit}, 0, 'a 1 MB value: exit 0') or diag($r->{err});
is(length($r->{out}), 1048576 + 5, '... all of it');
is(md5_hex($r->{out}), md5_hex(('ab' x 524288) . "\tend\n"),
   '... byte for byte');
my $long = join('', map { chr(32 + $_ % 90) } 0 .. 102399);
$r = db($url, 'SELECT LENGTH(?), MD5(?)', $long, $long);
is($r->{out}, "102400\t" . md5_hex($long) . "\n",
   'a 100 kB parameter reaches the server whole') or diag($r->{err});

# --- one connection (db_seq) ----------------------------------------------
SKIP: {
    skip("$seq not built (t/tools/db_seq.c)", 9) unless -x $seq;
    my $q = 'SELECT username FROM dbaliases WHERE alias_username = ?';
    $my->sql("SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1");
    $r = tool($seq, $url, $q, 'alice', '--', $q, 'alice', '--', $q,
            'nobody');
    is($r->{exit}, 0, 'one statement three times: exit 0') or diag($r->{err});
    is($r->{out}, "bob\n= ok\nbob\n= ok\n= ok\n", '... the rows of each');
    $my->sql('SET GLOBAL general_log = 0');
    my $log = $my->sql("SELECT command_type FROM mysql.general_log WHERE "
                       . "argument LIKE '%alias_username = %'");
    is(scalar(() = $log =~ /^Prepare$/mg), 1, '... prepared once')
        or diag($log);
    is(scalar(() = $log =~ /^Execute$/mg), 3, '... executed three times');

    $r = tool($seq, $url, 'SELECT * FROM no_such_table', '--',
            'SELECT ?', 'still here');
    is($r->{exit}, 1, 'a query error, then a query: exit 1');
    like($r->{out},
         qr/^= error: mysql: prepare: .*no_such_table.*\nstill here\n= ok\n\z/,
         '... the error, then the next query on the same connection');

    $r = tool($seq, $url, 'SELECT 1', '--', 'KILL CONNECTION_ID()',
            '--', 'SELECT 2');
    is($r->{exit}, 2, 'the connection killed on the server: exit 2');
    like($r->{out}, qr/^1\n= ok\n/, '... after the query before it');
    unlike($r->{out}, qr/^2$/m, '... and nothing after it');
}

done_testing;
