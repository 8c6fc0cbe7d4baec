#!/usr/bin/perl
# "sipctl db init" against a fresh PostgreSQL (t/lib/Pg.pm, no schema)
# and a fresh MariaDB (t/lib/Maria.pm, no schema): it reads the first
# [db] url of a proxy config (mid -c accepts that config; a second url,
# to a dead port, is not used), runs etc/db/SCHEME.sql with psql or
# mariadb, and afterwards dbaliases and address exist with Kamailio's
# columns (names, types, order) and the alias index, owned by the URL's
# user. A second run succeeds and keeps the rows. A wrong password, a
# URL without a database, and a bad URL fail with exit 1 and a reason,
# and no password (raw or percent-encoded) in the output. The password
# reaches the client through its environment only (PGPASSWORD,
# MYSQL_PWD), never its command line: checked with stand-in clients
# first in PATH that record their argv and environment.
#
# Needs postgresql and mariadb-server/-client (scripts/deps test).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Watchdog;
use Proxy qw(run_cmd slurp);
use Pg;
use Maria;

my $SIPCTL = Proxy::repo_root() . '/scripts/sipctl';
my $tmp = tempdir('sipstage-dbinit-XXXXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{T_LEAVE});
Watchdog::dir($tmp);                 # removed if the test dies

sub enc
{
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord($1))/ge;
    return $s;
}

# cfg(NAME, URL...) - a proxy config with these [db] url lines
sub cfg
{
    my ($name, @urls) = @_;
    my $p = Proxy->new(no_start => 1,
                       extra => { db => [ map { "url = \"$_\"" } @urls ] });
    return $p->cfg;
}

sub db_init
{
    my ($cfg, %env) = @_;
    local @ENV{ keys %env } = values %env;
    my $r = run_cmd([ $SIPCTL, '-f', $cfg, 'db', 'init' ], timeout => 60);
    ok(!$r->{timed_out}, 'sipctl db init ended within 60 s');
    $r->{exit} //= -1;
    return $r;
}

# no_secret(R, NAME, PW...) - none of the passwords, raw or encoded
sub no_secret
{
    my ($r, $name, @pw) = @_;
    my $all = $r->{out} . $r->{err};
    my @bad = grep { index($all, $_) >= 0 } map { ($_, enc($_)) } @pw;
    ok(!@bad, "$name: no password in the output") or diag($all);
}

my $pg = Pg->new;
my $my = Maria->new;
my $dead = Proxy::free_port_both();

my %be = (
    postgres => {
        srv => $pg, url => $pg->url,
        bad => sub { "postgres://sip:$_[0]\@127.0.0.1:" . $pg->port
                     . "/sipstage" },
        sql => sub { $pg->psql($_[0], 'sipstage') },
        cols => "SELECT table_name || ' ' || column_name || ' ' || data_type"
                . " FROM information_schema.columns WHERE table_name IN "
                . "('dbaliases', 'address') ORDER BY table_name DESC, "
                . "ordinal_position",
        want => [ 'dbaliases id integer',
                  (map { "dbaliases $_ character varying" }
                   qw(alias_username alias_domain username domain)),
                  'address id integer', 'address grp integer',
                  'address ip_addr character varying',
                  'address mask integer', 'address port integer',
                  'address tag character varying' ],
        index => "SELECT indexname FROM pg_indexes WHERE tablename = "
                 . "'dbaliases' AND indexdef LIKE "
                 . "'%(alias_username, alias_domain)%'",
        owner => "SELECT tableowner FROM pg_tables WHERE tablename IN "
                 . "('dbaliases', 'address')",
        fail => qr/password authentication failed/,
    },
    mysql => {
        srv => $my, url => $my->url,
        bad => sub { "mysql://sip:$_[0]\@127.0.0.1:" . $my->port
                     . "/sipstage" },
        sql => sub { $my->sql($_[0], 'sipstage') },
        cols => "SELECT CONCAT_WS(' ', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE)"
                . " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                . "'sipstage' ORDER BY TABLE_NAME DESC, ORDINAL_POSITION",
        want => [ 'dbaliases id int(11)',
                  (map { "dbaliases $_ varbinary(256)" }
                   qw(alias_username alias_domain username domain)),
                  'address id int(11)', 'address grp int(11)',
                  'address ip_addr varchar(50)', 'address mask int(11)',
                  'address port int(11)', 'address tag varchar(64)' ],
        index => "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) "
                 . "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = "
                 . "'sipstage' AND INDEX_NAME = 'dbaliases_alias_idx'",
        fail => qr/Access denied for user 'sip'/,
    },
);

