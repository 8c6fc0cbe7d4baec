#!/usr/bin/perl
# Failover when a next hop fails, with no per-transaction state in sipd.
# dnsmasq on 127.0.0.1 serves SRV targets at priorities 10 and 20; the
# priority-10 one is down (nothing listens on its port):
#
#   TCP  sip:bob@fo.test;transport=tcp   netd's connect is refused, the
#        INVITE goes back to sipd (MSG_F_SEND_FAILED), which tells dnsd
#        and resolves again: it reaches the priority-20 target at once.
#        Its CANCEL (same Call-ID, no state) goes there too.
#   UDP  sip:bob@fo.test;transport=udp   the kernel reports the ICMP port
#        unreachable (IP_RECVERR); dnsd learns the target is down, and
#        the UAC's retransmission (this test retransmits like one, T1 =
#        500 ms) reaches the priority-20 target.
#   all down  sip:bob@down.test;transport=tcp   503 Service Unavailable
#        comes back to the UAC (from us, our Via removed); an ACK is
#        dropped.
#   RFC 3261 18.1.1  a 1,331-byte INVITE to sip:bob@127.0.0.1:PORT goes
#        over TCP (over 1300 bytes); only UDP listens there: the connect
#        is refused and the INVITE is sent again over UDP, our Via saying
#        UDP.
#   counters  core:fwd_requests counts what was written, not a request
#        whose connect was refused; net:send_failed counts the failures,
#        sipd:failovers the retries.
#   sipp  50 calls while the first UDP target is down: every call
#        completes through the second one.
#
# Skipped without dnsmasq (scripts/deps installs it).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Proxy;
use Sip;
use Tcp;
use Dnsmasq;

plan skip_all => 'dnsmasq not installed (scripts/deps installs it)'
    unless Dnsmasq::binary();


# Targets: dead ports are free ones nothing listens on (TCP: RST; UDP:
# ICMP port unreachable on loopback).
my $live_t = Tcp->listen;
my $LT = $live_t->port;
my $DT = Tcp::free_port();
my $DT2 = Tcp::free_port();
my $live_u = Proxy::UDP->new;
my $LU = $live_u->port;
my $DU = Tcp::free_port();
my $sipp_dead = Tcp::free_port();
my $sipp_port = Tcp::free_port();

my $dport = Dnsmasq::serve(
    '--host-record=tgt.test,127.0.0.1',
    "--srv-host=_sip._tcp.fo.test,tgt.test,$DT,10,0",
    "--srv-host=_sip._tcp.fo.test,tgt.test,$LT,20,0",
    "--srv-host=_sip._udp.fo.test,tgt.test,$DU,10,0",
    "--srv-host=_sip._udp.fo.test,tgt.test,$LU,20,0",
    "--srv-host=_sip._tcp.down.test,tgt.test,$DT,10,0",
    "--srv-host=_sip._tcp.down.test,tgt.test,$DT2,20,0",
    "--srv-host=_sip._udp.calls.test,tgt.test,$sipp_dead,10,0",
    "--srv-host=_sip._udp.calls.test,tgt.test,$sipp_port,20,0");

my $p = Proxy->new(sipd => 1, children => 2, tcp => 1, extra => {
    dns => Dnsmasq::dns_cfg($dport),
});
my $P = $p->port;

my $uac = $p->udp_socket;
my $U = $uac->port;
my $n = 0;

# request(METHOD, RURI, [CALL_ID, BRANCH, BODY]) - from the UAC over UDP
sub request
{
    my ($method, $ruri, $cid, $br, $body) = @_;
    $n++;
    $cid //= "fo-$n-$$\@127.0.0.1";
    $br //= "z9hG4bK-fo-$n";
    $body //= '';
    return Sip::msg("$method $ruri SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=$br",
        'Max-Forwards: 70',
        "From: <sip:alice\@127.0.0.1:$U>;tag=fo$n",
        "To: <$ruri>",
        "Call-ID: $cid",
        "CSeq: 1 $method",
        "Contact: <sip:alice\@127.0.0.1:$U>",
        'Content-Length: AUTO',
    ], $body);
}

