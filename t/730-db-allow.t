#!/usr/bin/perl
# [route] db_allow end to end, against a real PostgreSQL (t/lib/Pg.pm)
# and the real pipeline, two sipd instances: the source address and port
# of each request (not its Via) is checked against table address.
#
#  - fail closed: with the database down at start, requests get 503 with
#    Retry-After (db:unavailable_replies), one warning per sipd; once
#    the server is up the table loads by itself (every second) and
#    db:allow_rows counts it;
#  - a source in a row (address and port) is forwarded; another port of
#    the same address gets 403 Forbidden (db:allow_denied); a response
#    from a source in no row is relayed (responses are never filtered);
#  - an INSERT, then MI address_reload (each instance answers its rows,
#    and the total): the new source is served at once; a row that does
#    not parse is skipped with a warning naming it; a network row (mask
#    8) with a port; JSON-RPC address_reload;
#  - IPv6 (when ::1 can be bound): a request from [::1] is refused until
#    a ::1/128 row is loaded, then forwarded;
#  - an instance that does not answer (SIGSTOP): 500 naming it after the
#    relay's wait, the other instance's line kept;
#  - a reload with the database down answers 503 and the table loaded
#    before stays in use.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use DbSip;
use Pg;
use Proxy;
use Sip;
use Tcp;

my $pg = Pg->new;
$pg->schema;
my ($a, $b, $c) = map { Proxy::UDP->new } 1 .. 3;   # UACs
my $uas = Proxy::UDP->new;
my $UAS = '127.0.0.1:' . $uas->port;
my $u6 = DbSip::UDP6->new;
my $P6;
if ($u6) {
    my $probe = DbSip::UDP6->new;
    $P6 = $probe->port;                 # free on ::1 a moment ago
    undef $probe;
}
my $H = Tcp::free_port();           # HTTP listens on TCP

sub addr_row
{
    my ($ip, $mask, $port) = @_;
    $pg->psql('INSERT INTO address (grp, ip_addr, mask, port) VALUES (1, '
              . DbSip::lit($ip) . ", $mask, $port)", 'sipstage');
}

# try(UAC, NAME) - an INVITE from UAC to the UAS; the outcome
sub try
{
    my ($from, $name, %o) = @_;
    my $port = $o{port} // $::P;
    $from->send(DbSip::req('INVITE', "sip:bob\@$UAS", $from->port,
                           ($o{host} ? (host => $o{host}) : ())), $port);
    return DbSip::outcome($from, $uas, 5);
}

sub forwarded
{
    my ($from, $name, %o) = @_;
    my ($what, $bytes) = try($from, $name, %o);
    is($what, 'fwd', "$name: forwarded") or diag(Sip::show($bytes));
    return $bytes;
}