for my $name (qw(postgres mysql)) {
    my $b = $be{$name};
    my $pw = $b->{srv}->password;
    my $sql = $b->{sql};

    is($sql->($b->{cols}), '', "$name: no tables before db init");
    (my $second = $b->{url}) =~ s/:\d+\//:$dead\//;
    my $cfg = cfg($name, $b->{url}, $second);
    my $c = run_cmd([ Proxy::bin('mid'), '-c', '-f', $cfg ], timeout => 20);
    is($c->{exit}, 0, "$name: mid -c accepts the config") or diag($c->{err});

    my $r = db_init($cfg);
    is($r->{exit}, 0, "$name: db init: exit 0") or diag($r->{out} . $r->{err});
    my $masked = "$name://sip:***\@127.0.0.1:" . $b->{srv}->port . '/sipstage';
    like($r->{out}, qr{^sipctl: db init: \Q$masked\E: tables .* ready}m,
         "$name: says so, the URL masked, the first url's port");
    no_secret($r, "$name: db init", $pw);
    is($sql->($b->{cols}), join('', map { "$_\n" } @{ $b->{want} }),
       "$name: dbaliases and address, Kamailio's columns in order");
    if ($name eq 'postgres') {
        is($sql->($b->{index}), "dbaliases_alias_idx\n",
           "$name: the index on (alias_username, alias_domain)");
        is($sql->($b->{owner}), "sip\nsip\n", "$name: owned by sip");
    } else {
        is($sql->($b->{index}), "alias_username,alias_domain\n",
           "$name: the index on (alias_username, alias_domain)");
    }
    $sql->("INSERT INTO dbaliases (alias_username, alias_domain, username, "
           . "domain) VALUES ('a', 'b', 'c', 'd')");

    $r = db_init($cfg);
    is($r->{exit}, 0, "$name: db init again: exit 0")
        or diag($r->{out} . $r->{err});
    is($sql->("SELECT username FROM dbaliases WHERE alias_username = 'a'"),
       "c\n", "$name: ... the row is still there");
    is($sql->($b->{cols}), join('', map { "$_\n" } @{ $b->{want} }),
       "$name: ... the same columns");

    my $wrong = 'Wr0ng@pa ss%';
    $r = db_init(cfg($name, $b->{bad}->(enc($wrong))));
    is($r->{exit}, 1, "$name: wrong password: exit 1");
    like($r->{err}, $b->{fail}, "$name: ... the server's reason");
    like($r->{err}, qr{\Q$name\E://sip:\*\*\*\@}, "$name: ... the URL masked");
    no_secret($r, "$name: wrong password", $wrong, $pw);

    (my $nodb = $b->{url}) =~ s{/sipstage$}{};
    $r = db_init(cfg($name, $nodb));
    is($r->{exit}, 1, "$name: url without a database: exit 1");
    like($r->{err}, qr/names no database/, '... says so');
    no_secret($r, "$name: no database", $pw);

    (my $badport = $b->{url}) =~ s/:(\d+)\//:99999\//;
    $r = db_init(cfg($name, $badport));
    is($r->{exit}, 1, "$name: bad port in the url: exit 1");
    like($r->{err}, qr/bad url port/, '... says so');
    no_secret($r, "$name: bad url", $pw);
}

# --- the password goes through the environment, never argv -------------
{
    my $bin = "$tmp/bin";
    mkdir($bin);
    for my $client (qw(psql mariadb)) {
        Proxy::spew("$bin/$client", "#!/bin/sh\nprintf '%s\\n' \"\$@\" "
             . ">$tmp/$client.argv\nenv >$tmp/$client.env\n");
        chmod(0755, "$bin/$client");
    }
    my $pw = 'S3cret pass/@:%x';
    for my $c ([ 'psql', 'postgres', 'PGPASSWORD' ],
               [ 'mariadb', 'mysql', 'MYSQL_PWD' ]) {
        my ($client, $scheme, $var) = @$c;
        my $r = db_init(cfg($scheme, "$scheme://u:" . enc($pw)
                                     . "\@127.0.0.1:1/d%20b"),
                        PATH => "$bin:$ENV{PATH}");
        is($r->{exit}, 0, "stand-in $client: exit 0")
            or diag($r->{out} . $r->{err});
        my $argv = slurp("$tmp/$client.argv") // '';
        my $env = slurp("$tmp/$client.env") // '';
        ok($argv ne '' && index($argv, 'S3cret') < 0,
           "$client: the password is not on its command line") or diag($argv);
        like($env, qr/^\Q$var=$pw\E$/m,
             "$client: it is in $var, decoded");
        if ($client eq 'psql') {
            like($env, qr/^PGDATABASE=d b$/m, 'psql: PGDATABASE, decoded');
            like($env, qr/^PGUSER=u$/m, 'psql: PGUSER');
            like($env, qr/^PGPORT=1$/m, 'psql: PGPORT');
        } else {
            like($argv, qr/^--no-defaults\n(.*\n)*-D\nd b\n/,
                 'mariadb: --no-defaults first, the database decoded');
            like($argv, qr/^--protocol=TCP$/m, 'mariadb: over TCP');
        }
    }
}

done_testing;
