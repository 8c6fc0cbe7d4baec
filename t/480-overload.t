#!/usr/bin/perl
# Overload (issue 8, part 4): netd sheds new work first and never throws
# away work sipd has done.
#
# 1. High-water. sipd (one worker) is stopped (SIGSTOP), so its worker's
#    request ring netd>sipd.0.0 only fills. New INVITEs are sent until the ring passes half its size (the
#    size netd logs at start), then more kinds of new work (OPTIONS,
#    MESSAGE, REGISTER, SUBSCRIBE, a tag in the display name or the URI, a
#    lowercase "bye"), then in-dialog requests (ACK, BYE, CANCEL, INFO,
#    PRACK, UPDATE, a re-INVITE, compact t: with a tag, a bare addr-spec
#    with ;tag) and responses. After SIGCONT: exactly the new requests
#    sent before the mark were relayed and every one after it was shed
#    (net:overload_shed), and every in-dialog request and response was
#    relayed (counted at the UAS and UAC sockets).
# 2. netd behind: with a small socket buffer, netd is stopped until the
#    kernel drops; the next datagrams carry the drop count, and of those
#    the new requests are shed and the in-dialog requests relayed.
# 3. Output first: sipd routes while netd is stopped, so its
#    sipd.0.0>netd ring holds more than netd sends in a turn; when netd runs again it
#    pauses UDP input (net:input_pauses) and still relays everything,
#    the routed messages and the datagrams that waited in the kernel.
#
# No timing assertion: every wait has a deadline; the counts are exact.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Socket qw(SOL_SOCKET SO_RCVBUF);
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;

use constant SO_RCVBUFFORCE => 33;      # Linux; as root only

my $seq = 0;

# big_socket() - a test socket with a receive buffer for a whole burst
sub big_socket
{
    my ($p) = @_;
    my $s = $p->udp_socket;
    my $want = 16 << 20;
    setsockopt($s->fh, SOL_SOCKET, SO_RCVBUFFORCE, pack('i', $want))
        or setsockopt($s->fh, SOL_SOCKET, SO_RCVBUF, pack('i', $want));
    return $s;
}

