#!/usr/bin/perl
# bench/sipblast, the load generator of make bench (issue 8): its counts
# must be right for the bench's numbers to mean anything. Open loop
# sends at most rate x seconds requests, paced by the clock; mixed
# traffic is INVITE, ACK, BYE in turn and the UAS answers all but ACK;
# the zero-work relay (-R) relays everything; a proxy that answers
# nothing is counted as loss and does not hang the generator; through
# the real proxy every transaction comes back. Counts only: no timing
# is asserted (latencies are only checked to be ordered).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Proxy;

my $dir = Proxy::make_tempdir();
my $bin = "$dir/sipblast";
is(system('cc', '-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-pthread',
          Proxy::repo_root() . '/bench/sipblast.c', '-o', $bin), 0,
   'sipblast builds with -Wall -Wextra -Werror');

sub blast {
    my (@a) = @_;
    my $out = `timeout 60 $bin @a`;
    my %r = split ' ', ($out // '');
    return \%r;
}

my ($rport, $uas) = Proxy::free_ports(2);
my $relay = fork // die;
if ($relay == 0) {
    exec $bin, '-R', $rport, '-s', $uas, '-t', 60;
    exit 127;
}
select undef, undef, undef, 0.3;

# mixed, open loop through the relay: 300/s for 1 s. A generator that
# lost the CPU for long may send fewer (it says so); the relations
# between the counts hold whatever it sent.
my $r = blast('-p', $rport, '-s', $uas, '-r', 300, '-d', 1, '-m', 'mixed');
my $n = $r->{sent} // 0;
my ($inv, $ack) = (int(($n + 2) / 3), int(($n + 1) / 3));
is($r->{mode}, 'open', 'open loop');
is($r->{offered}, 300, 'offered rate x seconds');
ok($n > 0 && $n <= 300, "sent $n of the 300 offered, never more");
is($r->{new_sent}, $inv, 'every third is a new INVITE (the first too)');
is($r->{dlg_sent}, $n - $inv, 'the others in-dialog (ACK, BYE)');
is($r->{uas_recv}, $n, 'the relay relayed every request');
is($r->{new_recv}, $inv, 'UAS saw the INVITEs without a To tag');
is($r->{dlg_recv}, $n - $inv, 'UAS saw ACK and BYE with a To tag');
is($r->{rsp_sent}, $n - $ack, 'UAS answered INVITE and BYE, not ACK');
is($r->{answered}, $n - $ack, 'every answer came back');
is($r->{lost}, 0, 'nothing lost');
is($r->{gen_drops}, 0, 'the generator dropped nothing itself');
ok($r->{req_p50} > 0 && $r->{req_p50} <= $r->{req_p99}
   && $r->{req_p99} <= $r->{req_p999} && $r->{req_p999} <= $r->{req_max}
   * 1.05, "latency quantiles ordered ($r->{req_p50} <= $r->{req_p99}"
   . " <= $r->{req_p999} <= ~$r->{req_max} us)");
ok($r->{rtt_p50} > 0, 'round trip measured');

# closed loop through the relay
$r = blast('-p', $rport, '-s', $uas, '-n', 500, '-w', 16, '-t', 30,
           '-m', 'options');
is($r->{mode}, 'closed', 'closed loop');
is($r->{answered}, 500, 'closed loop: 500 transactions answered');
kill 'TERM', $relay;
waitpid($relay, 0);

# nobody listens: everything is lost, and the generator comes back
my ($hole) = Proxy::free_ports(1);
my $t0 = time;
$r = blast('-p', $hole, '-r', 200, '-d', 1);
$n = $r->{sent} // 0;
ok($n > 0 && $n <= 200, "black hole: $n sent");
is($r->{answered}, 0, 'black hole: nothing answered');
is($r->{lost}, $n, 'black hole: all counted lost');
is($r->{lost_req}, $n, 'black hole: no request relayed');
ok(time - $t0 < 30, 'black hole: sipblast returned (drain is bounded)');

# through sipstage itself
my $p = Proxy->new(children => 2);
$r = blast('-p', $p->port, '-r', 200, '-d', 1);
$n = $r->{sent} // 0;
ok($n > 0 && $n <= 200, "sipstage: $n INVITEs sent");
is($r->{uas_recv}, $n, 'sipstage relayed every INVITE');
is($r->{answered}, $n, 'sipstage relayed every 200 back');
is($r->{lost}, 0, 'sipstage: nothing lost at 200/s');
$p->stop;
done_testing();
