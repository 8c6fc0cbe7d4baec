#!/usr/bin/perl
# sipp over TCP through the proxy (issue 4): a sipp UAC over TCP (-t t1:
# one connection for every call; -t tn: a connection per call) to the
# proxy's tcp listen address, relayed to a sipp UAS over UDP (the
# Request-URI names no transport); responses go back on the UAC's
# connection. 1000 calls each, zero failed, zero unexpected.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Tcp;
use Proxy;

-x '/usr/bin/sipp' || `which sipp 2>/dev/null`
    or plan(skip_all => 'sipp not installed (scripts/deps installs sip-tester)');

my $CALLS = 1000;
my $RATE = 200;

for my $mode (qw(t1 tn)) {
    # every call's connection comes from 127.0.0.1, and a sipp starved
    # by a loaded machine closes them late: the per-IP limit (64, tested
    # in t/450) is not what this test is about
    my $p = Proxy->new(sipd => 1, children => 4, tcp => 1,
                       extra => { net => [
                           'tcp_max_connections_per_ip = 4096' ] });
    my $P = $p->port;
    my $uas = $p->sipp_uas;
    ok($uas->{ready}, "$mode: sipp uas listening on $uas->{port}");
    my $r = $p->sipp(sn => 'uac', remote => "127.0.0.1:$uas->{port}",
                     port => Tcp::free_port(),
                     rsa => "127.0.0.1:$P", m => $CALLS, r => $RATE,
                     timeout => 60,
                     args => [ '-t', $mode, '-max_socket', 2000 ]);
    my $ok = is($r->{rc}, 0, "$mode: sipp uac exit code 0");
    $ok &= is($r->{successful}, $CALLS, "$mode: $CALLS successful calls");
    $ok &= is($r->{failed}, 0, "$mode: zero failed calls");
    $ok &= is($r->{unexpected} // 0, 0, "$mode: zero unexpected messages");
    Proxy::sipp_diag($r) unless $ok;
    $p->sipp_wait_calls($uas, $CALLS, 10);
    my $u = $p->sipp_stop($uas);
    is($u->{failed} // 0, 0, "$mode: zero failed calls (uas)");
    my $s = $p->stats('all');
    cmp_ok($s->{'tcp:rcv_messages'} // 0, '>=', 3 * $CALLS, "$mode: tcp:rcv_messages >= 3 per call");
    cmp_ok($s->{'tcp:snd_messages'} // 0, '>=', 3 * $CALLS, "$mode: tcp:snd_messages >= 3 per call");
    is($s->{"core:$_"} // -1, 0, "$mode: core:$_ = 0") for qw(drop_requests drop_replies);
    is($s->{"tcp:$_"} // -1, 0, "$mode: tcp:$_ = 0") for qw(snd_drops write_queue_drops closed_bad_frame);
    cmp_ok($s->{'tcp:connections_accepted'} // 0, $mode eq 't1' ? '==' : '>=',
           $mode eq 't1' ? 1 : $CALLS, "$mode: tcp:connections_accepted");
    $p->stop;
}

done_testing();
