#!/usr/bin/perl
# Reload restarts only the stages that read a changed key (the key
# table's stages column, common/cfg_keys.c): a [dns]-only change restarts
# dnsd alone, and a TCP connection through the proxy carries requests and
# responses before and after it on the same socket; an unchanged file and
# keys only mid reads restart nothing; a [route] key restarts every sipd
# and not netd; a [dns] wait that sipd reads too restarts dnsd and each
# sipd, in that order; a [net] key restarts netd, which closes TCP
# connections (what the other cases avoid); a [tls] file renewed under
# the same path restarts netd, an untouched one does not. Each case
# checks the MI reply's Reload::, Stages:: and Changed:: lines and the
# pids in ps.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use Watchdog;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;
use Tcp;
use Tls;

my $p = Proxy->new(sipd => 2, children => 2, tcp => 1, debug => 2);
my $P = $p->port;
my $uas = $p->udp_socket;
my $S = $uas->port;
my $base = $p->config_text;
my $seq = 0;

# rows() - {"sipd/1" => {PID, Restarts, State}, ...} of the stages
sub rows
{
    return { map { ("$_->{Type}/$_->{Instance}" => $_) }
             grep { $_->{Type} ne 'mid' } $p->ps };
}

sub pids { my $r = rows(); return { map { ($_ => $r->{$_}{PID}) } keys %$r } }

# settled(\%OLD, NAMES...) - wait until each named stage runs with a pid
# other than in OLD and every stage is running; the new pids, or undef
sub settled
{
    my ($old, @names) = @_;
    my $ok = $p->wait_ps(sub {
        my %r = map { ("$_->{Type}/$_->{Instance}" => $_) } @_;
        return 0 if grep { $_->{State} ne 'running' } @_;
        return !grep { !$r{$_} || $r{$_}{PID} == $old->{$_} } @names;
    }, 20);
    return $ok ? pids() : undef;
}

