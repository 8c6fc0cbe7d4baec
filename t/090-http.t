#!/usr/bin/perl
# HTTP management ([mi] http_listen): GET /metrics in Prometheus' text
# format (exact lines of counters after traffic, TYPE lines, the process
# and ring series), POST /mi as JSON-RPC 2.0 (ps, get_statistics,
# uptime, an MI error code, unknown method -32601, malformed JSON -32700,
# errors about long non-ASCII names (a reason cut inside a character),
# a deferred dns_cache_dump answered by dnsd), 403 for a client outside
# [mi] http_allow (bound to 127.0.0.2), a body over 64 KiB refused (413,
# connection closed) with mid still answering on HTTP and the FIFO; and a
# real Prometheus scraping /metrics every second, whose query API must
# return sipstage_core_rcv_requests > 0 (skipped, saying why, when
# /usr/bin/prometheus is missing: scripts/deps installs it).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(setpgid _exit);
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;
use Tcp;
use Watchdog ();

my $H = Tcp::free_port();
my $p = Proxy->new(sipd => 1, children => 2, extra => { mi => [
    "http_listen = 127.0.0.1:$H", 'http_allow = 127.0.0.1/32',
    'http_allow = ::1/128' ], stages => [ 'hang_ms = 30000' ] });
my $base = "http://127.0.0.1:$H";
my $http = HTTP::Tiny->new(timeout => 10);
my $json = JSON::PP->new->canonical;

