#!/usr/bin/perl
# The PostgreSQL backend module (build/lib/db_postgres.so) on its own,
# against a real server (t/lib/Pg.pm), through build/t/db_try (one query
# per connection) and build/t/db_seq (several queries on one connection).
#
#   rows            a row read back, every column in order
#   hostile values  quotes, "'; DROP TABLE ...", backslashes, % and _,
#                   UTF-8, "?" and "$1": stored and matched byte-exactly
#                   (checked again through psql), the table survives,
#                   wildcards match nothing else
#   NULL            a NULL parameter, a NULL column, '' is not NULL
#   no rows         exit 0, no output
#   query errors    missing table, bad integer, placeholder count: exit 1
#                   and the reason
#   connection      wrong password: exit 2, the reason, no password; a
#                   user named like the password: the text says "***";
#                   stopped server: exit 2 (not the tool's 10 s timeout);
#                   a server that never answers: the tool times out (4)
#                   instead of the module blocking; back after a restart
#   big             5,000 rows, a 1 MB value, a 120 kB parameter
#   one connection  a statement prepared once, run three times (server
#                   log), a query error leaves the connection usable,
#                   DEALLOCATE ALL and a changed table are recovered
#                   from, a terminated backend is a connection error
#
# Needs postgresql (scripts/deps test installs it); Pg.pm bails without.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use Digest::MD5 qw(md5_hex);
use Proxy ();
use Pg;

my $lib = Proxy::build_dir() . '/lib';
my $try = Proxy::build_dir() . '/t/db_try';
my $seq = Proxy::build_dir() . '/t/db_seq';
-x $try or BAIL_OUT("$try not built (run make)");
-f "$lib/db_postgres.so" or BAIL_OUT("$lib/db_postgres.so not built");

my $pg = Pg->new;
$pg->schema;
my $url = $pg->url;
my $pw = $pg->password;

# db(TOOL, URL, SQL, VALUES...) - run a tool, bounded; {exit, out, err}
sub db
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
    my $r = db($try, $url, $sql, @$vals);
    is($r->{exit}, 0, "$name: exit 0") or diag($r->{err});
    is($r->{out}, $want, "$name: rows");
    return $r;
}

sub psql { return $pg->psql($_[0], 'sipstage') }

# --- a row read back -----------------------------------------------------
psql("INSERT INTO dbaliases (alias_username, alias_domain, username, "
     . "domain) VALUES ('alice', 'example.com', 'bob', 'b.example.org')");
try_ok('SELECT alias_username, alias_domain, username, domain FROM '
       . 'dbaliases WHERE alias_username = ? AND alias_domain = ?',
       ['alice', 'example.com'],
       "alice\texample.com\tbob\tb.example.org\n", 'one row, four columns');
try_ok('SELECT domain, username FROM dbaliases WHERE alias_username = ?',
       ['alice'], "b.example.org\tbob\n", 'columns in the order asked');
try_ok('SELECT ?::int + 1, ?, 7', ['41', 'x'], "42\tx\t7\n",
       'an integer parameter, literals');

# --- hostile values: plain data, byte-exact --------------------------------
my @hostile = (
    "o'brien",
    "'; DROP TABLE dbaliases; --",
    "back\\slash\\\\end\\",
    "100%",
    "a_b",
    "m\xc3\xbcller-\xc3\xb1-\xe6\x97\xa5\xe6\x9c\xac",
    "? and \$1 and \$\$x\$\$",
    "tab\there \"dq\" E'\\''",
);
my $ins = 'INSERT INTO dbaliases (alias_username, alias_domain, username, '
          . 'domain) VALUES (?, ?, ?, ?)';
my $sel = 'SELECT username, alias_username, domain FROM dbaliases WHERE '
          . 'alias_username = ? AND alias_domain = ?';
sub esc { my $s = shift; $s =~ s/\\/\\\\/g; $s =~ s/\t/\\t/g; return $s }
# decoys that a value used as a LIKE pattern would match
for my $d (qw(axb 1000 a%b)) {
    try_ok($ins, [$d, 'hostile.test', "decoy-$d", 'd'], '', "decoy $d");
}
for my $i (0 .. $#hostile) {
    my $v = $hostile[$i];
    try_ok($ins, [$v, 'hostile.test', "u$i", $v], '', "insert value $i");
    try_ok($sel, [$v, 'hostile.test'],
           "u$i\t" . esc($v) . "\t" . esc($v) . "\n",
           "value $i matched and read back");
    my $hex = psql("SELECT encode(convert_to(alias_username, 'UTF8'), 'hex')"
                   . " || ':' || encode(convert_to(domain, 'UTF8'), 'hex') "
                   . "FROM dbaliases WHERE username = 'u$i'");
    my $h = unpack('H*', $v);
    is($hex, "$h:$h\n", "value $i stored byte-exactly (psql)");
}
is(psql("SELECT count(*) FROM dbaliases WHERE alias_domain = "
        . "'hostile.test'"), (@hostile + 3) . "\n",
   'the table is still there, every row in it');
