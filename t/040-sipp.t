#!/usr/bin/perl
# sipp -sn uac through the proxy to sipp -sn uas (-rsa: the Request-URI
# names the UAS): 2000 calls at 200 cps, zero failed calls. Then the same
# with two sipd processes and four workers each: messages of one Call-ID
# keep their order (an ACK overtaken by its BYE is an unexpected message
# for the UAS and a failed call), so zero failed, zero unexpected.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Proxy;

-x '/usr/bin/sipp' || `which sipp 2>/dev/null`
    or plan(skip_all => 'sipp not installed (scripts/deps installs sip-tester)');

my $CALLS = 2000;
my $RATE = 200;

for my $c ({ sipd => 1, children => 4 }, { sipd => 2, children => 4 }) {
    my $tag = "sipd=$c->{sipd} children=$c->{children}";
    my $p = Proxy->new(%$c);
    my %pids0 = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
    my $uas = $p->sipp_uas;
    ok($uas->{ready}, "$tag: sipp uas listening on $uas->{port}");
    my $r = $p->sipp(sn => 'uac', remote => "127.0.0.1:$uas->{port}",
                     rsa => '127.0.0.1:' . $p->port,
                     m => $CALLS, r => $RATE, timeout => 60);
    my $ok = is($r->{rc}, 0, "$tag: sipp uac exit code 0 (all calls succeeded)");
    $ok &= is($r->{successful}, $CALLS, "$tag: $CALLS successful calls");
    $ok &= is($r->{failed}, 0, "$tag: zero failed calls");
    $ok &= is($r->{unexpected} // 0, 0, "$tag: zero unexpected messages (uac)");
    Proxy::sipp_diag($r) unless $ok;

    $p->sipp_wait_calls($uas, $CALLS, 10);
    my $u = $p->sipp_stop($uas);
    $ok = is($u->{unexpected} // 0, 0, "$tag: zero unexpected messages (uas)");
    $ok &= is($u->{failed} // 0, 0, "$tag: zero failed calls (uas)");
    $ok &= cmp_ok($u->{successful} // 0, '>=', $CALLS, "$tag: uas saw every call end");
    Proxy::sipp_diag($u) unless $ok;

    # INVITE, ACK and BYE each way; 180, 200, 200 back (more if sipp
    # retransmitted)
    my $s = $p->stats('all');
    cmp_ok($s->{'core:fwd_requests'} // 0, '>=', 3 * $CALLS, "$tag: core:fwd_requests >= 3 per call");
    cmp_ok($s->{'core:fwd_replies'} // 0, '>=', 3 * $CALLS, "$tag: core:fwd_replies >= 3 per call");
    is($s->{"core:$_"} // -1, 0, "$tag: core:$_ = 0")
        for qw(drop_requests drop_replies err_requests);
    is($s->{'net:ring_full_drops'} // -1, 0, "$tag: net:ring_full_drops = 0");

    my %now = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
    is_deeply(\%now, \%pids0, "$tag: no process died or was restarted");
    $p->stop;
}

done_testing();
