#!/usr/bin/perl
# Stateless forwarding (RFC 3261 16.11, RFC 3581) checked byte by byte:
# the test plays the UAC and the UAS itself over UDP.
#
# Requests: a new top Via "SIP/2.0/UDP 127.0.0.1:PROXYPORT;branch=z9hG4bK..."
# (the same for a retransmission, and for a CANCEL as for its INVITE),
# Max-Forwards decremented (70 added when absent), received= when the
# sent-by host is not the source IP, rport=SRCPORT when the Via had an
# empty rport; every other header byte-identical and in order, body
# identical. Responses: our Via removed, sent to the next Via's
# received/rport or sent-by, otherwise identical; a response whose top
# Via is not ours is dropped and counted. Errors: 483, 400, 505, 416.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use Proxy;
use Sip;

my $p = Proxy->new(sipd => 1, children => 2);
our $P = $p->port;
my $uac = $p->udp_socket;
my $uas = $p->udp_socket;
my ($U, $S) = ($uac->port, $uas->port);
our $OURVIA = qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P;branch=(z9hG4bK[-\w.!%*+`'~]+)$};
my %pids0 = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;

my $SDP = join('', map { "$_\r\n" } 'v=0',
    'o=alice 2890844526 2890844526 IN IP4 127.0.0.1', 's=-',
    'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 49170 RTP/AVP 0 8 97',
    'a=rtpmap:0 PCMU/8000');

my $seq = 0;

# invite(%o) - an INVITE from the UAC to the UAS through the proxy.
# via => [lines] (default: one Via with rport), mf => N or undef (absent
# when exists and undef), ruri, extra => [lines], callid, branch
sub invite
{
    my (%o) = @_;
    my $n = ++$seq;
    my $branch = $o{branch} // "z9hG4bK-uac-$n";
    my $callid = $o{callid} // "fwd-$n\@127.0.0.1";
    my $ruri = $o{ruri} // "sip:bob\@127.0.0.1:$S";
    my @via = $o{via} ? @{ $o{via} }
        : ("Via: SIP/2.0/UDP 127.0.0.1:$U;branch=$branch;rport");
    my @mf = exists $o{mf} ? (defined $o{mf} ? ("Max-Forwards: $o{mf}") : ())
                           : ('Max-Forwards: 70');
    my $method = $o{method} // 'INVITE';
    my $body = $o{body} // ($method eq 'INVITE' ? $SDP : '');
    return Sip::msg("$method $ruri SIP/2.0", [
        @via, @mf,
        "From: \"Alice\" <sip:alice\@127.0.0.1:$U>;tag=a$n",
        "To: <sip:bob\@127.0.0.1:$S>",
        "Call-ID: $callid",
        "CSeq: " . ($o{cseq} // "1 $method"),
        "Contact: <sip:alice\@127.0.0.1:$U>",
        @{ $o{extra} || [] },
        ($body ne '' ? ('Content-Type: ' . ($o{ctype} // 'application/sdp')) : ()),
        'Content-Length: AUTO',
    ], $body);
}

# via_check(SENT_LINE, GOT_LINE, SRCPORT) - (ok, why): the sender's Via
# after the proxy added received/rport by the rules above. Parameter
# order is kept; received= may sit anywhere after the sent-by.
sub via_check
{
    my ($sent, $got, $src) = @_;
    my ($sname, $sval) = $sent =~ /^([^:]+:\s*)(.*)$/s;
    my ($gname, $gval) = $got =~ /^([^:]+:\s*)(.*)$/s;
    return (0, "not a header: '$got'") unless defined $gname;
    return (0, "header name '$gname' ne '$sname'") if $gname ne $sname;
    my ($sfirst, $srest) = $sval =~ /^([^,]*)(.*)$/s;
    my ($gfirst, $grest) = $gval =~ /^([^,]*)(.*)$/s;
    return (0, "later Via values changed: '$grest' ne '$srest'")
        if $grest ne $srest;
    my ($sby, @sp) = split(/;/, $sfirst, -1);
    my ($gby, @gp) = split(/;/, $gfirst, -1);
    return (0, "sent-by changed: '$gby' ne '$sby'") if $gby ne $sby;
    my ($host) = $sby =~ m{^SIP/2\.0/UDP\s+([^:\s]+)}i;
    my $bare_rport = grep { lc($_) eq 'rport' } @sp;
    my @recv = grep { /^received=/i } @gp;
    @gp = grep { !/^received=/i } @gp;
    my @want = map { lc($_) eq 'rport' ? "rport=$src" : $_ } @sp;
    return (0, "params '@gp' ne '@want' (received aside)")
        if "@gp" ne "@want";
    return (0, "more than one received: @recv") if @recv > 1;
    return (0, "received has '$recv[0]', not 127.0.0.1")
        if @recv && $recv[0] !~ /^received=127\.0\.0\.1$/;
    if ($host ne '127.0.0.1') {
        return (0, "no received= though sent-by host $host is not the "
                   . "source 127.0.0.1") unless @recv;
    } elsif (!$bare_rport) {
        # RFC 3261 18.2.1: only when they differ. (With an empty rport,
        # RFC 3581 section 4 wants received= even when equal: allowed.)
        return (0, "received= added though sent-by is the source IP")
            if @recv;
    }
    return (1, 'ok');
}

# forward_ok(NAME, BYTES, %o) - send BYTES from the UAC, take it at the
# UAS, check it. o: remove => [lines that must be gone], added => [re]
# (each exactly one new line), from => socket (default UAC), srcport.
# Returns {bytes, parsed, branch, added => {re => line}} or undef.
sub forward_ok
{
    my ($name, $bytes, %o) = @_;
    my $from = $o{from} // $uac;
    $from->send($bytes, $P);
    my ($got, $gport) = $uas->recv(2);
    ok(defined $got, "$name: forwarded to the UAS") or return undef;
    is($gport, $P, "$name: sent from the proxy's listen port");
    my $s = Sip::parse($bytes);
    my $g = Sip::parse($got);
    ok($g, "$name: forwarded message has a header block")
        or return undef;
    is($g->{start}, $s->{start}, "$name: request line unchanged");
    my @gh = @{ $g->{headers} };
    my $top = shift(@gh) // '';
    my ($branch) = $top =~ $OURVIA;
    ok($branch, "$name: top Via is \"Via: SIP/2.0/UDP 127.0.0.1:$P;branch=z9hG4bK...\"")
        or diag("got top header: $top");

    my %added;
    for my $re (@{ $o{added} || [] }) {
        my @i = grep { $gh[$_] =~ $re } 0 .. $#gh;
        is(scalar @i, 1, "$name: one header matching $re added")
            or next;
        $added{$re} = splice(@gh, $i[0], 1);
    }
    my (@exp, $via_done, $mf_seen);
    my %rm = map { $_ => 1 } @{ $o{remove} || [] };
    for my $l (@{ $s->{headers} }) {
        next if $rm{$l};
        my $n = Sip::name_of($l);
        if (!$via_done && ($n eq 'via' || $n eq 'v')) {
            push @exp, [ via => $l ];
            $via_done = 1;
        } elsif ($n eq 'max-forwards') {
            $mf_seen = 1;
            (my $x = $l) =~ s/(\d+)\s*$/$1 - 1/e;
            push @exp, $x;
        } else {
            push @exp, $l;
        }
    }
    if (!$mf_seen) {
        my @i = grep { $gh[$_] eq 'Max-Forwards: 70' } 0 .. $#gh;
        is(scalar @i, 1, "$name: \"Max-Forwards: 70\" added (none was sent)");
        splice(@gh, $i[0], 1) if @i == 1;
    }
    my @diff;
    my $max = @gh > @exp ? $#gh : $#exp;
    for my $i (0 .. $max) {
        my ($e, $x) = ($exp[$i], $gh[$i]);
        if (!defined $x || !defined $e) {
            push @diff, "header $i: want '" . (ref $e ? $e->[1] : $e // '(none)')
                . "' got '" . ($x // '(none)') . "'";
        } elsif (ref $e) {
            my ($ok, $why) = via_check($e->[1], $x, $o{srcport} // $from->port);
            push @diff, "sender's Via: $why\n  sent: $e->[1]\n  got:  $x"
                unless $ok;
        } elsif ($x ne $e) {
            push @diff, "header $i: want '$e' got '$x'";
        }
    }
    ok(!@diff, "$name: Via/Max-Forwards by the rules, every other header "
               . "byte-identical and in order")
        or diag(join("\n", @diff) . "\n--- got:\n" . Sip::show($got));
    ok($g->{body} eq $s->{body}, "$name: body identical ("
       . length($s->{body}) . " bytes)");
    return { bytes => $got, parsed => $g, branch => $branch // '',
             added => \%added };
}

# respond_ok(NAME, FWD, CODE REASON, %o) - the UAS answers FWD through the
# proxy; the UAC (o: to => socket) must get it minus our Via, identical
sub respond_ok
{
    my ($name, $fwd, $status, %o) = @_;
    return unless $fwd;
    my $to = $o{to} // $uac;
    my @h;
    for my $l (@{ $fwd->{parsed}{headers} }) {
        my $n = Sip::name_of($l);
        if ($n =~ /^(?:via|v|from|f|call-id|i|cseq)$/) {
            push @h, $l;
        } elsif ($n =~ /^(?:to|t)$/) {
            push @h, $l =~ /;tag=/ ? $l : "$l;tag=uas-$seq";
        }
    }
    my $compact = grep { /^v:/ } @h;
    push @h, ($compact ? 'm' : 'Contact') . ": <sip:bob\@127.0.0.1:$S>",
             ($compact ? 'l' : 'Content-Length') . ': 0';
    my $resp = Sip::msg("SIP/2.0 $status", \@h, '');
    my $want = Sip::msg("SIP/2.0 $status", [ @h[1 .. $#h] ], '');
    $uas->send($resp, $P);
    my ($got, $gport) = $to->recv(2);
    ok(defined $got, "$name: $status relayed to the UAC") or return;
    is($gport, $P, "$name: $status sent from the proxy's listen port");
    ok($got eq $want, "$name: $status is the UAS's minus our Via, byte-identical")
        or diag("want:\n" . Sip::show($want) . "\ngot:\n" . Sip::show($got));
}

sub nothing_at
{
    my ($sock, $what, $t) = @_;
    my ($x) = $sock->recv($t // 0.5);
    ok(!defined $x, $what) or diag("got:\n" . Sip::show($x));
}

my @CNT = qw(core:rcv_requests core:fwd_requests core:rcv_replies
             core:fwd_replies core:drop_replies);
my %base = map { $_ => $p->stat($_) // 0 } @CNT;
my ($nreq, $nrep) = (0, 0);

# --- A: plain INVITE with an empty rport ---------------------------------
my $A = invite(extra => [ 'User-Agent: test  UA/1.0 (odd   spacing ; kept)',
                          'X-Custom-Header:value-without-space',
                          'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS' ]);
my $fa = forward_ok('A INVITE, Via with empty rport', $A);
$nreq++;
respond_ok('A', $fa, '180 Ringing');
respond_ok('A', $fa, '200 OK');
$nrep += 2;

# retransmission: the same bytes again give the same forwarded bytes
my $fa2 = forward_ok('A INVITE retransmitted', $A);
$nreq++;
is($fa2 && $fa2->{bytes}, $fa && $fa->{bytes},
   'A retransmission: forwarded byte-identical (same branch)');

# CANCEL: same branch as its INVITE
my $pa = Sip::parse($A);
my $cancel = Sip::msg("CANCEL sip:bob\@127.0.0.1:$S SIP/2.0", [
    grep { Sip::name_of($_) =~ /^(?:via|max-forwards|from|to|call-id)$/ }
         @{ $pa->{headers} } ], '');
$cancel =~ s/\r\n\r\n$/\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n/;
my $fc = forward_ok('A CANCEL', $cancel);
$nreq++;
is($fc && $fc->{branch}, $fa && $fa->{branch}, 'CANCEL: same branch as its INVITE');
respond_ok('A CANCEL', $fc, '200 OK');
$nrep++;

# BYE in A's dialog: a new transaction, a different branch
my $bye = invite(method => 'BYE', callid => Sip::hval($pa, 'Call-ID'),
                 cseq => '2 BYE');
my $fb = forward_ok('A BYE', $bye);
$nreq++;
isnt($fb && $fb->{branch}, $fa && $fa->{branch},
     'BYE: a new transaction gets a different branch');
respond_ok('A BYE', $fb, '200 OK');
$nrep++;

# --- B: Via without rport, sent-by = source: untouched; folded header ----
my $B = invite(via => [ "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-B-1" ],
               extra => [ "Subject: a folded\r\n  subject line" ]);
my $fB = forward_ok('B no rport, same IP (Via untouched), folded header', $B);
$nreq++;
isnt($fB && $fB->{branch}, $fa && $fa->{branch}, 'B: its own branch');
respond_ok('B', $fB, '200 OK');
$nrep++;

# --- C: sent-by is a name: received= added; the response goes to
# received + the sent-by port
my $C = invite(via => [ "Via: SIP/2.0/UDP uac.example.invalid:$U;branch=z9hG4bK-C-1" ]);
my $fC = forward_ok('C sent-by is a hostname (received= added)', $C);
$nreq++;
respond_ok('C (to received:sent-by port, no DNS)', $fC, '200 OK');
$nrep++;

# --- D: sent-by unreachable, empty rport: the response must follow
# received/rport, not the sent-by
my $D = invite(via => [ "Via: SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bK-D-1;rport" ]);
my $fD = forward_ok('D sent-by 192.0.2.7, empty rport (received+rport)', $D);
$nreq++;
respond_ok('D (to received/rport)', $fD, '200 OK');
$nrep++;

# --- E: compact header forms, no Max-Forwards at all ---------------------
my $E = Sip::msg("INVITE sip:bob\@127.0.0.1:$S SIP/2.0", [
    "v: SIP/2.0/UDP 127.0.0.1:$U;rport;branch=z9hG4bK-E-1",
    "f: <sip:alice\@127.0.0.1:$U>;tag=e1",
    "t: <sip:bob\@127.0.0.1:$S>",
    "i: fwd-E\@127.0.0.1",
    'CSeq: 1 INVITE',
    "m: <sip:alice\@127.0.0.1:$U>",
    'c: application/sdp',
    'l: AUTO' ], $SDP);
my $fE = forward_ok('E compact forms, no Max-Forwards (70 added)', $E);
$nreq++;
respond_ok('E (compact forms)', $fE, '200 OK');
$nrep++;

# --- F: two Via lines (the UAC is behind another proxy), Max-Forwards 1
my $F = invite(mf => 1, via => [
    "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-F-1;rport",
    'Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-F-up;received=192.0.2.10' ]);
my $fF = forward_ok('F two Via lines, Max-Forwards 1 -> 0', $F);
$nreq++;
respond_ok('F', $fF, '200 OK');
$nrep++;

# --- G: two Via values in one header line --------------------------------
my $G = invite(via => [
    "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-G-1;rport, "
    . 'SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-G-up' ]);
my $fG = forward_ok('G two Via values in one line', $G);
$nreq++;
respond_ok('G', $fG, '200 OK');
$nrep++;

# --- H: a big body --------------------------------------------------------
my $big = join('', map { sprintf("line %05d of a large MESSAGE body\r\n", $_) }
                   1 .. 500);
my $H = invite(method => 'MESSAGE', body => $big, ctype => 'text/plain');
my $fH = forward_ok('H MESSAGE with a ' . length($big) . '-byte body', $H);
$nreq++;
respond_ok('H', $fH, '202 Accepted');
$nrep++;

# --- the counters match what was sent ------------------------------------
{
    my %want = ('core:rcv_requests' => $nreq, 'core:fwd_requests' => $nreq,
                'core:rcv_replies' => $nrep, 'core:fwd_replies' => $nrep,
                'core:drop_replies' => 0);
    for my $c (@CNT) {
        $p->wait_stat($c, $base{$c} + $want{$c}, 2);
        is(($p->stat($c) // -1) - $base{$c}, $want{$c}, "$c: +$want{$c}");
    }
    is($uas->drain(0.2), 0, 'the UAS got nothing more than expected');
    is($uac->drain(0.2), 0, 'the UAC got nothing more than expected');
}

# --- a response whose top Via is not ours: dropped and counted -----------
{
    my $d0 = $p->stat('core:drop_replies') // 0;
    $uas->send(Sip::msg('SIP/2.0 200 OK', [
        'Via: SIP/2.0/UDP 192.0.2.55:5060;branch=z9hG4bK-notours',
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-x;rport=$U",
        "From: <sip:alice\@127.0.0.1:$U>;tag=x", "To: <sip:bob\@127.0.0.1:$S>;tag=y",
        'Call-ID: notours@127.0.0.1', 'CSeq: 1 INVITE', 'Content-Length: 0' ], ''),
        $P);
    nothing_at($uac, 'response with a foreign top Via: not relayed', 0.7);
    is($p->wait_stat('core:drop_replies', $d0 + 1), $d0 + 1,
       'response with a foreign top Via: core:drop_replies +1');
}

# --- malformed responses: dropped ----------------------------------------
for my $m (
    [ 'status code not a number', Sip::msg('SIP/2.0 2x0 OK', [
        "Via: SIP/2.0/UDP 127.0.0.1:$P;branch=z9hG4bKbad1",
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-bad1;rport=$U",
        "From: <sip:a\@127.0.0.1>;tag=1", "To: <sip:b\@127.0.0.1>;tag=2",
        'Call-ID: bad-resp-1', 'CSeq: 1 INVITE', 'Content-Length: 0' ], '') ],
    [ 'no Via at all', Sip::msg('SIP/2.0 200 OK', [
        "From: <sip:a\@127.0.0.1>;tag=1", "To: <sip:b\@127.0.0.1>;tag=2",
        'Call-ID: bad-resp-2', 'CSeq: 1 INVITE', 'Content-Length: 0' ], '') ],
    [ 'only our Via (nowhere to go)', Sip::msg('SIP/2.0 200 OK', [
        "Via: SIP/2.0/UDP 127.0.0.1:$P;branch=z9hG4bKbad3",
        "From: <sip:a\@127.0.0.1>;tag=1", "To: <sip:b\@127.0.0.1>;tag=2",
        'Call-ID: bad-resp-3', 'CSeq: 1 INVITE', 'Content-Length: 0' ], '') ],
) {
    $uas->send($m->[1], $P);
    nothing_at($uac, "malformed response ($m->[0]): dropped", 0.4);
    nothing_at($uas, "malformed response ($m->[0]): nothing bounced", 0.1);
}

# --- requests answered by the proxy itself -------------------------------
sub error_reply_ok
{
    my ($name, $bytes, $status_re) = @_;
    $uac->send($bytes, $P);
    my ($r, $port) = $uac->recv(2);
    ok(defined $r, "$name: a reply comes back") or return;
    my ($sl) = split(/\r\n/, $r);
    like($sl, $status_re, "$name: status line");
    is($port, $P, "$name: from the proxy's port");
    my $s = Sip::parse($bytes);
    my $g = Sip::parse($r);
    if ($g && $s) {
        for my $h ([ 'Call-ID', 'i' ], [ 'CSeq' ], [ 'From', 'f' ]) {
            my $sv = Sip::hval($s, @$h);
            is(Sip::hval($g, @$h), $sv, "$name: $h->[0] copied") if defined $sv;
        }
        my $sb = Sip::branch(Sip::hval($s, 'Via', 'v') // '');
        is(Sip::branch(Sip::hval($g, 'Via', 'v') // ''), $sb,
           "$name: the UAC's Via copied");
        my $to = Sip::hval($g, 'To', 't') // '';
        like($to, qr/;tag=/, "$name: To has a tag");
    }
    nothing_at($uas, "$name: nothing forwarded", 0.2);
}

error_reply_ok('Max-Forwards: 0', invite(mf => 0),
               qr{^SIP/2\.0 483 Too Many Hops$});
{
    my $m = invite();
    $m =~ s/^Call-ID: [^\r]*\r\n//m;
    error_reply_ok('no Call-ID', $m, qr{^SIP/2\.0 400 \S.*$});
}
error_reply_ok('CSeq not a number', invite(cseq => 'abc INVITE'),
               qr{^SIP/2\.0 400 \S.*$});
{
    my $m = invite();
    $m =~ s/^From: [^\r]*\r\n//m;
    error_reply_ok('no From', $m, qr{^SIP/2\.0 400 \S.*$});
}
error_reply_ok('Max-Forwards not a number', invite(mf => 'x'),
               qr{^SIP/2\.0 400 \S.*$});
{
    my $m = invite();
    $m =~ s{^INVITE (\S+) SIP/2\.0}{INVITE $1 SIP/3.0};
    error_reply_ok('SIP/3.0 request', $m, qr{^SIP/2\.0 505 \S.*$});
}
error_reply_ok('tel: Request-URI', invite(ruri => 'tel:+15551234567'),
               qr{^SIP/2\.0 416 \S.*$});

# --- garbage must not hurt anything ----------------------------------------
for my $g ("hello\r\n\r\n", "\r\n\r\n", "INVITE\r\n\r\n", 'x',
           join('', map { chr(($_ * 37 + 11) % 256) } 1 .. 300),
           "SIP/2.0 200 OK\r\n\r\n", "INVITE sip:bob\@127.0.0.1:$S SIP/2.0\r\n") {
    $uac->send($g, $P);
}
sleep 0.3;
$uac->drain(0.2);
nothing_at($uas, 'garbage: nothing forwarded', 0.2);

# --- loose routing: a top Route naming this proxy is removed -------------
{
    my $r1 = "Route: <sip:127.0.0.1:$P;lr>";
    my $m = invite(extra => [ $r1 ]);
    my $f = forward_ok('Route naming the proxy (popped, then RURI)', $m,
                       remove => [ $r1 ]);
    # the next Route wins over the Request-URI
    my $r2 = "Route: <sip:127.0.0.1:$S;lr>";
    $m = invite(ruri => 'sip:bob@127.0.0.1:9', extra => [ $r1, $r2 ]);
    forward_ok('two Routes: ours popped, sent to the next Route', $m,
               remove => [ $r1 ]);
}

# --- a hostname Request-URI (DNS not built yet): no crash -----------------
{
    my $u2 = $p->udp_socket;
    my $m = invite(ruri => 'sip:x@example.invalid',
                   via => [ 'Via: SIP/2.0/UDP 127.0.0.1:' . $u2->port
                            . ';branch=z9hG4bK-dns-1;rport' ]);
    $u2->send($m, $P);
    my ($r) = $u2->recv(6);
    if (defined $r) {
        cmp_ok(Sip::status($r) // 0, '>=', 400,
               'hostname RURI: answered with an error reply')
            or diag(Sip::show($r));
    } else {
        pass('hostname RURI: dropped (no reply)');
    }
    nothing_at($uas, 'hostname RURI: nothing reached the UAS', 0.1);
}

# --- still forwarding, and nothing crashed or restarted ----------------------
{
    my $f = forward_ok('after all the errors: still forwarding', invite());
    respond_ok('after all the errors', $f, '200 OK');
    my %now = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
    is_deeply(\%now, \%pids0, 'no process died or was restarted');
    my @r = grep { $_->{Restarts} ne '0' } $p->ps;
    ok(!@r, 'ps: Restarts=0 everywhere') or diag(Proxy::ps_text(\@r));
}
$p->stop;

# --- record_route = 1: our Record-Route on top -----------------------------
{
    my $q = Proxy->new(record_route => 1);
    my $Q = $q->port;
    local $P = $Q;
    local $OURVIA = qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$Q;branch=(z9hG4bK[-\w.!%*+`'~]+)$};
    my $rr = qr{^Record-Route: <sip:127\.0\.0\.1:$Q;(?:[^>]*;)?lr(?:[;=][^>]*)?>$};
    my $m = invite(extra => [ 'Record-Route: <sip:192.0.2.1;lr>' ]);
    my $f = forward_ok('record_route=1', $m, added => [ $rr ]);
    if ($f) {
        my @rrs = Sip::hdr($f->{parsed}, 'Record-Route');
        like($rrs[0] // '', $rr, 'record_route=1: ours is the first Record-Route');
    }
    $q->stop;
}

done_testing();