# rpc(METHOD [, PARAMS [, ID]]) - the decoded JSON-RPC response, or undef
sub rpc
{
    my ($method, $params, $id) = @_;
    my $req = { jsonrpc => '2.0', method => $method, id => $id // 1 };
    $req->{params} = $params if defined $params;
    my $r = $http->post("$base/mi", { content => $json->encode($req),
        headers => { 'Content-Type' => 'application/json' } });
    diag("POST /mi $method: $r->{status} $r->{content}")
        unless $r->{status} == 200;
    return eval { decode_json($r->{content}) };
}

sub metrics
{
    my $r = $http->get("$base/metrics");
    return ($r->{status}, $r->{content}, $r->{headers}{'content-type'});
}

# --- traffic, then /metrics -------------------------------------------
my $uac = $p->udp_socket;
my $uas = $p->udp_socket;
my ($U, $S) = ($uac->port, $uas->port);
my $N = 5;
for my $i (1 .. $N) {
    $uac->send(Sip::options("sip:bob\@127.0.0.1:$S", $U, "http-$i"),
               $p->port);
    my ($m) = $uas->recv(2);
    ok(defined $m && $m =~ /^OPTIONS /, "OPTIONS $i forwarded");
}
is($p->wait_stat('core:fwd_requests', $N, 5), $N, "fwd_requests = $N");
is($p->stat('core:rcv_requests'), $N, "rcv_requests = $N");
{
    my ($st, $body, $type) = metrics();
    is($st, 200, 'GET /metrics: 200');
    like($type // '', qr{^text/plain; version=0\.0\.4}, 'content type 0.0.4');
    like($body, qr/^sipstage_core_rcv_requests $N$/m,
         "exact line: sipstage_core_rcv_requests $N");
    like($body, qr/^sipstage_core_fwd_requests $N$/m,
         "exact line: sipstage_core_fwd_requests $N");
    like($body, qr/^# TYPE sipstage_core_rcv_requests counter$/m,
         'rcv_requests is a counter');
    like($body, qr/^# TYPE sipstage_tcp_connections_open gauge$/m,
         'tcp connections_open is a gauge');
    like($body, qr/^# TYPE sipstage_dns_blacklist_size gauge$/m,
         'dns blacklist_size is a gauge');
    like($body, qr/^sipstage_process_restarts\{stage="sipd",instance="0"\} 0$/m,
         'process restarts of sipd/0');
    like($body, qr/^sipstage_process_state\{stage="netd",instance="0",state="running"\} 1$/m,
         'process state of netd/0: running');
    like($body, qr/^sipstage_process_rss_bytes\{stage="mid",instance="0"\} [1-9]\d*$/m,
         'RSS of mid');
    like($body, qr/^sipstage_process_cpu_seconds\{stage="dnsd",instance="0"\} [\d.e+-]+$/m,
         'CPU seconds of dnsd');
    like($body, qr/^sipstage_ring_backlog\{ring="netd>sipd\.0\.0"\} \d+$/m,
         'ring backlog gauge');
    my %type;
    my $bad = 0;
    for (split /\n/, $body) {
        $type{$1} = $2 if /^# TYPE (\S+) (counter|gauge)$/;
        next if /^#/;
        $bad++ unless /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? -?[\d.e+]+$/
                      && $type{$1};
    }
    is($bad, 0, 'every sample is well formed and has a TYPE');
    my $all = $p->stats('all');
    my $missing = grep {
        (my $n = "sipstage_$_") =~ s/:/_/;
        $_ !~ /^ring:.*_backlog$/ && $body !~ /^\Q$n\E \d+$/m
    } keys %$all;
    is($missing, 0, 'every statistic of get_statistics all is exposed');
}

# --- JSON-RPC ----------------------------------------------------------
{
    my $r = rpc('ps', undef, 7);
    is($r->{jsonrpc}, '2.0', 'ps: jsonrpc 2.0');
    is($r->{id}, 7, 'ps: id echoed');
    my $procs = $r->{result}{Process};
    is(ref $procs, 'ARRAY', 'ps: Process lines are an array');
    my %types = map { ($_->{Type} => $_) } @{ $procs || [] };
    is_deeply([ sort keys %types ], [qw(dnsd mid netd sipd)],
              'ps: mid netd sipd dnsd');
    is($types{netd}{State}, 'running', 'ps: netd State running');
    like($types{sipd}{PID} // '', qr/^[1-9]\d*$/, 'ps: PID is a number');

    $r = rpc('get_statistics', ['core:rcv_requests', 'core:fwd_requests']);
    is_deeply($r->{result}, { 'core:rcv_requests' => $N,
                              'core:fwd_requests' => $N },
              'get_statistics: array params, numbers');
    $r = rpc('get_statistics', { statistics => ['core:'] }, 'x');
    is($r->{result}{'core:rcv_requests'}, $N,
       'get_statistics: OpenSIPS-style named params');
    is($r->{id}, 'x', 'string id echoed');

    $r = rpc('uptime');
    like($r->{result}{'Up time'} // '', qr/^\d+ \[sec\]$/, 'uptime: Up time');
    ok(defined $r->{result}{Now}, 'uptime: Now');

    $r = rpc('get_statistics', ['nosuch:counter']);
    is($r->{error}{code}, 404, 'MI error: code 404');
    like($r->{error}{message} // '', qr/not found/, 'MI error: message');
    ok(!exists $r->{result}, 'MI error: no result');

    $r = rpc('stage_restart', []);
    is($r->{error}{code}, 400, 'wrong argument count: 400');

    $r = rpc('no_such_command');
    is($r->{error}{code}, -32601, 'unknown method: -32601');

    # Long names that are not ASCII: a reason cut by "%.64s" inside a
    # character once made jansson refuse the error, and HTTP 500 came
    # back; the cut byte now goes out as "?".
    my $e = "\xc3\xa9" x 40;          # bytes: U+00E9 40 times, UTF-8
    for my $t (['get_statistics', "\"params\":[\"x$e\"],", 404,
                qr/^Statistics x\x{e9}{31}\? not found$/],
               ["no_such_$e", '', -32601, qr/^Method not found$/]) {
        my ($meth, $params, $code, $msg) = @$t;
        my $res = $http->post("$base/mi", { content => '{"jsonrpc":"2.0",'
            . "\"method\":\"$meth\",$params\"id\":11}",
            headers => { 'Content-Type' => 'application/json' } });
        my $name = substr($meth, 0, 14) . ', long non-ASCII name';
        is($res->{status}, 200, "$name: HTTP 200");
        my $j = eval { decode_json($res->{content}) } // {};
        is($j->{error}{code}, $code, "$name: JSON-RPC error $code");
        like($j->{error}{message} // '', $msg, "$name: message");
    }

    $r = rpc('dns_cache_dump', undef, 42);
    is($r->{id}, 42, 'dns_cache_dump (deferred to dnsd): id');
    like($r->{result}{Entries} // '', qr/^\d+$/,
         'dns_cache_dump: dnsd answered (Entries)');
    $r = rpc('dns_blacklist_dump', []);
    like($r->{result}{Entries} // '', qr/^\d+$/, 'dns_blacklist_dump: Entries');

    # dnsd frozen: the deferred call ends with the relay's error, and
    # HTTP serves others meanwhile (the waiting connection is suspended)
    my ($dnsd) = map { $_->{PID} } grep { $_->{Type} eq 'dnsd' } $p->ps;
    kill('STOP', $dnsd);
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        Watchdog::in_child();           # the test's death must show
        my $x = rpc('dns_cache_dump', undef, 'frozen');
        _exit(($x->{error}{code} // 0) == 500
              && ($x->{error}{message} // '') =~ /dnsd did not answer/
              && $x->{id} eq 'frozen' ? 0 : 1);
    }
    my $w = Watchdog::arm(pid => $pid, what => 'dns_cache_dump client');
    sleep 0.5;
    my $t0 = time;
    $r = rpc('uptime');
    ok(defined $r->{result} && time - $t0 < 2,
       'another call is served while one waits on dnsd');
    waitpid($pid, 0);
    Watchdog::disarm($w);
    is($? >> 8, 0, 'dnsd silent: the waiting call gets 500 dnsd did not answer');
    kill('CONT', $dnsd);

    $r = rpc('which');
    ok(ref $r->{result} eq 'ARRAY' && grep({ $_ eq 'ps' } @{ $r->{result} }),
       'which: an array of command names');
}

# --- malformed, refused, oversized ------------------------------------
my $chunks = 0;
sub state_chunk { return $chunks++ < 20 ? ('x' x 8192) : undef }

{
    my $r = $http->post("$base/mi", { content => '{"jsonrpc":"2.0",' });
    my $d = eval { decode_json($r->{content}) } || {};
    is($d->{error}{code}, -32700, 'malformed JSON: -32700');
    ok(exists $d->{id} && !defined $d->{id}, 'malformed JSON: id null');

    $r = $http->post("$base/mi", { content => '[1,2]' });
    $d = eval { decode_json($r->{content}) } || {};
    is($d->{error}{code}, -32600, 'a batch: -32600');

    my $far = HTTP::Tiny->new(timeout => 10, local_address => '127.0.0.2');
    $r = $far->get("$base/metrics");
    is($r->{status}, 403, 'client 127.0.0.2 outside http_allow: 403');
    $r = $far->post("$base/mi", { content => '{"jsonrpc":"2.0","method":"kill","id":1}' });
    is($r->{status}, 403, 'client outside http_allow cannot POST /mi');

    is($http->get("$base/nope")->{status}, 404, 'unknown path: 404');
    is($http->get("$base/mi")->{status}, 405, 'GET /mi: 405');

    # Content-Length over the bound: 413 before the body is read
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$H", Timeout => 5);
    print $s "POST /mi HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
        . "Content-Type: application/json\r\n\r\n";
    my $got = '';
    my $t0 = time;
    while (time - $t0 < 5) {
        my $n = sysread($s, my $buf, 4096);
        last unless $n;
        $got .= $buf;
    }
    like($got, qr{^HTTP/1\.1 413 }, 'announced huge body: 413');
    like($got, qr/"code":-32600/, 'announced huge body: JSON-RPC error');
    like($got, qr/^Connection: close\r$/mi, 'announced huge body: closed');

    # a chunked body that grows past 64 KiB: read, not kept, then 413
    $r = $http->post("$base/mi", { content => sub { state_chunk() } });
    is($r->{status}, 413, 'chunked body over 64 KiB: 413');
    $d = eval { decode_json($r->{content}) } || {};
    is($d->{error}{code}, -32600, 'chunked body over 64 KiB: JSON-RPC error');

    $r = rpc('version');
    like($r->{result}{Server} // '', qr/^sipstage /, 'HTTP still answers');
    my ($code) = $p->mi('uptime');
    is($code, 200, 'the FIFO MI still answers');
}

# --- a real Prometheus ------------------------------------------------
SKIP: {
    my $prom = '/usr/bin/prometheus';
    skip 'prometheus not installed (scripts/deps installs Debian prometheus)', 2
        unless -x $prom;
    my $tmp = tempdir('sipstage-prom-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    Watchdog::dir($tmp);
    my $pp = Tcp::free_port();
    open(my $fh, '>', "$tmp/prometheus.yml") or die "$tmp: $!";
    print $fh "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        . "scrape_configs:\n  - job_name: sipstage\n    static_configs:\n"
        . "      - targets: ['127.0.0.1:$H']\n";
    close($fh);
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        setpgid(0, 0);
        open(STDOUT, '>', "$tmp/prometheus.log");
        open(STDERR, '>&', \*STDOUT);
        exec($prom, "--config.file=$tmp/prometheus.yml",
             "--storage.tsdb.path=$tmp/data",
             "--web.listen-address=127.0.0.1:$pp") or _exit(127);
    }
    setpgid($pid, $pid);                # whichever of us runs first
    my $w = Watchdog::arm(pgrp => $pid, what => "prometheus $pp");
    my ($v, $last) = (undef, '');
    my $deadline = time + 20;
    while (time < $deadline) {
        my $r = $http->get("http://127.0.0.1:$pp/api/v1/query"
                           . "?query=sipstage_core_rcv_requests");
        $last = "$r->{status} $r->{content}";
        my $d = $r->{status} == 200 ? eval { decode_json($r->{content}) } : undef;
        my $res = $d && $d->{data}{result};
        if ($res && @$res) {
            $v = $res->[0]{value}[1];
            last;
        }
        sleep 0.5;
    }
    kill('TERM', -$pid);
    waitpid($pid, 0);
    Watchdog::disarm($w);
    ok(defined $v && $v > 0,
       'Prometheus scraped /metrics: sipstage_core_rcv_requests > 0')
        or diag("last answer: $last\n" . (Proxy::slurp("$tmp/prometheus.log") // ''));
    is($v, $N, "Prometheus has the value mid exposes ($N)");
}

$p->stop;
done_testing;
