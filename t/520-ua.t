#!/usr/bin/perl
# Real user agents through the proxy (Debian baresip-core and
# linphone-cli, installed by scripts/deps test), record_route = 1, the
# proxy on udp and tcp 127.0.0.1:P:
#
#  - baresip <-> baresip over UDP: call, hold and resume (re-INVITE),
#    BYE from the callee;
#  - baresip <-> baresip over TCP: call, BYE from the caller;
#  - busy: the callee rejects the ringing call (486);
#  - CANCEL of a ringing call (487);
#  - linphonec TCP-only -> baresip UDP: the callee's INVITE carries the
#    double Record-Route (UDP side on top), the ACK and BYE reach it
#    with both Routes removed;
#  - MI core: counters add up (requests forwarded, nothing dropped).
#
# The flow on each leg is read from baresip's SIP trace (-s: "PROTO
# SRC -> DST" then the message) and linphonec's log. Headless set-up:
# baresip with net_interface 127.0.0.1, commands through a FIFO on its
# stdin, the ausine tone source and no audio player; linphonec with its
# own HOME, UDP and IPv6 off (ipv6_migration_done=1, or liblinphone 5
# turns IPv6 back on and offers a global IPv6 address in SDP) and RTP
# bound to 127.0.0.1.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX qw(mkfifo WNOHANG);
use Time::HiRes qw(sleep time);
use IO::Handle;
use Proxy qw(free_ports slurp);
use Tcp;
use Watchdog ();

plan skip_all => 'baresip not installed (scripts/deps test)'
    unless -x '/usr/bin/baresip';

my $p = Proxy->new(sipd => 1, children => 2, record_route => 1, tcp => 1);
my $P = $p->port;
my $D = $p->dir;
my @kids;

# a UA never outlives the test, even one that dies half-way
# (should the test die hard, its watchdog does, with SIGKILL as here:
# baresip takes seconds over a SIGTERM)
END {
    local $?;
    for (@kids) {
        kill 'KILL', $_->{pid};
        waitpid($_->{pid}, 0);
        Watchdog::disarm(delete $_->{watch});
    }
}

# ua_start(NAME, ARGV, ENV) - a UA with its stdin on DIR/NAME.in (a FIFO
# we hold open read-write, so neither side blocks), output in NAME.log
sub ua_start
{
    my ($name, $argv, $env) = @_;
    my $fifo = "$D/$name.in";
    mkfifo($fifo, 0600) or die "$fifo: $!";
    open(my $w, '+<', $fifo) or die "$fifo: $!";
    $w->autoflush(1);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open(STDIN, '<', $fifo) or POSIX::_exit(1);
        open(STDOUT, '>', "$D/$name.log") or POSIX::_exit(1);
        open(STDERR, '>&', \*STDOUT);
        $ENV{$_} = $env->{$_} for keys %{ $env || {} };
        exec(@$argv) or POSIX::_exit(127);
    }
    my $ua = { name => $name, pid => $pid, w => $w, log => "$D/$name.log",
               watch => Watchdog::arm(pid => $pid, sig => 'KILL',
                                      what => "$name $argv->[0]") };
    push @kids, $ua;
    return $ua;
}

sub cmd { my ($ua, $c) = @_; print { $ua->{w} } "$c\n" }