try_ok('SELECT username FROM dbaliases WHERE alias_username = ? '
       . 'ORDER BY username', ['a_b'], "u4\n", '_ matches only itself');
try_ok('SELECT username FROM dbaliases WHERE alias_username = ? '
       . 'ORDER BY username', ['100%'], "u3\n", '% matches only itself');
try_ok('SELECT count(*) FROM dbaliases WHERE alias_username = ?', ['%'],
       "0\n", 'a lone % matches no row');

# --- NULL -------------------------------------------------------------------
try_ok('INSERT INTO address (ip_addr, tag) VALUES (?, ?)',
       ['192.0.2.7', '\\N'], '', 'insert a NULL parameter');
is(psql("SELECT tag IS NULL FROM address WHERE ip_addr = '192.0.2.7'"),
   "t\n", 'stored as NULL (psql)');
try_ok('SELECT ip_addr, tag, mask FROM address WHERE ip_addr = ?',
       ['192.0.2.7'], "192.0.2.7\t\\N\t32\n", 'a NULL column reads as NULL');
try_ok('SELECT ?::text IS NULL, ?::text IS NULL, length(?)',
       ['\\N', '', ''], "t\tf\t0\n", "NULL is not ''");

# --- no rows ------------------------------------------------------------------
try_ok('SELECT username FROM dbaliases WHERE alias_username = ?',
       ['nobody-here'], '', 'no rows');

# --- query errors -------------------------------------------------------------
my $r = db($try, $url, 'SELECT * FROM nope_table');
is($r->{exit}, 1, 'missing table: exit 1 (query error)');
like($r->{err}, qr/relation "nope_table" does not exist \(SQLSTATE 42P01\)/,
     "missing table: the server's reason");
unlike($r->{err}, qr/\n.*\S/, 'missing table: one line');
$r = db($try, $url, 'SELECT ?::int', 'abc');
is($r->{exit}, 1, 'bad integer: exit 1');
like($r->{err}, qr/invalid input syntax for type integer/,
     'bad integer: the reason');
$r = db($try, $url, 'SELECT ?', 'a', 'b');
is($r->{exit}, 1, 'two values, one placeholder: exit 1');
like($r->{err}, qr/1 placeholders, 2 values/, 'placeholder count: reason');
try_ok("SELECT '?', \"?c\" -- ?\n FROM (SELECT ? AS \"?c\") x /* ? */",
       ['v'], "?\tv\n", 'only the ? outside quotes and comments count');

# --- connection errors ----------------------------------------------------------
(my $bad = $url) =~ s/:[^:@]*@/:Wr0ng-pw-Zq9\@/;
$r = db($try, $bad, 'SELECT 1');
is($r->{exit}, 2, 'wrong password: exit 2 (connection error)');
like($r->{err}, qr/password authentication failed for user "sip"/,
     'wrong password: the reason');
unlike($r->{err}, qr/Wr0ng-pw-Zq9/, 'wrong password: not in the text');
unlike($r->{err} . $r->{out}, qr/\Q$pw\E/, 'real password: not either');
my $same = 'zz-user-is-pw-42';
$r = db($try, "postgres://$same:$same\@127.0.0.1:" . $pg->port . '/sipstage',
        'SELECT 1');
is($r->{exit}, 2, 'user named like the password: exit 2');
like($r->{err}, qr/for user "\*\*\*"/, 'the password is scrubbed as ***');
(my $text = $r->{err}) =~ s/^db_try: postgres:\S+: //;   # the masked URL
unlike($text, qr/\Q$same\E/, 'the password is not in the text');

# a port that accepts but never speaks: the module must not block, so
# the tool's own 10 s poll() gives up (exit 4)
my $mute = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
                                 LocalPort => 0, Proto => 'tcp')
    or die "listen: $!";
$r = db($try, $pg->url($mute->sockport), 'SELECT 1');
is($r->{exit}, 4, 'a server that never answers: the tool times out, '
                  . 'the module did not block');
