#!/usr/bin/perl
# [route] db_aliases end to end, against a real PostgreSQL (t/lib/Pg.pm)
# and a real MariaDB (t/lib/Maria.pm), and the real pipeline (netd, sipd,
# dbd): the test plays the UAC and the UAS over UDP and checks what leaves
# the proxy byte for byte. The lookups run over each backend in turn; the
# cache (sipd's own) over PostgreSQL.
#
#  - a row of dbaliases rewrites the forwarded request's Request-URI to
#    sip:USERNAME@DOMAIN (the host is looked up lower-cased; the old
#    URI's port and parameters go, as with Kamailio's alias_db);
#  - no row: the request is forwarded with its Request-URI unchanged;
#  - SQL metacharacters in the user part (o'brien, ';DROP/**/TABLE/**/
#    dbaliases;--, the same with %20 escapes, backslashes, %, _, UTF-8)
#    are stored and matched as plain data: each finds its own row, near
#    misses that a LIKE or a pasted string would have matched find none,
#    and the table still holds every row afterwards;
#  - a CANCEL goes where its INVITE went, with the INVITE's branch;
#  - an ACK is not looked up (sipd:db_parked does not move);
#  - with [db] cache_ttl (and two sipd instances): a second lookup is a
#    cache hit (db:cache_hits, nothing parked), the answer stays the
#    cached one after the row changes until the TTL ends, then the new
#    one; a negative answer is cached too; MI db_cache_flush (FIFO and
#    JSON-RPC) empties every instance's cache, answers each instance's
#    count and the total, and the change is visible at once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use DbSip;
use Maria;
use Pg;
use Proxy;
use Sip;
use Tcp;

# The backends: a server, how to run SQL on it, a literal of any bytes,
# the hex of a column's bytes.
my %BE = (
    postgres => {
        new => sub { my $d = Pg->new; $d->schema; $d },
        sql => sub { $_[0]->psql($_[1], 'sipstage') },
        lit => \&DbSip::lit,
        hex => sub { "encode(convert_to($_[0], 'UTF8'), 'hex')" },
    },
    mysql => {
        new => sub { my $d = Maria->new; $d->schema; $d },
        sql => sub { $_[0]->sql($_[1], 'sipstage') },
        lit => sub { "X'" . unpack('H*', $_[0]) . "'" },
        hex => sub { "LOWER(HEX($_[0]))" },
    },
);
my ($db, $be);                          # the server under test
my $uac = Proxy::UDP->new;
my $uas = Proxy::UDP->new;
my ($U, $S) = ($uac->port, $uas->port);
my $UAS = "127.0.0.1:$S";

sub sql { return $be->{sql}->($db, $_[0]) }

sub alias_row
{
    my ($auser, $adom, $user, $dom) = @_;
    sql('INSERT INTO dbaliases (alias_username, alias_domain, username, '
        . 'domain) VALUES (' . join(', ', map { $be->{lit}->($_) } $auser,
                                    $adom, $user, $dom) . ')');
}