# reload(TEXT) - write the file and MI reload it (again while a rolling
# restart still runs: 409 in progress); (code, reason, [lines])
sub reload
{
    my ($text) = @_;
    Proxy::spew($p->cfg, $text);
    my $until = time + 20;
    my ($code, $reason, $lines);
    while (time < $until) {
        ($code, $reason, $lines) = $p->mi('reload');
        last unless defined $code && $code == 409 && $reason =~ /in progress/;
        sleep 0.2;
    }
    return ($code, $reason, $lines // []);
}

sub req
{
    my ($c) = @_;
    my $n = ++$seq;
    my $cport = $c->fh->sockport;
    return Sip::msg("OPTIONS sip:bob\@127.0.0.1:$S SIP/2.0", [
        "Via: SIP/2.0/TCP 127.0.0.1:$cport;branch=z9hG4bKrs$n",
        'Max-Forwards: 70',
        'To: <sip:bob@example.com>',
        "From: <sip:alice\@example.com>;tag=a$n",
        "Call-ID: rs-$n-$$\@test",
        "CSeq: $n OPTIONS",
        'Content-Length: 0' ]);
}

sub reply_to
{
    my ($bytes) = @_;
    my $q = Sip::parse($bytes);
    my @h = grep { Sip::name_of($_) =~ /^(?:via|v|from|f|to|t|call-id|i|cseq)$/ }
        @{ $q->{headers} };
    return Sip::msg('SIP/2.0 200 OK', [ @h, 'Content-Length: 0' ]);
}

# round(C) - one OPTIONS over the TCP connection C, relayed to the UDP
# UAS, and its 200 back on C. Returns the forwarded request, or undef
# (with a diag) when either leg did not arrive.
sub round
{
    my ($c) = @_;
    my $id = "rs-" . ($seq + 1) . "-$$\@test";
    $c->send(req($c)) or return undef;
    my ($fwd, $until) = (undef, time + 5);
    while (time < $until) {
        my ($m) = $uas->recv(0.5);
        next unless defined $m;
        if (index($m, "\r\nCall-ID: $id\r\n") >= 0) { $fwd = $m; last }
    }
    unless ($fwd) { diag("$id: not forwarded"); return undef }
    $uas->send(reply_to($fwd), $P);
    my $back = $c->recv_msg(5);
    unless ($back && $back =~ /\ASIP\/2\.0 200 OK\r\n/
            && index($back, "\r\nCall-ID: $id\r\n") >= 0) {
        diag("$id: no 200 back on the connection");
        return undef;
    }
    return $fwd;
}

my $c = Tcp->connect($P) or BAIL_OUT('no TCP connection to the proxy');
ok(round($c), 'before: a request over TCP relayed, its 200 back');
my $p0 = pids();
is(scalar keys %$p0, 4, 'netd, dnsd, sipd/0 and sipd/1 run');

# -- a dnsd-only key: dnsd restarts, nothing else; the TCP socket lives
my $cfg1 = $base . "[dns]\nblacklist_s = 30\n";
my ($code, $reason, $lines) = reload($cfg1);
is($code, 200, 'dns key: reload 200') or diag($reason);
is_deeply($lines, [ 'Reload:: 1 stages restart one at a time',
                    'Stages:: dnsd', 'Changed:: [dns] blacklist_s' ],
          'dns key: restarts dnsd only, says which key changed');
my $p1 = settled($p0, 'dnsd/0');
ok($p1, 'dns key: dnsd restarted and running')
    or diag(Proxy::ps_text($p->{last_ps}));
$p1 //= pids();
is_deeply([ map { $p1->{$_} } qw(netd/0 sipd/0 sipd/1) ],
          [ map { $p0->{$_} } qw(netd/0 sipd/0 sipd/1) ],
          'dns key: netd, sipd/0 and sipd/1 keep their pids');
ok(round($c), 'dns key: the same TCP connection relays both ways after it');
like($p->log, qr/reload: config .* accepted; restarting 1 stages one at a time: dnsd \(changed \[dns\] blacklist_s\)/,
     'dns key: the log says what restarts and why');

# -- an unchanged file: nothing restarts
my $r1 = rows();
($code, $reason, $lines) = reload($cfg1);
is($code, 200, 'unchanged: reload 200') or diag($reason);
is_deeply($lines, [ 'Reload:: 0 stages restart one at a time',
                    'Stages:: none', 'Changed:: none' ],
          'unchanged: says no stage restarts');
sleep 1;
my $r2 = rows();
is_deeply({ map { ($_ => "$r2->{$_}{PID}/$r2->{$_}{Restarts}") } keys %$r2 },
          { map { ($_ => "$r1->{$_}{PID}/$r1->{$_}{Restarts}") } keys %$r1 },
          'unchanged: every pid and restart count as before');
like($p->log, qr/reload: config .* accepted, nothing changed: no stage restarts/,
     'unchanged: logged');

# -- keys only mid reads: taken, nothing restarts
my $cfg2 = $cfg1 . "[stages]\nhang_ms = 6000\n[mi]\nhttp_allow = 127.0.0.0/8\n";
($code, $reason, $lines) = reload($cfg2);
is($code, 200, 'mid keys: reload 200') or diag($reason);
is_deeply($lines, [ 'Reload:: 0 stages restart one at a time', 'Stages:: none',
                    'Changed:: [stages] hang_ms, [mi] http_allow' ],
          'mid keys: no stage restarts, both keys named');
sleep 1;
is_deeply(pids(), $p1, 'mid keys: every pid as before');

# -- a sipd key: every sipd restarts, netd and dnsd do not
my $cfg3 = $cfg2 . "[route]\nrecord_route = 1\n";
($code, $reason, $lines) = reload($cfg3);
is($code, 200, 'route key: reload 200') or diag($reason);
is_deeply($lines, [ 'Reload:: 2 stages restart one at a time',
                    'Stages:: sipd/0 sipd/1',
                    'Changed:: [route] record_route' ],
          'route key: restarts each sipd');
my $p3 = settled($p1, 'sipd/0', 'sipd/1');
ok($p3, 'route key: sipd/0 and sipd/1 restarted and running')
    or diag(Proxy::ps_text($p->{last_ps}));
$p3 //= pids();
is_deeply([ map { $p3->{$_} } qw(netd/0 dnsd/0) ],
          [ map { $p1->{$_} } qw(netd/0 dnsd/0) ],
          'route key: netd and dnsd keep their pids');
my $fwd = round($c);
ok($fwd, 'route key: the same TCP connection still relays both ways');
like($fwd // '', qr/\r\nRecord-Route: <sip:127\.0\.0\.1:$P\b[^>]*;lr>\r\n/,
     'route key: the restarted sipd use the new [route] record_route');

# -- a [dns] wait that sipd reads too: dnsd, then each sipd
my $cfg4 = $cfg3 . "[dns]\ntimeout_ms = 1500\n";
($code, $reason, $lines) = reload($cfg4);
is($code, 200, 'dns timeout: reload 200') or diag($reason);
is_deeply($lines, [ 'Reload:: 3 stages restart one at a time',
                    'Stages:: dnsd sipd/0 sipd/1',
                    'Changed:: [dns] timeout_ms' ],
          'dns timeout: dnsd and each sipd, in the rolling order');
my $p4 = settled($p3, 'dnsd/0', 'sipd/0', 'sipd/1');
ok($p4, 'dns timeout: the three restarted')
    or diag(Proxy::ps_text($p->{last_ps}));
is(($p4 // pids())->{'netd/0'}, $p0->{'netd/0'},
   'dns timeout: netd still the first one');
ok(round($c), 'dns timeout: the same TCP connection still relays');

# -- a netd key: netd restarts (and closes TCP connections), no other
my $cfg5 = $cfg4 . "[net]\ntcp_lifetime = 60\n";
($code, $reason, $lines) = reload($cfg5);
is($code, 200, 'net key: reload 200') or diag($reason);
is_deeply($lines, [ 'Reload:: 1 stages restart one at a time',
                    'Stages:: netd', 'Changed:: [net] tcp_lifetime' ],
          'net key: restarts netd only');
my $p5 = settled($p4 // pids(), 'netd/0');
ok($p5, 'net key: netd restarted and running')
    or diag(Proxy::ps_text($p->{last_ps}));
$p5 //= pids();
is_deeply([ map { $p5->{$_} } qw(dnsd/0 sipd/0 sipd/1) ],
          [ map { ($p4 // {})->{$_} } qw(dnsd/0 sipd/0 sipd/1) ],
          'net key: dnsd and both sipd keep their pids');
ok($c->closed(5), 'net key: the old netd\'s TCP connection is closed');
my $c2 = Tcp->connect($P);
ok($c2 && round($c2), 'net key: a new TCP connection relays both ways');

$c->close;
$c2->close if $c2;
$p->stop;

# -- a file the config names: a renewed certificate under the same path
# restarts netd (as certbot's "systemctl reload" expects); an untouched
# one does not
{
    my $dir = tempdir('sipstage-rls-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    Watchdog::dir($dir);                 # removed if the test dies
    my $pki = Tls::pki($dir);
    my $T = Tcp::free_port();
    my $q = Proxy->new(sipd => 1, children => 2,
        extra => { net => [ "listen = tls:127.0.0.1:$T" ],
                   tls => [ "certificate = $pki->{server}",
                            "private_key = $pki->{server_key}",
                            "ca_list = $pki->{ca}" ] });
    my $text = $q->config_text;
    my $qpids = sub { return { map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) }
                               grep { $_->{Type} ne 'mid' } $q->ps } };
    my $q0 = $qpids->();
    Proxy::spew($q->cfg, $text);
    my ($qc, $qr, $ql) = $q->mi('reload');
    is_deeply([ $qc, @{ $ql // [] } ],
              [ 200, 'Reload:: 0 stages restart one at a time',
                'Stages:: none', 'Changed:: none' ],
              'tls files untouched: nothing restarts') or diag($qr);
    # renewed the way installers do it: a new file renamed over the old
    copy($pki->{server}, "$pki->{server}.new") or die "copy: $!";
    rename("$pki->{server}.new", $pki->{server}) or die "rename: $!";
    ($qc, $qr, $ql) = $q->mi('reload');
    is_deeply([ $qc, @{ $ql // [] } ],
              [ 200, 'Reload:: 1 stages restart one at a time',
                'Stages:: netd', 'Changed:: [tls] certificate file' ],
              'renewed certificate, same path: netd restarts') or diag($qr);
    my $ok = $q->wait_ps(sub {
        my ($n) = grep { $_->{Type} eq 'netd' } @_;
        !grep({ $_->{State} ne 'running' } @_)
            && $n->{PID} != $q0->{'netd/0'} }, 20);
    ok($ok, 'renewed certificate: netd restarted and running')
        or diag(Proxy::ps_text($q->{last_ps}));
    my $q1 = $qpids->();
    is_deeply([ @$q1{qw(dnsd/0 sipd/0)} ], [ @$q0{qw(dnsd/0 sipd/0)} ],
              'renewed certificate: dnsd and sipd keep their pids');
    my $tc = Tls->client($T, ca => $pki->{ca}, name => 'sip.test');
    like($tc->{tls} // '', qr/^ok /, 'renewed certificate: the new netd '
         . 'completes a TLS handshake');
    $tc->stop;
    # rewritten in place: same inode, another mtime
    my $t = time + 100;
    utime($t, $t, $pki->{server_key}) or die "utime: $!";
    ($qc, $qr, $ql) = $q->mi('reload');
    is_deeply([ $qc, @{ $ql // [] } ],
              [ 200, 'Reload:: 1 stages restart one at a time',
                'Stages:: netd', 'Changed:: [tls] private_key file' ],
              'key rewritten in place: netd restarts') or diag($qr);
    ok($q->wait_ps(sub { my ($n) = grep { $_->{Type} eq 'netd' } @_;
                         !grep({ $_->{State} ne 'running' } @_)
                         && $n->{PID} != $q1->{'netd/0'} }, 20),
       'key rewritten: netd restarted and running')
        or diag(Proxy::ps_text($q->{last_ps}));
    ($qc, $qr, $ql) = $q->mi('reload');
    is_deeply([ $qc, @{ $ql // [] } ],
              [ 200, 'Reload:: 0 stages restart one at a time',
                'Stages:: none', 'Changed:: none' ],
              'after that: the same files restart nothing') or diag($qr);
    $q->stop;
}
done_testing();