# req(P, UAC, UAS, METHOD, ID, TO_LINE, BODY_LEN) - a request to the UAS
sub req
{
    my ($p, $uac, $uas, $method, $id, $to, $blen) = @_;
    my ($U, $S) = ($uac->port, $uas->port);
    $to //= "To: <sip:uas\@127.0.0.1:$S>";
    return Sip::msg("$method sip:uas\@127.0.0.1:$S SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-$id",
        'Max-Forwards: 70',
        "From: <sip:uac\@127.0.0.1:$U>;tag=f$id",
        $to,
        "Call-ID: $id",
        "CSeq: 1 $method",
        'Content-Type: text/plain',
        'Content-Length: AUTO' ], 'x' x ($blen // 0));
}

# answer(RELAYED) - the UAS's 200 to a request the proxy relayed: every
# Via (the proxy's on top), From, To with a tag, Call-ID, CSeq
sub answer
{
    my ($m) = @_;
    my $r = Sip::parse($m);
    my ($to) = Sip::hdr($r, 'To', 't');
    return Sip::msg('SIP/2.0 200 OK', [
        Sip::hdr($r, 'Via', 'v'), Sip::hdr($r, 'From', 'f'), "$to;tag=uas",
        Sip::hdr($r, 'Call-ID', 'i'), Sip::hdr($r, 'CSeq'),
        'Content-Length: 0' ], '');
}

# send_all(P, SOCK, LIST) - send each message to the proxy, 50 at a time,
# waiting (deadline 20 s a slice) until netd received them: the test
# must not overflow netd's socket itself
sub send_all
{
    my ($p, $sock, @m) = @_;
    while (@m) {
        my @slice = splice(@m, 0, 50);
        my $rcv = $p->stat('net:udp_rcv_datagrams') // 0;
        $sock->send($_, $p->port) for @slice;
        $p->wait_stat('net:udp_rcv_datagrams', $rcv + @slice, 20);
    }
}

# collect(SOCK, WANT, S [, SEEN]) - receive until every Call-ID in WANT
# (hash ref; empty: all S seconds) was seen or S seconds passed; the
# hash of every Call-ID received, with how often
sub collect
{
    my ($sock, $want, $t, $seen) = @_;
    $seen //= {};
    my $deadline = time + $t;
    while (time < $deadline && (!%$want || grep { !$seen->{$_} } keys %$want)) {
        my ($m) = $sock->recv(0.2);
        next unless defined $m;
        $seen->{$1}++ if $m =~ /\r\n(?:Call-ID|i)[ \t]*:[ \t]*(\S+)\r\n/i;
    }
    return $seen;
}

# value(P, NAME) - a statistic, or a ring:*_backlog gauge
sub value
{
    my ($p, $name) = @_;
    return $p->stats('ring:')->{$name} // 0 if $name =~ /_backlog$/;
    return $p->stat($name) // 0;
}

# wait_settled(P, NAME, S) - poll a statistic until it stops moving
# (same value three times 0.2 s apart) or S seconds pass; the value
sub wait_settled
{
    my ($p, $name, $t) = @_;
    my $deadline = time + $t;
    my ($v, $same) = (value($p, $name), 0);
    while (time < $deadline && $same < 3) {
        sleep 0.2;
        my $w = value($p, $name);
        $same = $w == $v ? $same + 1 : 0;
        $v = $w;
    }
    return $v;
}

sub pid_of { my ($p, $type) = @_; my ($r) = $p->ps_of($type, 0); $r ? $r->{PID} : 0 }

my @hold = (stages => [ 'hang_ms = 300000', 'max_queue_ms = 300000' ]);

# -- 1. the high-water mark of a worker's request ring
{
    my $p = Proxy->new(sipd => 1, children => 1, extra => { @hold });
    my ($uac, $uas) = (big_socket($p), big_socket($p));
    my ($hw, $size) = $p->log =~ /netd>sipd\.\*\.\*: new UDP requests are shed above (\d+) of (\d+) bytes/;
    ok($hw && $size && $hw == $size / 2,
       "netd logs the high-water mark: half of the ring ($hw of $size)");
    $hw ||= 2 << 20;

    # 100 INVITEs go through first; their 200s come back under overload
    my (%rspid, @rspmsg);
    for my $i (1 .. 100) {
        my $id = "ovl-r$i-$$";
        $rspid{$id} = 1;
        $uac->send(req($p, $uac, $uas, 'INVITE', $id), $p->port);
    }
    my $deadline = time + 20;
    while (@rspmsg < 100 && time < $deadline) {
        my ($m) = $uas->recv(0.5);
        push @rspmsg, answer($m) if defined $m && $m =~ /\r\nCall-ID: ovl-r\d+-/;
    }
    is(scalar(@rspmsg), 100, '100 INVITEs went through (their 200s wait)');
    my $sipd = pid_of($p, 'sipd');
    ok($sipd, "sipd pid $sipd") or BAIL_OUT('no sipd');
    Proxy::stop_process($sipd);

    # new INVITEs of one length, more than half the ring can hold
    my $blen = 7900;
    my $flen = length(req($p, $uac, $uas, 'INVITE', sprintf('ovl-f%05d-%d', 0, $$), undef, $blen));
    my $nfill = int($hw / $flen) + 20;
    my @fill = map { sprintf('ovl-f%05d-%d', $_, $$) } 1 .. $nfill;
    send_all($p, $uac, map { req($p, $uac, $uas, 'INVITE', $_, undef, $blen) } @fill);
    my $S = $uas->port;
    my @new_kinds = (
        [ OPTIONS => undef ], [ MESSAGE => undef ], [ REGISTER => undef ],
        [ SUBSCRIBE => undef ],
        [ INVITE => "To: \"x;tag=1\" <sip:uas\@127.0.0.1:$S>" ],
        [ INVITE => "To: <sip:uas\@127.0.0.1:$S;tag=2>" ],
        [ bye => undef ],
    );
    my (%newid, @newmsg);
    for my $k (0 .. $#new_kinds) {
        for my $i (1 .. 5) {
            my $id = "ovl-n$k-$i-$$";
            $newid{$id} = 1;
            push @newmsg, req($p, $uac, $uas, $new_kinds[$k][0], $id, $new_kinds[$k][1]);
        }
    }
    send_all($p, $uac, @newmsg);
    my $shed1 = $p->wait_stat('net:overload_shed', 20 + @newmsg, 5) // 0;
    my $back1 = value($p, 'ring:netd>sipd.0.0_backlog');
    cmp_ok($shed1, '>=', 20 + @newmsg, "new requests past the mark were shed (net:overload_shed $shed1)");
    ok($back1 >= $hw && $back1 < $hw + $flen + 128,
       "shedding began at the high-water mark, not before (ring holds $back1 bytes, mark $hw)");
    like($p->log, qr/netd>sipd\.0\.0 \d+% full \(high-water 50%\): sipd is behind: shedding new requests over UDP/,
         'log: the ring, how full, shedding');

    # in-dialog requests and responses: all of them go in
    my @dlg_kinds = (
        [ ACK => "To: <sip:uas\@127.0.0.1:$S>;tag=a" ],
        [ BYE => "To: <sip:uas\@127.0.0.1:$S>;tag=b" ],
        [ CANCEL => undef ], [ INFO => undef ], [ PRACK => undef ],
        [ UPDATE => "To: <sip:uas\@127.0.0.1:$S>;tag=u" ],
        [ INVITE => "To: Bob <sip:uas\@127.0.0.1:$S>;tag=reinvite" ],
        [ MESSAGE => "t: <sip:uas\@127.0.0.1:$S>;tag=c" ],
        [ invite => "TO : <sip:uas\@127.0.0.1:$S> ;TAG=lc" ],
        [ NOTIFY => "To: sip:uas\@127.0.0.1:$S;tag=bare" ],
    );
    my (%dlgid, @dlgmsg);
    for my $k (0 .. $#dlg_kinds) {
        for my $i (1 .. 10) {
            my $id = "ovl-d$k-$i-$$";
            $dlgid{$id} = 1;
            push @dlgmsg, req($p, $uac, $uas, $dlg_kinds[$k][0], $id, $dlg_kinds[$k][1]);
        }
    }
    send_all($p, $uac, @dlgmsg);
    send_all($p, $uas, @rspmsg);
    my $back2 = wait_settled($p, 'ring:netd>sipd.0.0_backlog', 5);
    my $st = $p->stats('net:');
    is($st->{'net:overload_shed'}, $shed1, 'in-dialog requests and responses were not shed');
    is($st->{'net:ring_full_drops'}, 0, 'nor dropped: the ring did not fill');
    cmp_ok($back2, '>', $back1, "they wait in the ring above the mark ($back2 bytes)");
    is($st->{'net:udp_kernel_drops'}, 0, 'the test did not overflow netd\'s socket');

    kill 'CONT', $sipd;
    my %fillid = map { $_ => 1 } @fill;
    my $seen = collect($uas, { %dlgid }, 30);
    my $rseen = collect($uac, \%rspid, 15);
    collect($uas, {}, 1, $seen);                # late ones, if any
    my @dlg_lost = grep { !$seen->{$_} } sort keys %dlgid;
    is(scalar(@dlg_lost), 0, 'every in-dialog request was relayed (' . scalar(keys %dlgid) . ')')
        or diag("lost: @dlg_lost[0 .. ($#dlg_lost < 9 ? $#dlg_lost : 9)]");
    my @rsp_lost = grep { !$rseen->{$_} } sort keys %rspid;
    is(scalar(@rsp_lost), 0, 'every response was relayed (100)')
        or diag("lost: @rsp_lost[0 .. ($#rsp_lost < 9 ? $#rsp_lost : 9)]");
    my @new_got = grep { $seen->{$_} } sort keys %newid;
    is(scalar(@new_got), 0, 'no new request sent past the mark was relayed ('
       . scalar(keys %newid) . ' of 7 kinds)') or diag("relayed: @new_got");
    my $nf = grep { $seen->{$_} } @fill;
    ok($nf > 0 && $nf < $nfill, "of $nfill new INVITEs, $nf were relayed");
    is(join(',', grep { $seen->{$_} } @fill), join(',', @fill[0 .. $nf - 1]),
       'exactly the first ones, sent before the mark');
    is($nf + $shed1 - scalar(keys %newid), $nfill,
       'every new INVITE was relayed or shed (relayed + net:overload_shed = sent)');
    is($uas->kernel_drops // 0, 0, 'the UAS socket dropped nothing (the counts are whole)');
    my @dup = grep { $seen->{$_} > 1 } keys %$seen;
    is(scalar(@dup), 0, 'nothing relayed twice');

    # the ring drained: new requests go through again
    my %again = map { ("ovl-a$_-$$" => 1) } 1 .. 5;
    $uac->send(req($p, $uac, $uas, 'OPTIONS', $_), $p->port) for sort keys %again;
    my $ag = collect($uas, \%again, 10);
    is(scalar(grep { $ag->{$_} } keys %again), 5, 'after the drain, new requests are relayed again');
    is($p->stat('net:overload_shed'), $shed1, '... and not shed');
    like($p->log, qr/netd>sipd\.0\.0 \d+% full: below high-water again: new requests taken/,
         'log: below the mark again');
    is($p->stat('ring:out_full_drops'), 0, 'sipd dropped nothing it routed');
    $p->stop;
}

# -- 2. netd behind: its socket overflowed; what follows sheds new work
{
    my $p = Proxy->new(sipd => 1, children => 1,
                       extra => { @hold, net => [ 'udp_maxbuffer = 65536' ] });
    my ($uac, $uas) = (big_socket($p), big_socket($p));
    my $netd = pid_of($p, 'netd');
    ok($netd, "netd pid $netd") or BAIL_OUT('no netd');
    my $rcv0 = $p->stat('net:udp_rcv_datagrams') // 0;
    kill 'STOP', $netd;
    $uac->send(req($p, $uac, $uas, 'OPTIONS', "ovl-o$_-$$", undef, 900), $p->port) for 1 .. 300;
    kill 'CONT', $netd;
    my $queued = wait_settled($p, 'net:udp_rcv_datagrams', 10) - $rcv0;
    ok($queued > 0 && $queued < 300, "the socket overflowed: netd read $queued of 300");
    collect($uas, {}, 1);                       # what got through

    kill 'STOP', $netd;
    my (%n, %d);
    for my $i (1 .. 10) {
        my $id = "ovl-bn$i-$$";
        $n{$id} = 1;
        $uac->send(req($p, $uac, $uas, 'OPTIONS', $id), $p->port);
    }
    for my $i (1 .. 10) {
        my $id = "ovl-bd$i-$$";
        $d{$id} = 1;
        $uac->send(req($p, $uac, $uas, 'BYE', $id,
                       "To: <sip:uas\@127.0.0.1:" . $uas->port . ">;tag=z"), $p->port);
    }
    kill 'CONT', $netd;
    my $seen = collect($uas, \%d, 10);
    collect($uas, {}, 0.5, $seen);
    my $drops = $p->stat('net:udp_kernel_drops') // 0;
    is($drops, 300 - $queued, "net:udp_kernel_drops: the kernel's drops ($drops)");
    is($p->stat('net:overload_shed'), 10, 'the new requests behind the drops were shed');
    is(scalar(grep { $seen->{$_} } keys %d), 10, 'the in-dialog requests were relayed');
    is(scalar(grep { $seen->{$_} } keys %n), 0, 'the new ones were not');
    like($p->log, qr/udp 0: the kernel dropped \d+ datagrams \(receive buffer full; \d+ in all\): shedding new requests until it is read empty/,
         'log: the socket sheds');
    # read empty: new work is taken again
    my $id = "ovl-bx-$$";
    $uac->send(req($p, $uac, $uas, 'OPTIONS', $id), $p->port);
    ok(collect($uas, { $id => 1 }, 5)->{$id}, 'once read empty, new requests are relayed again');
    is($p->stat('net:overload_shed'), 10, '... and not shed');
    $p->stop;
}

# -- 3. routed output goes out before more input comes in
{
    my $p = Proxy->new(sipd => 1, children => 1, extra => { @hold });
    my ($uac, $uas) = (big_socket($p), big_socket($p));
    my ($sipd, $netd) = (pid_of($p, 'sipd'), pid_of($p, 'netd'));
    ok($sipd && $netd, "sipd $sipd, netd $netd");
    is($p->stat('net:input_pauses'), 0, 'net:input_pauses: exists, 0');
    Proxy::stop_process($sipd);
    # 700 of 1.3 KB: below the request ring's high-water mark (1 MiB),
    # well above the output ring's pause mark (256 KiB)
    my @r = map { "ovl-q$_-$$" } 1 .. 700;
    send_all($p, $uac, map { req($p, $uac, $uas, 'OPTIONS', $_, undef, 800) } @r);
    kill 'STOP', $netd;
    kill 'CONT', $sipd;
    my $out = wait_settled($p, 'ring:sipd.0.0>netd_backlog', 20);
    cmp_ok($out, '>', 1 << 19, "sipd routed them while netd was stopped ($out bytes wait)");
    my @k = map { "ovl-k$_-$$" } 1 .. 50;       # wait in the kernel
    $uac->send(req($p, $uac, $uas, 'OPTIONS', $_), $p->port) for @k;
    kill 'CONT', $netd;
    my %want = map { $_ => 1 } @r, @k;
    my $seen = collect($uas, \%want, 30);
    my @lost = grep { !$seen->{$_} } @r, @k;
    is(scalar(@lost), 0, 'every routed message and every waiting datagram was relayed')
        or diag(scalar(@lost) . " lost, e.g. @lost[0 .. ($#lost < 4 ? $#lost : 4)]");
    cmp_ok($p->stat('net:input_pauses') // 0, '>=', 1,
           'netd paused UDP input while the routed output was backed up');
    like($p->log, qr/sipd\.0\.0>netd \d+% full: sipd routed more than netd sent: UDP input paused/,
         'log: the pause, naming the ring');
    is($p->stat('ring:out_full_drops'), 0, 'sipd dropped nothing it routed');
    is($p->stat('net:overload_shed'), 0, 'nothing shed');
    is($uas->kernel_drops // 0, 0, 'the UAS socket dropped nothing (the counts are whole)');
    $p->stop;
}
done_testing();
