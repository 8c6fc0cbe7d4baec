#!/usr/bin/perl
# Config reload (MI reload and SIGHUP): a valid new file is taken and the
# stages that read a changed key restart one at a time on it, with no
# request lost meanwhile (t/075-reload-scope.t: which stages); an
# invalid one is refused with FILE:LINE and changes nothing; a change
# that only a full restart can apply (a listen line) is refused by name.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;

my $p = Proxy->new(sipd => 1, children => 2, record_route => 0, debug => 2);
my $P = $p->port;
my $uac = $p->udp_socket;
my $uas = $p->udp_socket;
my ($U, $S) = ($uac->port, $uas->port);
my $base = $p->config_text;
my $seq = 0;

sub options
{
    my $n = ++$seq;
    return Sip::options("sip:bob\@127.0.0.1:$S", $U, "rl-$n");
}

# one_rr() - send one request; 1/0: the forwarded copy has our
# Record-Route; undef when nothing arrived
sub one_rr
{
    $uac->send(options(), $P);
    my ($m) = $uas->recv(3);
    return undef unless defined $m;
    return $m =~ /\r\nRecord-Route: <sip:127\.0\.0\.1:$P;lr>\r\n/ ? 1 : 0;
}

sub write_cfg { Proxy::spew($p->cfg, $_[0]) }

sub restarts { my %r = map { ("$_->{Type}/$_->{Instance}" => $_->{Restarts}) }
                   $p->ps; \%r }

# all_back(N) - every stage restarted N times and running again
sub all_back
{
    my ($n) = @_;
    return $p->wait_ps(sub {
        my @st = grep { $_->{Type} ne 'mid' } @_;
        @st == 3 && !grep { $_->{Restarts} != $n || $_->{State} ne 'running' }
            @st }, 15);
}

is(one_rr(), 0, 'before: no Record-Route');

# -- a valid change, while traffic flows: a key each stage reads (and
# [log] debug, which mid makes live without a restart)
write_cfg(($base =~ s/record_route = 0/record_route = 1/r
                 =~ s/debug = 2/debug = 3/r)
          . "[dns]\nblacklist_s = 30\n[net]\ntcp_lifetime = 60\n");
$uac->send(options(), $P) for 1 .. 50;
my ($code, $reason, $lines) = $p->mi('reload');
is($code, 200, 'reload: 200') or diag("$code $reason");
is_deeply($lines, ['Reload:: 3 stages restart one at a time',
                   'Stages:: dnsd sipd/0 netd',
                   'Changed:: [log] debug, [net] tcp_lifetime, '
                   . '[dns] blacklist_s, [route] record_route'],
          'reload: says which stages restart one at a time, and why');
$uac->send(options(), $P) for 1 .. 50;
ok(all_back(1), 'dnsd, sipd/0 and netd each restarted once and running')
    or diag(Proxy::ps_text($p->{last_ps}));
my ($got, $deadline) = (0, time + 5);
while ($got < 100 && time < $deadline) {
    my ($m) = $uas->recv(0.3);
    $got++ if defined $m;
}
is($got, 100, 'all 100 requests sent around the reload were forwarded');
is(one_rr(), 1, 'after: Record-Route added');
my (undef, undef, $dbg) = $p->mi('debug');
is_deeply($dbg, ['DEBUG:: 3'], 'the new [log] debug is live');

# -- an invalid file: refused, nothing changes
my $bad = $p->config_text =~ s/record_route = 0/record_route = 1/r;
$bad .= "[route]\nbogus = 1\n";
write_cfg($bad);
my $badline = () = $bad =~ /\n/g;
my $r0 = restarts();
($code, $reason) = $p->mi('reload');
is($code, 400, 'invalid config: 400') or diag("$code $reason");
like($reason, qr/:\Q$badline\E: \[route\] bogus: unknown key$/,
     'invalid config: FILE:LINE: [section] key: reason');
sleep 0.5;
is_deeply(restarts(), $r0, 'invalid config: nothing restarted');
is(one_rr(), 1, 'invalid config: the running config stays');

# -- a listen change: needs a full restart
my ($P2) = Proxy::free_ports(1);
write_cfg($p->config_text =~ s/record_route = 0/record_route = 1/r
          . "[net]\nlisten = udp:127.0.0.1:$P2\n");
($code, $reason) = $p->mi('reload');
is($code, 409, 'listen change: 409');
is($reason, '[net] listen changed: needs a full restart',
   'listen change: names the setting');
is_deeply(restarts(), $r0, 'listen change: nothing restarted');

# -- two such changes: both named, in the key table's order
write_cfg(($p->config_text =~ s/fifo_mode = 0600/fifo_mode = 0660/r)
          . "[net]\nlisten = udp:127.0.0.1:$P2\n");
($code, $reason) = $p->mi('reload');
is($code, 409, 'two fixed changes: 409');
is($reason, '[net] listen, [mi] fifo_mode changed: needs a full restart',
   'two fixed changes: names both');
is_deeply(restarts(), $r0, 'two fixed changes: nothing restarted');

# -- SIGHUP does the same as MI reload
write_cfg($base);                       # record_route = 0 again
kill('HUP', $p->pid);
ok(all_back(2), 'SIGHUP: every stage restarted again')
    or diag(Proxy::ps_text($p->{last_ps}));
is(one_rr(), 0, 'SIGHUP: Record-Route off again');
like($p->log, qr/reload: config .* accepted; restarting 3 stages/,
     'SIGHUP: the reload is logged');

$p->stop;

# -- a sipd count set with stage_scale survives a reload of a file whose
# [stages] sipd did not change; a changed [stages] sipd wins
{
    my $q = Proxy->new(sipd => 1, children => 2);
    my $qbase = $q->config_text;
    my $nsipd = sub { scalar grep { $_->{Type} eq 'sipd' } @_ };
    my $settled = sub {
        my ($n) = @_;
        return $q->wait_ps(sub { $nsipd->(@_) == $n
            && !grep { $_->{State} ne 'running' } @_ }, 15);
    };
    my ($c, $why) = $q->mi('stage_scale', 'sipd', '3');
    is($c, 200, 'scale: stage_scale sipd 3') or diag("$c $why");
    ok($settled->(3), 'scale: three sipd running')
        or diag(Proxy::ps_text($q->{last_ps}));
    Proxy::spew($q->cfg, $qbase . "[route]\nrecord_route = 1\n");
    ($c, $why) = $q->mi('reload');
    is($c, 200, 'scale: reload of an unchanged [stages] sipd') or diag($why);
    ok($settled->(3), 'scale: still three sipd after the reload')
        or diag(Proxy::ps_text($q->{last_ps}));
    kill('HUP', $q->pid);
    sleep 1;
    ok($settled->(3), 'scale: still three sipd after SIGHUP')
        or diag(Proxy::ps_text($q->{last_ps}));
    Proxy::spew($q->cfg, $qbase =~ s/^sipd = 1$/sipd = 2/mr);
    my $until = time + 15;
    ($c, $why) = $q->mi('reload');
    while (defined $c && $c == 409 && $why =~ /in progress/ && time < $until) {
        sleep 0.2;
        ($c, $why) = $q->mi('reload');
    }
    is($c, 200, 'scale: reload with [stages] sipd = 2') or diag($why);
    ok($settled->(2), 'scale: the file\'s new count wins: two sipd')
        or diag(Proxy::ps_text($q->{last_ps}));
    $q->stop;
}

done_testing();