# send_req(P, METHOD, RURI, %o) - send from the UAC, return the outcome
sub send_req
{
    my ($p, $method, $ruri, %o) = @_;
    $uac->send(DbSip::req($method, $ruri, $U, %o), $p->port);
    return DbSip::outcome($uac, $uas, $o{wait} // 5);
}

# ready(P) - dbd answers lookups: a request with no row is forwarded
sub ready
{
    my ($p) = @_;
    my $deadline = time + 20;
    while (time < $deadline) {
        my ($what, $b) = send_req($p, 'OPTIONS', "sip:warmup\@$UAS",
                                  wait => 3);
        if ($what eq 'fwd') {
            $_->drain(0.3) for $uac, $uas;  # late answers of earlier tries
            return 1;
        }
        sleep 0.3;
    }
    return 0;
}

# fwd_ruri(NAME, P, METHOD, RURI, WANT, %o) - forwarded with Request-URI
# WANT; returns the forwarded bytes
sub fwd_ruri
{
    my ($name, $p, $method, $ruri, $want, %o) = @_;
    my ($what, $b) = send_req($p, $method, $ruri, %o);
    is($what, 'fwd', "$name: forwarded")
        or diag("got $what: " . Sip::show($b));
    is(DbSip::line1($b), "$method $want SIP/2.0",
       "$name: request line $method $want");
    return $b;
}

# lookups() - every lookup case over the current backend ($db, $be)
sub lookups
{
    alias_row('bob', 'example.com', 'robert', $UAS);
    alias_row('ackme', '127.0.0.1', 'wrong', $UAS);

    # User parts as they are written in a Request-URI (the key is the
    # user as written: escapes are not undone), each with a row of its
    # own.
    my @meta = ("o'brien", "';DROP/**/TABLE/**/dbaliases;--",
                "';%20DROP%20TABLE%20dbaliases;%20--", 'back\\slash\\\\',
                '100%', 'under_score', '%', '_', "j\xc3\xbcrgen\xe2\x82\xac",
                "x'or'1'='1");
    alias_row($meta[$_], '127.0.0.1', "meta$_", $UAS) for 0 .. $#meta;
    # Users that LIKE, a pasted string or a lost quote would have matched.
    my @near = ("o_brien", "o%", "O'BRIEN", "';DROP/**/TABLE/**/dbaliases;",
                'back\\slash\\', 'back\\\\slash\\\\', '100x', 'underXscore',
                'x', "x'or'1'='1'--", "j\xc3\xbcrgen");
    my $nrows = 2 + @meta;

    my $p = Proxy->new(sipd => 1, children => 2, extra => {
        db => [ 'url = ' . $db->url, 'timeout_ms = 2000' ],
        route => [ 'db_aliases = 1' ] });
    ok(ready($p), 'dbd answers lookups (a request with no row is forwarded)')
        or BAIL_OUT('no lookup answered: ' . $p->log_tail(30));
    my $st0 = $p->stats('all');

    fwd_ruri('row', $p, 'INVITE', 'sip:bob@Example.COM', "sip:robert\@$UAS");
    fwd_ruri('row, port and parameters', $p, 'INVITE',
             'sip:bob@example.com:5070;transport=udp;foo=bar',
             "sip:robert\@$UAS");
    fwd_ruri('row, MESSAGE', $p, 'MESSAGE', 'sip:bob@EXAMPLE.COM',
             "sip:robert\@$UAS");
    fwd_ruri('no row', $p, 'INVITE', "sip:nobody\@$UAS", "sip:nobody\@$UAS");
    fwd_ruri('user compared as written', $p, 'INVITE', "sip:Bob\@$UAS",
             "sip:Bob\@$UAS");
    my $st = $p->stats('all');
    is($st->{'db:aliased'} - $st0->{'db:aliased'}, 3, 'db:aliased: 3');
    is($st->{'sipd:db_parked'} - $st0->{'sipd:db_parked'}, 5,
       'sipd:db_parked: 5 lookups (no cache)');
    is($st->{'db:cache_hits'} + $st->{'db:cache_misses'}, 0,
       'no cache: no cache counts');

    for my $i (0 .. $#meta) {
        (my $show = $meta[$i])
            =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
        fwd_ruri("meta \"$show\"", $p, 'INVITE', "sip:$meta[$i]\@$UAS",
                 "sip:meta$i\@$UAS");
    }
    for my $n (@near) {
        (my $show = $n) =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
        fwd_ruri("near miss \"$show\": no row", $p, 'INVITE', "sip:$n\@$UAS",
                 "sip:$n\@$UAS");
    }
    is(sql('SELECT count(*) FROM dbaliases'), "$nrows\n",
       "dbaliases still holds its $nrows rows");
    is(join(',', split(/\n/, sql('SELECT ' . $be->{hex}->('alias_username')
                                   . " FROM dbaliases WHERE username LIKE "
                                   . "'meta%' ORDER BY id"))),
       join(',', map { unpack('H*', $_) } @meta),
       'the metacharacter users are stored byte for byte');

    {
        my $inv = fwd_ruri('CANCEL: the INVITE', $p, 'INVITE',
                           'sip:bob@example.com', "sip:robert\@$UAS",
                           id => 'cancel-1');
        my $can = fwd_ruri('CANCEL', $p, 'CANCEL', 'sip:bob@example.com',
                           "sip:robert\@$UAS", id => 'cancel-1');
        my ($v1) = Sip::hdr(Sip::parse($inv) // {headers => []}, 'Via', 'v');
        my ($v2) = Sip::hdr(Sip::parse($can) // {headers => []}, 'Via', 'v');
        ok(defined $v1 && defined Sip::branch($v1)
               && Sip::branch($v1) eq (Sip::branch($v2 // '') // ''),
           "CANCEL: the INVITE's branch on our Via")
            or diag("INVITE Via $v1, CANCEL Via $v2");
    }

    {
        fwd_ruri('the ackme row works', $p, 'INVITE', "sip:ackme\@$UAS",
                 "sip:wrong\@$UAS");
        my $before = $p->stat('sipd:db_parked');
        fwd_ruri('ACK: not looked up', $p, 'ACK', "sip:ackme\@$UAS",
                 "sip:ackme\@$UAS");
        fwd_ruri('BYE with a To tag: not looked up', $p, 'BYE',
                 "sip:ackme\@$UAS", "sip:ackme\@$UAS", totag => 't1');
        is($p->stat('sipd:db_parked'), $before, 'ACK, BYE: nothing parked');
    }
    {
        my ($code, $reason) = $p->mi('db_cache_flush');
        is("$code $reason", '200 OK', 'db_cache_flush without a cache: 200');
        my ($c2, $r2) = $p->mi('address_reload');
        is("$c2 $r2", '404 [route] db_allow is off: no address table to reload',
           'address_reload with db_allow off: 404 and why');
    }
    $p->stop;
    unlike($p->log, qr/\Q${\ $db->password }\E/, 'no DB password in the log');
}

for my $name (qw(postgres mysql)) {
    $be = $BE{$name};
    $db = $be->{new}->();
    subtest "lookups over $name" => \&lookups;
    $db->stop;
}

# --- cache, two sipd instances ------------------------------------------------
$be = $BE{postgres};
$db = $be->{new}->();
my $TTL = 4;
my $H = Tcp::free_port();           # HTTP listens on TCP
my $p = Proxy->new(sipd => 2, children => 2, extra => {
    db => [ 'url = ' . $db->url, 'timeout_ms = 2000', "cache_ttl = $TTL" ],
    route => [ 'db_aliases = 1' ],
    mi => [ "http_listen = 127.0.0.1:$H" ] });
ok(ready($p), 'cache: dbd answers');
alias_row('carol', '127.0.0.1', 'carol1', $UAS);
my $st0 = $p->stats('all');
my $t0 = time;
fwd_ruri('cache: first lookup', $p, 'INVITE', "sip:carol\@$UAS",
         "sip:carol1\@$UAS", id => 'carol');
my $t1 = time;
my $st = $p->stats('all');
is($st->{'db:cache_misses'} - $st0->{'db:cache_misses'}, 1,
   'cache: the first lookup is a miss');
is($st->{'sipd:db_parked'} - $st0->{'sipd:db_parked'}, 1,
   'cache: ... and goes to dbd');
fwd_ruri('cache: second lookup', $p, 'INVITE', "sip:carol\@$UAS",
         "sip:carol1\@$UAS", id => 'carol', branch => 'z9hG4bK-carol-2');
my $st2 = $p->stats('all');
is($st2->{'db:cache_hits'} - $st->{'db:cache_hits'}, 1,
   'cache: the second lookup is a hit');
is($st2->{'sipd:db_parked'}, $st->{'sipd:db_parked'},
   'cache: ... and parks nothing');
sql("UPDATE dbaliases SET username = 'carol2' WHERE alias_username "
    . "= 'carol'");
{
    $uac->send(DbSip::req('INVITE', "sip:carol\@$UAS", $U, id => 'carol',
                          branch => 'z9hG4bK-carol-3'), $p->port);
    my ($what, $b) = DbSip::outcome($uac, $uas, 5);
    SKIP: {
        skip 'the machine was too slow to look within the TTL', 1
            if time - $t0 >= $TTL - 0.5;
        is(DbSip::ruri($b), "sip:carol1\@$UAS",
           'cache: the row changed, the cached answer stays until the TTL');
    }
}
sleep(0.05) while time < $t1 + $TTL + 0.3;
fwd_ruri('cache: after the TTL, the new row', $p, 'INVITE',
         "sip:carol\@$UAS", "sip:carol2\@$UAS", id => 'carol',
         branch => 'z9hG4bK-carol-4');

my $td = time;
fwd_ruri('negative: no row', $p, 'INVITE', "sip:dave\@$UAS",
         "sip:dave\@$UAS", id => 'dave');
alias_row('dave', '127.0.0.1', 'dave1', $UAS);
{
    $uac->send(DbSip::req('INVITE', "sip:dave\@$UAS", $U, id => 'dave',
                          branch => 'z9hG4bK-dave-2'), $p->port);
    my ($what, $b) = DbSip::outcome($uac, $uas, 5);
    SKIP: {
        skip 'the machine was too slow to look within the TTL', 1
            if time - $td >= $TTL - 0.5;
        is(DbSip::ruri($b), "sip:dave\@$UAS",
           'negative: cached too (the new row is not seen yet)');
    }
}
{
    my ($code, $reason, $lines) = $p->mi('db_cache_flush');
    is("$code $reason", '200 OK', 'db_cache_flush: 200 OK');
    my %per = map { /^(sipd\/\d):: Flushed=(\d+)$/ ? ($1 => $2) : () }
              @$lines;
    my ($total) = map { /^Flushed:: (\d+)$/ ? $1 : () } @$lines;
    is_deeply([ sort keys %per ], [ 'sipd/0', 'sipd/1' ],
              'db_cache_flush: a line per sipd instance')
        or diag(join("\n", @$lines));
    my $sum = 0;
    $sum += $_ for values %per;
    ok(defined $total && $total == $sum && $total >= 1,
       "db_cache_flush: Flushed:: $sum, the sum of the instances");
    is($p->stat('db:cache_entries'), 0, 'db:cache_entries: 0 after it');
}
fwd_ruri('flushed: the new row at once', $p, 'INVITE', "sip:dave\@$UAS",
         "sip:dave1\@$UAS", id => 'dave', branch => 'z9hG4bK-dave-3');
ok($p->wait_stat('db:cache_entries', 1, 3) >= 1,
   'db:cache_entries counts the new entry');
{
    my $http = HTTP::Tiny->new(timeout => 10);
    my $r = $http->post("http://127.0.0.1:$H/mi", {
        content => encode_json({ jsonrpc => '2.0', id => 7,
                                 method => 'db_cache_flush' }),
        headers => { 'Content-Type' => 'application/json' } });
    my $j = eval { decode_json($r->{content}) } // {};
    is($r->{status}, 200, 'JSON-RPC db_cache_flush: HTTP 200');
    ok(ref $j->{result} eq 'HASH' && defined $j->{result}{Flushed}
           && ref $j->{result}{'sipd/0'} eq 'HASH'
           && ref $j->{result}{'sipd/1'} eq 'HASH'
           && $j->{result}{Flushed} == $j->{result}{'sipd/0'}{Flushed}
                                       + $j->{result}{'sipd/1'}{Flushed},
       'JSON-RPC db_cache_flush: per instance and the total')
        or diag($r->{content});
}
$p->stop;

done_testing();