sub answered
{
    my ($from, $name, $want, %o) = @_;
    my ($what, $bytes) = try($from, $name, %o);
    is("$what " . (DbSip::line1($bytes) // ''), "reply SIP/2.0 $want",
       "$name: $want");
    return $bytes;
}

# reload(NAME) - MI address_reload: (code reason, {instance => rows}, total)
sub reload
{
    my ($p) = @_;
    my ($code, $reason, $lines) = $p->mi('address_reload');
    my %per = map { /^(sipd\/\d):: Rows=(\d+)$/ ? ($1 => $2) : () } @$lines;
    my ($total) = map { /^Rows:: (\d+)$/ ? $1 : () } @$lines;
    return ("$code $reason", \%per, $total);
}

addr_row('127.0.0.1', 32, $a->port);
$pg->stop;

my $p = Proxy->new(sipd => 2, children => 2,
    extra => {
        stages => [ 'hang_ms = 30000' ],    # sipd/1 is stopped for 4 s
        db => [ 'url = ' . $pg->url, 'timeout_ms = 500' ],
        route => [ 'db_allow = 1' ],
        mi => [ "http_listen = 127.0.0.1:$H" ],
        ($u6 ? (net => [ "listen = udp:[::1]:$P6" ]) : ()) });
our $P = $p->port;

# --- fail closed until the first load ---------------------------------------
{
    my $r;
    for my $i (1 .. 4) {
        $r = answered($a, "database down at start ($i)",
                      '503 Service Unavailable');
    }
    like($r // '', qr/\r\nRetry-After: \d+\r\n/, '503: with Retry-After');
    ok($p->stat('db:unavailable_replies') >= 4,
       'db:unavailable_replies counts them');
    is($p->stat('db:allow_rows'), 0, 'db:allow_rows: 0');
    my $n = () = $p->log =~ /address table not loaded yet/g;
    ok($n >= 1 && $n <= 2, "one warning per sipd instance ($n)");
}
$pg->start;
{
    my $deadline = time + 20;
    sleep 0.2 while ($p->stat('db:allow_rows') // 0) < 2 && time < $deadline;
    is($p->stat('db:allow_rows'), 2,
       'the table loads by itself once the server is up: 1 row x 2 sipd');
}

# --- allow, deny, responses -------------------------------------------------
{
    my $fwd = forwarded($a, 'allowed source');
    is(DbSip::ruri($fwd), "sip:bob\@$UAS", 'allowed: Request-URI unchanged');
    my $before = $p->stat('db:allow_denied');
    answered($b, 'same address, another port', '403 Forbidden');
    answered($b, 'again', '403 Forbidden');
    is($p->stat('db:allow_denied') - $before, 2, 'db:allow_denied: 2');
    # the UAS (its port is in no row) answers: relayed to the UAC
    $uas->send(DbSip::response($fwd, 200, 'OK'), $P);
    my ($resp) = $a->recv(5);
    is(DbSip::line1($resp), 'SIP/2.0 200 OK',
       'a response from a source in no row is relayed');
}

# --- INSERT, address_reload -------------------------------------------------
{
    addr_row('127.0.0.1', 32, $b->port);
    my ($st, $per, $total) = reload($p);
    is($st, '200 OK', 'address_reload: 200 OK');
    is_deeply($per, { 'sipd/0' => 2, 'sipd/1' => 2 },
              'address_reload: 2 rows in each instance');
    is($total, 4, 'address_reload: Rows:: 4 (the sum)');
    forwarded($b, 'the new source, right after the reload');
    forwarded($a, 'the old one still');
    answered($c, 'a third port', '403 Forbidden');
    is($p->stat('db:allow_rows'), 4, 'db:allow_rows: 2 rows x 2 sipd');
}
{
    addr_row('not-an-ip', 32, 0);
    addr_row('127.0.0.1', 33, 0);
    my ($st, $per) = reload($p);
    is($st, '200 OK', 'bad rows: the reload still succeeds');
    is_deeply($per, { 'sipd/0' => 2, 'sipd/1' => 2 },
              'bad rows: skipped');
    like($p->log, qr/address row ip_addr=not-an-ip mask=32 port=0 skipped: /,
         'bad rows: a warning names the row');
    like($p->log, qr/address row ip_addr=127\.0\.0\.1 mask=33 port=0 skipped/,
         'bad rows: ... each');
}
{
    $pg->psql('DELETE FROM address WHERE port = ' . $b->port, 'sipstage');
    addr_row('127.0.0.0', 8, $c->port);
    my $r = HTTP::Tiny->new(timeout => 10)->post("http://127.0.0.1:$H/mi", {
        content => encode_json({ jsonrpc => '2.0', id => 1,
                                 method => 'address_reload' }),
        headers => { 'Content-Type' => 'application/json' } });
    my $j = eval { decode_json($r->{content}) } // {};
    is_deeply($j->{result}, { 'sipd/0' => { Rows => 2 },
                              'sipd/1' => { Rows => 2 }, Rows => 4 },
              'JSON-RPC address_reload: rows per instance and the total')
        or diag($r->{content});
    forwarded($c, 'a network row with a port');
    answered($b, 'a deleted row', '403 Forbidden');
}

# --- IPv6 -------------------------------------------------------------------
SKIP: {
    skip 'no IPv6 loopback', 4 unless $u6;
    answered($u6, 'IPv6 source, no row', '403 Forbidden', port => $P6,
             host => '[::1]');
    addr_row('::1', 128, 0);
    my ($st) = reload($p);
    is($st, '200 OK', 'IPv6 row loaded');
    forwarded($u6, 'IPv6 source with a ::1/128 row', port => $P6,
              host => '[::1]');
}

# --- an instance that does not answer --------------------------------------
{
    my ($s1) = grep { $_->{Type} eq 'sipd' && $_->{Instance} == 1 } $p->ps;
    Proxy::stop_process($s1->{PID});
    my $t = time;
    my ($st, $per, $total) = reload($p);
    my $took = time - $t;
    kill 'CONT', $s1->{PID};
    is($st, '500 sipd/1 did not answer',
       'address_reload, sipd/1 stopped: 500 naming it');
    is_deeply($per, { 'sipd/0' => $u6 ? 3 : 2 },
              '... with the line of sipd/0');
    ok($took < 10, sprintf('... after the relay\'s wait (%.1f s)', $took));
}

# --- a reload while the database is down ------------------------------------
{
    $pg->stop;
    my ($st) = reload($p);
    like($st, qr/^503 sipd\/\d: address table not loaded: /,
         'address_reload with the database down: 503 and why');
    forwarded($a, 'the table loaded before stays in use');
    answered($b, '... and still refuses', '403 Forbidden');
}
$p->stop;
unlike($p->log, qr/\Q${\ $pg->password }\E/, 'no DB password in the log');

done_testing();
