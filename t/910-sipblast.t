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
use POSIX ();
use Watchdog ();

my $dir = Proxy::make_tempdir();
my $bin = "$dir/sipblast";
is(system('cc', '-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-pthread',
          Proxy::repo_root() . '/bench/sipblast.c', '-o', $bin), 0,
   'sipblast builds with -Wall -Wextra -Werror');

# blast(ARGS) - sipblast's summary line as a hash (what `timeout 60 $bin
# @a` printed), its process group armed on the watchdog meanwhile
sub blast {
    my (@a) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        POSIX::setpgid(0, 0);
        exec('timeout', 60, $bin, @a) or POSIX::_exit(127);
    }
    POSIX::setpgid($pid, $pid);         # whichever of us runs first
    my $w = Watchdog::arm(pgrp => $pid, what => "sipblast @a");
    my $out = do { local $/; <$fh> };
    close($fh);
    Watchdog::disarm($w);
    my %r = split ' ', ($out // '');
    return \%r;
}

my ($rport, $uas) = Proxy::free_ports(2);
my $relay = fork // die;
if ($relay == 0) {
    exec $bin, '-R', $rport, '-s', $uas, '-t', 60;
    exit 127;
}
my $relay_w = Watchdog::arm(pid => $relay, what => "sipblast -R $rport");
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
Watchdog::disarm($relay_w);

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

# -U and -u: the test is the proxy. It reads what sipblast sends for up
# to 40 requests (open loop, 20/s for 2 s) and answers each with a 503,
# then a 200: every 503 has come in once its 200 has, whatever the load.
sub fake_proxy {
    my (@a) = @_;
    my $fake = Proxy::UDP->new;
    my $out = "$dir/blast-fake.out";
    my $pid = fork // die;
    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        open STDOUT, '>', $out or exit 127;
        exec 'timeout', 60, $bin, '-p', $fake->port, '-r', 20, '-d', 2,
            '-m', 'options', @a;
        exit 127;
    }
    POSIX::setpgid($pid, $pid);         # whichever of us runs first
    my $w = Watchdog::arm(pgrp => $pid, what => "sipblast -p " . $fake->port);
    my @got;
    my $deadline = time + 30;
    while (time < $deadline) {
        my ($b, $from) = $fake->recv(3);
        last unless defined $b && @got < 1000;
        push @got, $b;
        my ($via) = $b =~ /^(Via: [^\r]*\r\n)/m;
        my ($cid) = $b =~ /^(Call-ID: [^\r]*\r\n)/m;
        $fake->send("SIP/2.0 $_\r\n$via$cid" . "Content-Length: 0\r\n\r\n",
                    $from) for '503 Service Unavailable', '200 OK';
    }
    waitpid($pid, 0);
    Watchdog::disarm($w);
    open my $f, '<', $out or die;
    my %r = split ' ', (scalar(<$f>) // '');
    return (\%r, @got);
}

my ($fr, @reqs) = fake_proxy('-U', 'sip:a%u@alias.test;x=1', '-u', 7);
my @users = map { /^OPTIONS sip:a(\d+)\@alias\.test;x=1 SIP\/2\.0\r\n/
                  ? $1 : 'bad' } @reqs;
ok(@reqs > 0 && @reqs <= 40, scalar(@reqs) . ' requests with -U, -u 7');
is($fr->{sent}, scalar(@reqs), 'the fake proxy read every request sent');
is(scalar(grep { $_ eq 'bad' } @users), 0,
   'every Request-URI is the template with a number for %u')
    or diag($reqs[0]);
is(scalar(grep { $_ ne 'bad' && $_ >= 7 } @users), 0, 'every number < 7');
is(scalar(grep { $users[$_] != ($users[$_ - 1] + 1) % 7 } 1 .. $#users), 0,
   'consecutive requests, consecutive numbers modulo 7')
    or diag("@users");
is(scalar(grep { !m{^To: <sip:a\d+\@alias\.test;x=1>\r\n}m } @reqs), 0,
   'To carries the same URI');
is($fr->{answered}, scalar(@reqs), 'each 200 answered');
is($fr->{other}, $fr->{answered}, 'each 503 counted as other, not answered');

($fr, @reqs) = fake_proxy('-U', 'sip:127.0.0.1:5999');
ok(@reqs > 0, scalar(@reqs) . ' requests with a literal -U');
is(scalar(grep { !m{^OPTIONS sip:127\.0\.0\.1:5999 SIP/2\.0\r\n} } @reqs),
   0, 'a -U without %u is sent as it is');
is(system("$bin -p 1 -U x -u 0 2>/dev/null") >> 8, 2, '-u 0 is refused');

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
