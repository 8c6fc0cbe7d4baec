#!/usr/bin/perl
# bench/sipblast, the load generator of make bench (issue 8): its counts
# must be right for the bench's numbers to mean anything. Open loop
# sends exactly rate x seconds requests, paced by the clock; mixed
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

# mixed, open loop through the relay: 300/s for 1 s
my $r = blast('-p', $rport, '-s', $uas, '-r', 300, '-d', 1, '-m', 'mixed');
is($r->{mode}, 'open', 'open loop');
is($r->{sent}, 300, 'open loop sent rate x seconds');
is($r->{new_sent}, 100, 'a third are new INVITEs');
is($r->{dlg_sent}, 200, 'two thirds in-dialog (ACK, BYE)');
is($r->{uas_recv}, 300, 'the relay relayed every request');
is($r->{new_recv}, 100, 'UAS saw 100 requests without a To tag');
is($r->{dlg_recv}, 200, 'UAS saw 200 with a To tag');
is($r->{rsp_sent}, 200, 'UAS answered INVITE and BYE, not ACK');
is($r->{answered}, 200, 'every answer came back');
is($r->{lost}, 0, 'nothing lost');
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
is($r->{sent}, 200, 'black hole: all 200 sent');
is($r->{answered}, 0, 'black hole: nothing answered');
is($r->{lost}, 200, 'black hole: 200 counted lost');
is($r->{lost_req}, 200, 'black hole: 200 requests not relayed');
ok(time - $t0 < 30, 'black hole: sipblast returned (drain is bounded)');

# through sipstage itself
my $p = Proxy->new(children => 2);
$r = blast('-p', $p->port, '-r', 200, '-d', 1);
is($r->{sent}, 200, 'sipstage: 200 INVITEs sent');
is($r->{uas_recv}, 200, 'sipstage relayed every INVITE');
is($r->{answered}, 200, 'sipstage relayed every 200 back');
is($r->{lost}, 0, 'sipstage: nothing lost at 200/s');
$p->stop;
done_testing();