sub top_via { my $g = Sip::parse($_[0]); return $g ? ($g->{headers}[0] // '') : '' }

# --- TCP: connect refused, next target at once -------------------------
my $fwd0 = $p->stat('core:fwd_requests') // 0;
my $ruri = 'sip:bob@fo.test;transport=tcp';
my $cid = "fo-tcp-$$\@127.0.0.1";
my $inv = request('INVITE', $ruri, $cid, 'z9hG4bK-fo-inv');
$uac->send($inv, $P);
my $conn = $live_t->accept(5);
ok($conn, 'TCP: refused by the priority-10 target, the INVITE reached '
   . 'the priority-20 one') or diag($p->log_tail(20));
my $got = $conn ? $conn->recv_msg(5) : undef;
like($got // '', qr{^INVITE \Q$ruri\E SIP/2\.0\r\n}, 'TCP: the INVITE');
like(top_via($got), qr{^Via: SIP/2\.0/TCP 127\.0\.0\.1:$P;branch=z9hG4bK},
     'TCP: one Via of ours, naming TCP');
is(scalar(() = ($got // '') =~ /\r\nVia: SIP\/2\.0\/TCP /g), 1,
   'TCP: no second Via of ours');
like($got // '', qr{\r\nMax-Forwards: 69\r\n}, 'TCP: Max-Forwards 69 (once)');
my ($early) = $uac->recv(0.3);
ok(!defined $early || Sip::status($early) != 503, 'TCP: no 503 upstream');

# The CANCEL: no state in sipd; dnsd skips the target that failed for
# every resolution, and orders SRV targets from the Call-ID hash.
$uac->send(request('CANCEL', $ruri, $cid, 'z9hG4bK-fo-inv'), $P);
my $c2 = $conn ? $conn->recv_msg(3) : undef;
my $c2conn;
if (!defined $c2) {                     # on a new connection, maybe
    $c2conn = $live_t->accept(3);
    $c2 = $c2conn->recv_msg(3) if $c2conn;
}
like($c2 // '', qr{^CANCEL \Q$ruri\E SIP/2\.0\r\n},
     'TCP: the CANCEL went where its INVITE went');
is(Sip::branch(top_via($c2)), Sip::branch(top_via($got)),
   'TCP: CANCEL and INVITE carry the same branch of ours');
is($p->wait_stat('core:fwd_requests', $fwd0 + 2, 3), $fwd0 + 2,
   'core:fwd_requests: 2 (the refused attempt is not counted)');
cmp_ok($p->stat('net:send_failed') // 0, '>=', 1, 'net:send_failed counted');
cmp_ok($p->stat('sipd:failovers') // 0, '>=', 1, 'sipd:failovers counted');

# --- all targets down: 503 upstream; ACK dropped -------------------------
my $down = 'sip:bob@down.test;transport=tcp';
my $fwd1 = $p->stat('core:fwd_requests') // 0;
my $failed1 = $p->stat('net:send_failed') // 0;
$uac->send(request('INVITE', $down, undef, 'z9hG4bK-fo-down'), $P);
my ($r503) = $uac->recv(8);
is(Sip::status($r503), 503, 'all down: 503 to the UAC')
    or diag(Sip::show($r503) . $p->log_tail(20));
like($r503 // '', qr{^SIP/2\.0 503 Service Unavailable\r\n},
     'all down: Service Unavailable');
like(top_via($r503), qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$U;branch=z9hG4bK-fo-down},
     "all down: the UAC's Via on top (ours removed)");
unlike($r503 // '', qr{SIP/2\.0/TCP}, 'all down: no Via of ours left');
is($p->stat('core:fwd_requests') // 0, $fwd1,
   'all down: core:fwd_requests does not count an INVITE that never left');
cmp_ok($p->stat('net:send_failed') // 0, '>', $failed1,
       'all down: net:send_failed counts the failure');
$uac->drain(0.3);
my $drops = $p->stat('core:drop_requests') // 0;
$uac->send(request('ACK', $down, undef, 'z9hG4bK-fo-ack'), $P);
my ($ackr) = $uac->recv(3);
ok(!defined $ackr, 'all down: an ACK gets nothing')
    or diag(Sip::show($ackr));
cmp_ok($p->wait_stat('core:drop_requests', $drops + 1, 3) // 0, '>', $drops,
       'all down: the ACK is dropped (core:drop_requests)');

# --- UDP: ICMP port unreachable, the UAC's retransmission fails over -----
my $ururi = 'sip:bob@fo.test;transport=udp';
my $ureq = request('INVITE', $ururi, undef, 'z9hG4bK-fo-udp');
my ($ugot, $tries) = (undef, 0);
for my $t (0.5, 1, 2, 2) {              # T1, doubling, like a UAC
    $uac->send($ureq, $P);
    $tries++;
    ($ugot) = $live_u->recv($t);
    last if defined $ugot;
}
like($ugot // '', qr{^INVITE \Q$ururi\E SIP/2\.0\r\n},
     "UDP: the retransmission reached the priority-20 target ($tries sends)")
    or diag($p->log_tail(20));
cmp_ok($tries, '<=', 2, 'UDP: the first retransmission already did');

# --- RFC 3261 18.1.1: 1,331 bytes, TCP refused, again over UDP ----------
my $big_uas = Proxy::UDP->new;
my $B = $big_uas->port;                 # nothing listens on TCP $B
my $bruri = "sip:bob\@127.0.0.1:$B";
my ($big, $blen) = ('', 900);
for (1 .. 3) {                          # the body so that it is 1,331
    $n = 99;                            # the same tag each time
    $big = request('INVITE', $bruri, "fo-big-$$\@127.0.0.1",
                   'z9hG4bK-fo-big', 'v=0' . ('x' x ($blen - 5)) . "\r\n");
    $blen += 1331 - length($big);
}
is(length($big), 1331, 'the INVITE is 1,331 bytes');
$uac->send($big, $P);
my ($bgot) = $big_uas->recv(5);
like($bgot // '', qr{^INVITE \Q$bruri\E SIP/2\.0\r\n},
     '1,331 bytes: TCP refused, the INVITE arrived over UDP')
    or diag($p->log_tail(20));
like(top_via($bgot), qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P;branch=z9hG4bK},
     '1,331 bytes: our Via says UDP');

# --- sipp: calls while the first target is down ---------------------------
SKIP: {
    skip 'sipp not installed', 2 unless -x '/usr/bin/sipp'
        || `which sipp 2>/dev/null`;
    my $CALLS = 50;
    # sipp's own uac scenario, its requests for a name sipp cannot
    # resolve itself: sip:bob@calls.test (SRV: dead, then the uas)
    my $sf = $p->dir . '/uac-calls.xml';
    my $xml = `sipp -sd uac 2>/dev/null`;
    $xml =~ s{sip:\[service\]\@\[remote_ip\]:\[remote_port\] SIP/2\.0}
             {sip:[service]\@calls.test;transport=udp SIP/2.0}g;
    Proxy::spew($sf, $xml);
    my $uas = $p->sipp_uas(port => $sipp_port);
    my $r = $p->sipp(sf => $sf, remote => "127.0.0.1:$sipp_port",
                     rsa => "127.0.0.1:$P", m => $CALLS, r => 25,
                     timeout => 40);
    is($r->{rc}, 0, "sipp: all $CALLS calls completed through the second "
       . 'target') or Proxy::sipp_diag($r);
    $p->sipp_wait_calls($uas, $CALLS, 10);
    my $u = $p->sipp_stop($uas);
    cmp_ok($u->{successful} // 0, '>=', $CALLS, 'sipp uas: every call')
        or Proxy::sipp_diag($u);
}

$p->stop;
done_testing();
