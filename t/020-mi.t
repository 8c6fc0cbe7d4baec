#!/usr/bin/perl
# The FIFO management interface: every command of DESIGN.md with its
# exact reply format (OpenSIPS 1.x: "CODE REASON\n" *("NAME:: VALUE\n")
# "\n"), errors (500 unknown, 400 bad arguments),
# and malformed requests that must not hurt mid.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;

my $p = Proxy->new(sipd => 1, children => 2, debug => 1);

# reply framing: the raw reply ends with exactly one empty line
sub framed
{
    my ($what) = @_;
    my $raw = $p->last_mi_raw // '';
    like($raw, qr/\A\d{3} [^\n]+\n(?:[^\n]+\n)*\n\z/,
         "$what: reply is CODE REASON, lines, one empty line")
        or diag("raw: " . Sip::show($raw));
}

sub mi_ok
{
    my ($what, @cmd) = @_;
    my ($code, $reason, $lines) = $p->mi(@cmd);
    is(($code // 'timeout') . " $reason", '200 OK', "$what: 200 OK");
    framed($what);
    return @$lines;
}

# --- uptime ------------------------------------------------------------
{
    my @l = mi_ok('uptime', 'uptime');
    is(scalar @l, 3, 'uptime: three lines');
    like($l[0] // '', qr/^Now:: \S.*$/, 'uptime: Now:: ...');
    like($l[1] // '', qr/^Up since:: \S.*$/, 'uptime: Up since:: ...');
    like($l[2] // '', qr/^Up time:: \d+ \[sec\]$/, 'uptime: Up time:: N [sec]');
    my ($t0) = ($l[2] // '') =~ /(\d+)/;
    sleep 1.2;
    my (undef, undef, $l2) = $p->mi('uptime');
    my ($t1) = (($l2->[2] // '') =~ /(\d+)/);
    cmp_ok($t1 // -1, '>=', ($t0 // 0) + 1, 'uptime: Up time advances');
    is($l2->[1], $l[1], 'uptime: Up since does not change');
}

# --- version, pwd, arg, which ------------------------------------------
{
    my @l = mi_ok('version', 'version');
    like($l[0] // '', qr/^Server:: sipstage\b\S*( .*)?$/, 'version: Server:: sipstage ...');

    @l = mi_ok('pwd', 'pwd');
    is_deeply(\@l, [ 'WD:: ' . $p->dir ], "pwd: WD:: mid's working dir");

    @l = mi_ok('arg', 'arg');
    is_deeply(\@l, [ map { ":: $_" } $p->argv ], 'arg: one ":: argv" line each');

    @l = mi_ok('which', 'which');
    is(scalar(grep { !/^:: [a-z_]+$/ } @l), 0, 'which: every line ":: name"')
        or diag(join("\n", @l));
    my %have = map { /^:: (\S+)$/ ? ($1 => 1) : () } @l;
    for my $c (qw(uptime version pwd arg which ps kill debug get_statistics
                  reset_statistics stage_restart)) {
        ok($have{$c}, "which lists $c");
    }
}

# --- ps ----------------------------------------------------------------
my %before;
{
    my @l = mi_ok('ps', 'ps');
    is(scalar @l, 4, 'ps: one line per process (mid, netd, sipd, dnsd)');
    for (@l) {
        like($_, qr/^Process:: ID=\d+ PID=\d+ Type=(?:mid|netd|sipd|dnsd) Instance=\d+ State=(?:starting|running|backoff|down|stopping) Restarts=\d+ Build=\S+$/,
             "ps line format: $_");
    }
    %before = map { $_->{Type} => $_->{PID} } $p->ps;
    is($before{mid}, $p->pid, 'ps: mid PID');
}

# --- unknown and not-implemented commands ------------------------------
{
    my ($code, $reason) = $p->mi('no_such_command');
    is(($code // 'timeout') . " $reason",
       "500 command 'no_such_command' not available",
       'unknown command: 500 command \'X\' not available');
    framed('unknown command');
    # every command of DESIGN.md is built: a real 200, never a 501
    my $reloaded;
    for my $c ([ 'reload' ], [ 'stage_scale', 'sipd', '1' ],
               [ 'dns_cache_dump' ], [ 'dns_cache_flush' ]) {
        my ($code, $reason) = $p->mi(@$c);
        $reloaded = 1 if $c->[0] eq 'reload' && ($code // '') eq '200';
        $code //= 'timeout';
        is($code, 200, "$c->[0]: 200") or diag("got $code $reason");
        framed($c->[0]);
        ok($p->alive, "$c->[0]: mid still running");
    }
    # a reload of the file mid runs restarts nothing (only the stages
    # that read a changed key restart: t/075-reload-scope.t)
    if ($reloaded) {
        sleep 0.5;
        my %now = map { $_->{Type} => $_->{PID} } $p->ps;
        is_deeply(\%now, \%before, 'reload of the same file: every pid kept')
            or %before = %now;
    }
}

# --- DB commands without a database: a clear 404, never 501 -------------
{
    for my $c ([ 'db_cache_flush', 'alias cache' ],
               [ 'address_reload', 'address table' ]) {
        my ($code, $reason, $lines) = $p->mi($c->[0]);
        is(($code // 'timeout') . " $reason",
           "404 no [db] url: no $c->[1] to " . ($c->[0] =~ /flush/
                                                   ? 'flush' : 'reload'),
           "$c->[0] without [db] url: 404 and why");
        is_deeply($lines, [], "$c->[0]: no lines");
        framed($c->[0]);
    }
}

# --- debug -------------------------------------------------------------
{
    my @l = mi_ok('debug (read)', 'debug');
    is_deeply(\@l, [ 'DEBUG:: 1' ], 'debug: reports the configured level');
    @l = mi_ok('debug 3', 'debug', '3');
    is_deeply(\@l, [ 'DEBUG:: 3' ], 'debug 3: DEBUG:: 3');
    @l = mi_ok('debug (read again)', 'debug');
    is_deeply(\@l, [ 'DEBUG:: 3' ], 'debug: new level visible');
    @l = mi_ok('debug -2', 'debug', '-2');
    is_deeply(\@l, [ 'DEBUG:: -2' ], 'debug -2: negative levels');
    for my $bad ('abc', '9', '-4', '2x') {
        my ($code) = $p->mi('debug', $bad);
        is($code, 400, "debug '$bad': 400");
    }
    @l = mi_ok('debug after bad', 'debug');
    is_deeply(\@l, [ 'DEBUG:: -2' ], 'debug: bad arguments change nothing');
}

# --- statistics --------------------------------------------------------
my @names = qw(core:rcv_requests core:rcv_replies core:fwd_requests
    core:fwd_replies core:drop_requests core:drop_replies core:err_requests
    core:err_replies core:bad_URIs_rcvd core:bad_msg_hdr core:sent_replies
    net:udp_rcv_datagrams net:udp_snd_datagrams net:udp_too_small
    net:ring_full_drops dns:queries);
{
    my @l = mi_ok('get_statistics all', 'get_statistics', 'all');
    is(scalar(grep { !/^[a-z]+:[^\s:]+:: \d+$/ } @l), 0,
       'get_statistics all: every line "group:name:: N"')
        or diag(join("\n", @l));
    my %s = map { /^(\S+):: (\d+)$/ ? ($1 => $2) : () } @l;
    ok(exists $s{$_}, "get_statistics all lists $_") for @names;

    @l = mi_ok('get_statistics core:', 'get_statistics', 'core:');
    is(scalar(grep { !/^core:[^\s:]+:: \d+$/ } @l), 0, 'get_statistics core: only core:');
    is(scalar @l, scalar(grep { /^core:/ } keys %s), 'get_statistics core: all of core');

    @l = mi_ok('get_statistics one', 'get_statistics', 'core:rcv_requests');
    is(scalar @l, 1, 'get_statistics NAME: one line');
    like($l[0] // '', qr/^core:rcv_requests:: \d+$/, 'get_statistics NAME: format');

    my ($code) = $p->mi('get_statistics');
    is($code, 400, 'get_statistics without argument: 400');
    ($code) = $p->mi('get_statistics', 'core:no_such_counter');
    ok(defined $code && $code >= 400, 'get_statistics unknown name: an error')
        or diag("got " . ($code // 'timeout'));
}

# traffic moves the counters; reset_statistics zeroes one counter only
{
    my $uac = $p->udp_socket;
    my $uas = $p->udp_socket;
    my ($U, $S, $P) = ($uac->port, $uas->port, $p->port);
    my $r0 = $p->stat('core:rcv_requests');
    my $n0 = $p->stat('net:udp_rcv_datagrams');
    for my $i (1 .. 3) {
        $uac->send(Sip::msg("OPTIONS sip:uas\@127.0.0.1:$S SIP/2.0", [
            "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-mi-$i;rport",
            'Max-Forwards: 70',
            "From: <sip:uac\@127.0.0.1:$U>;tag=mi$i",
            "To: <sip:uas\@127.0.0.1:$S>",
            "Call-ID: mi-stats-$i\@127.0.0.1",
            "CSeq: $i OPTIONS",
            'Content-Length: 0' ]), $P);
        ok(scalar $uas->recv(2), "OPTIONS $i forwarded");
    }
    is($p->wait_stat('core:rcv_requests', $r0 + 3), $r0 + 3,
       'core:rcv_requests counts 3 requests');
    cmp_ok($p->stat('net:udp_rcv_datagrams'), '>=', $n0 + 3,
           'net:udp_rcv_datagrams counts them');
    my $fwd = $p->stat('core:fwd_requests');
    cmp_ok($fwd, '>=', 3, 'core:fwd_requests counted');

    my @l = mi_ok('reset_statistics', 'reset_statistics', 'core:rcv_requests');
    is($p->stat('core:rcv_requests'), 0, 'reset_statistics: counter is 0');
    is($p->stat('core:fwd_requests'), $fwd, 'reset_statistics: others untouched');
    my ($code) = $p->mi('reset_statistics');
    is($code, 400, 'reset_statistics without argument: 400');
    ($code) = $p->mi('reset_statistics', 'core:no_such_counter');
    ok(defined $code && $code >= 400, 'reset_statistics unknown name: an error');

    $uac->send(Sip::msg("OPTIONS sip:uas\@127.0.0.1:$S SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-mi-4;rport",
        'Max-Forwards: 70', "From: <sip:uac\@127.0.0.1:$U>;tag=mi4",
        "To: <sip:uas\@127.0.0.1:$S>", "Call-ID: mi-stats-4\@127.0.0.1",
        'CSeq: 4 OPTIONS', 'Content-Length: 0' ]), $P);
    ok(scalar $uas->recv(2), 'OPTIONS after reset forwarded');
    is($p->wait_stat('core:rcv_requests', 1), 1, 'counting resumes from 0');
}

# --- stage_restart -----------------------------------------------------
{
    my @l = mi_ok('stage_restart dnsd', 'stage_restart', 'dnsd');
    my @ps = $p->wait_ps(sub {
        my ($d) = grep { $_->{Type} eq 'dnsd' } @_;
        $d && $d->{PID} != $before{dnsd} && $d->{State} eq 'running'
    }, 10);
    ok(@ps, 'stage_restart dnsd: dnsd runs again with a new pid')
        or diag(Proxy::ps_text($p->{last_ps}));
    my %now = map { $_->{Type} => $_->{PID} } $p->ps;
    is($now{sipd}, $before{sipd}, 'stage_restart dnsd: sipd untouched');
    is($now{netd}, $before{netd}, 'stage_restart dnsd: netd untouched');

    @l = mi_ok('stage_restart sipd/0', 'stage_restart', 'sipd/0');
    @ps = $p->wait_ps(sub {
        my ($d) = grep { $_->{Type} eq 'sipd' } @_;
        $d && $d->{PID} != $before{sipd} && $d->{State} eq 'running'
    }, 10);
    ok(@ps, 'stage_restart sipd/0: sipd runs again with a new pid')
        or diag(Proxy::ps_text($p->{last_ps}));

    my ($code, $reason) = $p->mi('stage_restart');
    is($code, 400, 'stage_restart without argument: 400');
    # an unknown name: 400, or 404 as OpenSIPS answers for names not found
    for my $bad ('nosuchd', 'sipd/7', 'mid', 'sipd/x') {
        ($code, $reason) = $p->mi('stage_restart', $bad);
        like($code // 'timeout', qr/^40[04]$/, "stage_restart $bad: 400/404")
            or diag("got " . ($code // 'timeout') . " " . ($reason // ''));
    }
    ok($p->alive, 'mid still running after the stage restarts');
}

# --- malformed requests do not hurt mid ---------------------------------
{
    my $dir = $p->dir;
    my @junk = (
        [ 'no reply fifo name', ":version\n\n" ],
        [ 'empty reply fifo name', ":version:\n\n" ],
        [ 'empty command', "::x_reply\n\n" ],
        [ 'no leading colon', "version:x_reply\n\n" ],
        [ 'just newlines', "\n\n\n" ],
        [ 'reply name with a slash', ":version:../escape_$$\n\n" ],
        [ 'reply fifo that does not exist', ":version:no_such_reply_fifo\n\n" ],
        [ 'binary', "\x00\xff\x01:\x02\n\n" ],
        [ 'huge argument', ":get_statistics:x_reply\n" . ('A' x 20000) . "\n\n" ],
    );
    for my $j (@junk) {
        $p->mi_raw($j->[1], undef, 2);
        sleep 0.1;
        ok($p->alive, "malformed MI request ($j->[0]): mid alive");
        my ($code) = $p->mi('version');
        is($code, 200, "malformed MI request ($j->[0]): next command answered");
    }
    ok(!-e "/tmp/escape_$$" && !-e Proxy::dirname($dir) . "/escape_$$",
       'a reply name with a slash does not escape the FIFO directory');

    # the reply FIFO is opened with O_NOFOLLOW: a symlink is not followed
    my $target = "$dir/not_a_fifo.txt";
    Proxy::spew($target, '');
    symlink($target, "$dir/evil_reply") or die "symlink: $!";
    $p->mi_raw(":version:evil_reply\n\n", undef, 2);
    sleep 0.3;
    is(-s $target, 0, 'reply name that is a symlink: not written through');
    # a reply name that is a plain file, not a FIFO
    Proxy::spew("$dir/plain_reply", '');
    $p->mi_raw(":version:plain_reply\n\n", undef, 2);
    sleep 0.3;
    is(-s "$dir/plain_reply", 0, 'reply name that is a regular file: not written');
    my ($code) = $p->mi('version');
    is($code, 200, 'mid still answers');
    unlink($target, "$dir/evil_reply", "$dir/plain_reply");
}

# --- kill: 200 OK, then mid stops and cleans up --------------------------
{
    my ($code, $reason) = $p->mi('kill');
    is(($code // 'timeout') . " $reason", '200 OK', 'kill: 200 OK');
    ok(defined $p->wait_exit(10), 'kill: mid exits within 10 s');
    $p->stop;                           # exit status 0 + teardown checks
}

done_testing();