sub text
{
    my ($ua) = @_;
    my $t = slurp($ua->{log}) // '';
    $t =~ s/\e\[[0-9;]*m//g;
    return $t;
}

# wait_for(UA, RE, S) - true once UA's output matches RE (polled)
sub wait_for
{
    my ($ua, $re, $t) = @_;
    my $end = time + ($t // 5);
    while (time < $end) {
        return 1 if text($ua) =~ $re;
        sleep 0.05;
    }
    return 0;
}

# trace(UA) - baresip's SIP trace: [{proto, src, dst, start, msg}]
sub trace
{
    my @m;
    # "#" may follow a call status line that ends in CR, not LF
    for my $blk (split /#\r?\n(?=(?:UDP|TCP) \S+ -> )/, text($_[0])) {
        next unless $blk =~ /\A(UDP|TCP) (\S+) -> (\S+)\r?\n(.*?)\r?\n(.*)\z/s;
        push @m, { proto => $1, src => $2, dst => $3, start => $4,
                   msg => "$4\n$5" };
    }
    return @m;
}

# seen(UA, CALLID, DIR) - "PROTO METHOD" or "PROTO CODE" of each message
# of one call that UA sent to the proxy (DIR 'out') or got from it
# ('in'), in order; provisional responses left out
sub seen
{
    my ($ua, $cid, $dir) = @_;
    my @r;
    for my $m (trace($ua)) {
        next if $m->{start} =~ /^SIP\/2\.0 1\d\d /
            || $m->{msg} !~ /^Call-ID:\s*\Q$cid\E\r?$/mi;
        # The proxy's Via on top: a request from it, or a response to it
        # (over TCP its source port is a connection's, so no addresses)
        my ($top) = $m->{msg} =~ /^(?:Via|v)\s*:\s*SIP\/2\.0\/\w+\s+([^;\s]+)/mi;
        my $resp = $m->{start} =~ /^SIP\/2\.0 (\d+)/ ? $1 : undef;
        my $ours = ($top // '') eq "127.0.0.1:$P";
        next unless ($dir eq 'in') == ($ours xor defined $resp);
        push @r, "$m->{proto} " . ($resp // ($m->{start} =~ /^(\S+)/)[0]);
    }
    return @r;
}

# wait_seen(UA, CALLID, DIR, WHAT, S [, N]) - until seen() lists WHAT
# (N times, default once)
sub wait_seen
{
    my ($ua, $cid, $dir, $what, $t, $n) = @_;
    my $end = time + ($t // 3);
    while (time < $end) {
        return 1 if (grep { $_ eq $what } seen($ua, $cid, $dir)) >= ($n // 1);
        sleep 0.05;
    }
    return 0;
}

sub last_callid
{
    my ($ua) = @_;
    my @c = text($ua) =~ /^INVITE .*?^Call-ID:\s*(\S+)/msig;
    return $c[-1] // '';
}

# baresip(NAME, ANSWERMODE, PROTO) - a baresip UA on its own port, its
# outbound proxy the proxy over PROTO
sub baresip
{
    my ($name, $mode, $tp, $try) = @_;
    my $port = Tcp::free_port();
    my $dir = "$D/$name";
    mkdir $dir;
    unlink("$D/$name.in");
    Proxy::spew("$dir/config", join('', map { "$_\n" }
        "sip_listen 127.0.0.1:$port", 'net_interface 127.0.0.1',
        'module_path /usr/lib/baresip/modules', 'module stdio.so',
        'module g711.so', 'module ausine.so', 'module_app account.so',
        'module_app menu.so', 'audio_source ausine,440',
        'ausrc_srate 48000', 'ausrc_channels 2',
        'rtp_ports 20000-29999'));
    Proxy::spew("$dir/accounts", "<sip:$name\@127.0.0.1;transport=$tp>"
        . ";regint=0;answermode=$mode"
        . ";outbound=\"sip:127.0.0.1:$P;transport=$tp\"\n");
    my $ua = ua_start($name, [ '/usr/bin/baresip', '-f', $dir, '-s' ]);
    $ua->{port} = $port;
    # a free port can be taken before baresip binds it (EADDRINUSE, 98)
    my $end = time + 10;
    sleep 0.05 while time < $end && text($ua) !~ /baresip is ready/
        && waitpid($ua->{pid}, WNOHANG) == 0;
    if (text($ua) !~ /baresip is ready/ && ($? >> 8) == 98
        && ($try // 0) < 3) {
        @kids = grep { $_ != $ua } @kids;
        Watchdog::disarm(delete $ua->{watch});  # it exited (98)
        return baresip($name, $mode, $tp, ($try // 0) + 1);
    }
    wait_for($ua, qr/baresip is ready/, 1)
        or BAIL_OUT("baresip $name did not start (pid $ua->{pid} "
                    . (waitpid($ua->{pid}, WNOHANG) == 0 ? 'running' : "exited $?")
                    . "):\n" . text($ua));
    return $ua;
}

sub uri { "sip:$_[0]{name}\@127.0.0.1:$_[0]{port}" . ($_[1] ? ";transport=$_[1]" : '') }

# ---- baresip <-> baresip over UDP: hold/resume, BYE from the callee --------
my $alice = baresip('alice', 'manual', 'udp');
my $bob = baresip('bob', 'auto', 'udp');
cmd($alice, '/dial ' . uri($bob));
ok(wait_for($alice, qr/Call established/, 5)
   && wait_for($bob, qr/Call established/, 5), 'udp: call established')
    or diag(text($alice));
my $cid = last_callid($alice);
cmd($alice, '/hold');
my $held = wait_for($bob, qr/^INVITE .*?a=sendonly/ms, 3);
cmd($alice, '/resume');
my $resumed = $held && wait_for($bob, qr/a=sendonly.*^INVITE .*?a=sendrecv/ms, 3);
# the resume's ACK too, before the callee hangs up
wait_seen($bob, $cid, 'in', 'UDP ACK', 3, $held ? 3 : 1);
SKIP: {
    skip('baresip 1.0 menu has no /hold here', 1) unless $held;
    ok($resumed, 'udp: hold (sendonly) and resume (sendrecv) re-INVITEs reach the callee');
}
sleep 0.2;
cmd($bob, '/hangup');
ok(wait_seen($alice, $cid, 'in', 'UDP BYE', 3)
   && wait_seen($bob, $cid, 'in', 'UDP 200', 3),
   'udp: BYE from the callee reaches the caller, its 200 the callee');
my @inv = grep { $_->{msg} =~ /^Call-ID:\s*\Q$cid\E/mi && $_->{start} =~ /^INVITE/ }
    trace($bob);
is_deeply([ $inv[0]{msg} =~ /^(Record-Route: .*?)\r?$/mg ],
          [ "Record-Route: <sip:127.0.0.1:$P;lr>" ],
          'udp: one Record-Route (same socket both ways)');
my @re = $held ? (('UDP INVITE', 'UDP ACK') x 2) : ();
is_deeply([ seen($alice, $cid, 'out') ],
          [ 'UDP INVITE', 'UDP ACK', @re, 'UDP 200' ],
          'udp: caller leg, alice -> proxy')
    or diag(explain([ seen($alice, $cid, 'out') ]));
is_deeply([ seen($alice, $cid, 'in') ],
          [ 'UDP 200', ('UDP 200') x (@re / 2), 'UDP BYE' ],
          'udp: caller leg, proxy -> alice')
    or diag(explain([ seen($alice, $cid, 'in') ]));
is_deeply([ seen($bob, $cid, 'in') ],
          [ 'UDP INVITE', 'UDP ACK', @re, 'UDP 200' ],
          'udp: callee leg, proxy -> bob')
    or diag(explain([ seen($bob, $cid, 'in') ]));

# ---- busy (486) and CANCEL (487) -----------------------------------------
my $carol = baresip('carol', 'manual', 'udp');
cmd($alice, '/dial ' . uri($carol));
ok(wait_for($carol, qr/Incoming call/i, 5), 'busy: carol rings');
cmd($carol, '/hangup');
ok(wait_for($alice, qr/^SIP\/2\.0 486 /m, 3), 'busy: 486 reaches the caller');
$cid = last_callid($alice);
ok(wait_seen($carol, $cid, 'in', 'UDP ACK', 3),
   'busy: the caller\'s ACK for the 486 reaches carol');

sleep 0.3;
my $n_inc = () = text($carol) =~ /Incoming call/gi;
cmd($alice, '/dial ' . uri($carol));
ok(wait_for($carol, qr/(?:Incoming call.*){${\($n_inc + 1)}}/si, 5),
   'cancel: carol rings again');
sleep 0.2;
cmd($alice, '/hangup');
ok(wait_for($carol, qr/^CANCEL /m, 3), 'cancel: CANCEL reaches the callee');
ok(wait_for($alice, qr/^SIP\/2\.0 487 /m, 3), 'cancel: 487 reaches the caller');

# ---- baresip <-> baresip over TCP --------------------------------------------
my $dave = baresip('dave', 'manual', 'tcp');
my $erin = baresip('erin', 'auto', 'tcp');
cmd($dave, '/dial ' . uri($erin, 'tcp'));
ok(wait_for($dave, qr/Call established/, 5)
   && wait_for($erin, qr/Call established/, 5), 'tcp: call established')
    or diag(text($dave));
$cid = last_callid($dave);
sleep 0.2;
cmd($dave, '/hangup');
ok(wait_seen($erin, $cid, 'in', 'TCP BYE', 3)
   && wait_seen($dave, $cid, 'in', 'TCP 200', 3, 2),
   'tcp: BYE from the caller reaches the callee, its 200 the caller');
is_deeply([ seen($erin, $cid, 'in') ], [ 'TCP INVITE', 'TCP ACK', 'TCP BYE' ],
          'tcp: callee leg over TCP: INVITE, ACK, BYE')
    or diag(explain([ seen($erin, $cid, 'in') ]));
is_deeply([ seen($dave, $cid, 'in') ], [ 'TCP 200', 'TCP 200' ],
          'tcp: caller leg over TCP: 200 (INVITE), 200 (BYE)')
    or diag(explain([ seen($dave, $cid, 'in') ]));

# ---- linphonec TCP-only -> baresip UDP ----------------------------------------
SKIP: {
    skip('linphonec not installed (scripts/deps test)', 6)
        unless -x '/usr/bin/linphonec';
    my $home = "$D/lhome";
    system('mkdir', '-p', "$home/.local/share/linphone");
    my $lport = Tcp::free_port();
    my ($rtp) = free_ports(1);
    Proxy::spew("$D/linphonerc", join('', map { "$_\n" }
        '[sip]', 'sip_port=0', "sip_tcp_port=$lport", 'sip_tls_port=0',
        'use_ipv6=0', 'ipv6_migration_done=1', 'default_proxy=0',
        'contact="Linph" <sip:linph@127.0.0.1>',
        '[rtp]', "audio_rtp_port=$rtp", 'bind_address=127.0.0.1',
        '[sound]', 'echocancellation=0',
        '[proxy_0]', "reg_proxy=<sip:127.0.0.1:$P;transport=tcp>",
        'reg_identity="Linph" <sip:linph@127.0.0.1>', 'reg_sendregister=0',
        'publish=0'));
    my $l = ua_start('linphonec', [ '/usr/bin/linphonec', '-c',
        "$D/linphonerc", '-d', '6', '-l', "$D/linphonec.debug" ],
        { HOME => $home });
    wait_for($l, qr/linphonec>/, 10) or diag(text($l));
    my $nb = () = text($bob) =~ /Call established/g;
    cmd($l, 'call ' . uri($bob));
    ok(wait_for($l, qr/connected/, 8)
       && wait_for($bob, qr/(?:Call established.*){${\($nb + 1)}}/s, 3),
       'linphonec (TCP only) -> baresip (UDP): call established')
        or diag(text($l));
    $cid = last_callid($bob);
    my ($inv) = grep { $_->{msg} =~ /^Call-ID:\s*\Q$cid\E/mi
                       && $_->{start} =~ /^INVITE/ } trace($bob);
    is_deeply([ ($inv->{msg} // '') =~ /^(Record-Route: .*?)\r?$/mg ],
              [ "Record-Route: <sip:127.0.0.1:$P;r2=on;lr>",
                "Record-Route: <sip:127.0.0.1:$P;transport=tcp;r2=on;lr>" ],
              'the callee sees the double Record-Route, its UDP side on top');
    my $dbg = slurp("$D/linphonec.debug") // '';
    like($dbg, qr{^ACK sip:[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*?Route: <sip:127\.0\.0\.1:$P;transport=tcp;r2=on;lr>}m,
         'linphonec routes its ACK to the TCP side first');
    sleep 0.3;
    cmd($l, 'terminate');
    ok(wait_seen($bob, $cid, 'in', 'UDP BYE', 3),
       'linphonec BYE reaches the UDP callee');
    is_deeply([ seen($bob, $cid, 'in') ], [ 'UDP INVITE', 'UDP ACK', 'UDP BYE' ],
              'callee leg over UDP: INVITE, ACK, BYE')
        or diag(explain([ seen($bob, $cid, 'in') ]));
    my @routes = map { /^(Route: .*?)\r?$/mg } map { $_->{msg} }
        grep { $_->{msg} =~ /^Call-ID:\s*\Q$cid\E/mi
               && $_->{src} eq "127.0.0.1:$P" } trace($bob);
    is_deeply(\@routes, [], 'no Route left on what reaches the callee');
    cmd($l, 'quit');
}

# ---- MI counters ----------------------------------------------------------------
my $s = $p->stats('core:');
cmp_ok($s->{'core:fwd_requests'} // 0, '>=', 15, 'MI core:fwd_requests')
    or diag(explain($s));
is($s->{'core:fwd_requests'}, $s->{'core:rcv_requests'},
   'MI: every request received was forwarded');
is($s->{'core:fwd_replies'}, $s->{'core:rcv_replies'},
   'MI: every reply received was forwarded');
is($s->{'core:drop_requests'} // 0, 0, 'MI core:drop_requests 0');
is($s->{'core:err_requests'} // 0, 0, 'MI core:err_requests 0');
is($s->{'core:bad_msg_hdr'} // 0, 0, 'MI core:bad_msg_hdr 0');

for my $ua (@kids) {
    cmd($ua, $ua->{name} eq 'linphonec' ? 'quit' : '/quit');
}
my $end = time + 3;
for my $ua (@kids) {
    while (waitpid($ua->{pid}, WNOHANG) == 0 && time < $end) { sleep 0.05 }
    if (waitpid($ua->{pid}, WNOHANG) == 0) {
        kill 'KILL', $ua->{pid};
        waitpid($ua->{pid}, 0);
    }
    Watchdog::disarm(delete $ua->{watch});
}
$p->stop;
done_testing;