close($mute);

$pg->stop;
$r = db($try, $url, 'SELECT 1');
is($r->{exit}, 2, 'stopped server: exit 2, not the 10 s no-answer 4');
like($r->{err}, qr/Connection refused/, 'stopped server: the reason');
unlike($r->{err}, qr/\Q$pw\E/, 'stopped server: no password');
$pg->start;
try_ok('SELECT count(*) FROM dbaliases WHERE alias_username = ?', ['alice'],
       "1\n", 'server back: the same URL works again');

# --- big ------------------------------------------------------------------------
$r = try_ok('SELECT g, ? || g FROM generate_series(1, ?::int) g ORDER BY g',
            ['row-', '5000'],
            join('', map { "$_\trow-$_\n" } 1 .. 5000), '5,000 rows');
$r = db($try, $url, 'SELECT length(x), x FROM repeat(?, ?::int) x', 'y',
        '1000000');
is($r->{exit}, 0, '1 MB value: exit 0');
ok($r->{out} eq "1000000\t" . ('y' x 1000000) . "\n", '1 MB value read');
my $big = join('', map { chr(97 + $_ % 26) } 1 .. 120000);
try_ok('SELECT length(?), md5(?)', [$big, $big],
       "120000\t" . md5_hex($big) . "\n",
       '120 kB parameter sent whole');

# --- several queries on one connection (db_seq) -------------------------------
SKIP: {
    skip("$seq not built (make $seq; Makefile TOOLS lacks it)", 12)
        unless -x $seq;
    psql("ALTER ROLE sip SET log_min_duration_statement = 0");
    my $log = $pg->dir . '/log';
    my $q = 'SELECT ?::int * 2';
    $r = db($seq, $url, $q, 1, '--', $q, 2, '--', $q, 3);
    is($r->{exit}, 0, 'one statement three times: exit 0')
        or diag($r->{err});
    is($r->{out}, "2\n= ok\n4\n= ok\n6\n= ok\n", 'three answers');
    my ($parse, $exec) = (0, 0);
    my $deadline = time + 10;
    while (time < $deadline) {
        my $l = Proxy::slurp($log) // '';
        $parse = () = $l =~ /parse sipstage_0_0: SELECT \$1::int \* 2$/mg;
        $exec = () = $l =~ /execute sipstage_0_0: SELECT \$1::int \* 2$/mg;
        last if $exec >= 3;
        sleep 0.1;
    }
    is($parse, 1, 'prepared once (server log), as "$1"');
    is($exec, 3, 'run three times (server log)');
    psql("ALTER ROLE sip RESET log_min_duration_statement");

    $r = db($seq, $url, 'SELECT * FROM nope_table', '--', $q, 5, '--',
            'SELECT * FROM nope_table', '--', $q, 6);
    is($r->{exit}, 1, 'a query error on one connection: exit 1');
    my $e = "= error: relation \"nope_table\" does not exist (SQLSTATE "
            . "42P01)\n";
    is($r->{out}, "${e}10\n= ok\n${e}12\n= ok\n",
       'the connection stays usable after query errors');

    $r = db($seq, $url, 'SELECT ?::int + 1', 1, '--', 'DEALLOCATE ALL',
            '--', 'SELECT ?::int + 1', 2);
    is($r->{exit}, 0, 'DEALLOCATE ALL between two runs: exit 0')
        or diag($r->{out}, $r->{err});
    is($r->{out}, "2\n= ok\n= ok\n3\n= ok\n",
       'a lost prepared statement is prepared again');

    $r = db($seq, $url, 'CREATE TABLE tplan (a int)', '--',
            'INSERT INTO tplan VALUES (1)', '--', 'SELECT * FROM tplan',
            '--', "ALTER TABLE tplan ADD COLUMN b text DEFAULT 'x'", '--',
            'SELECT * FROM tplan');
    is($r->{exit}, 0, 'a table changed under a prepared SELECT: exit 0')
        or diag($r->{out}, $r->{err});
    is($r->{out}, "= ok\n= ok\n1\n= ok\n= ok\n1\tx\n= ok\n",
       'the stale plan is prepared again, new columns read');

    $r = db($seq, $url, 'SELECT 1', '--',
            'SELECT pg_terminate_backend(pg_backend_pid())', '--',
            'SELECT 2');
    is($r->{exit}, 2, 'the backend terminated: a connection error (2)');
    like($r->{err}, qr/terminating connection/, 'terminated: the reason');
}

done_testing();
