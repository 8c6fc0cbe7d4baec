#!/usr/bin/perl
# RFC 3263 with a DNS server that refuses NAPTR queries (t/lib/FakeDns.pm:
# dnsmasq cannot refuse one record type), through the whole pipeline:
#
#   NAPTR REFUSED   sip:bob@uas.test: REFUSED to NAPTR, SRV records behind
#                   (_sip._tcp REFUSED too): every request is routed by
#                   SRV, none gets 503, and the log names the name, the
#                   query type and the rcode ("uas.test NAPTR: REFUSED")
#   RFC 2782        two targets of one priority, weights 20 and 80: over
#                   300 distinct Call-IDs each target's share is within 10
#                   points of its weight's share
#   one call        an INVITE and its CANCEL (same Call-ID) go to the same
#                   target, for 30 Call-IDs
#   SERVFAIL        sip:bob@sf.test: NAPTR SERVFAIL -> SRV
#   silence         sip:bob@drop.test: NAPTR never answered -> SRV after
#                   the timeout
#   everything      sip:bob@dead.test: every query REFUSED -> 503
#   dns_cache_dump  the MI lists uas.test with its two SRV targets, their
#                   priority and weight
#
# The Call-IDs are fixed (no pid), so the shares are the same every run.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Select;
use Time::HiRes qw(time);
use Proxy;
use Sip;
use Tcp;
use FakeDns;

my %uas = map { $_ => Proxy::UDP->new } qw(w20 w80 sf drop);
my %port = map { $_ => $uas{$_}->port } keys %uas;
my $dport = Tcp::free_port();
my $dns = FakeDns::start($dport, {
    'uas.test NAPTR' => 'REFUSED',
    '_sip._udp.uas.test SRV' => [[10, 20, $port{w20}, 'h1.test'],
                                 [10, 80, $port{w80}, 'h2.test']],
    '_sip._tcp.uas.test SRV' => 'REFUSED',
    'sf.test NAPTR' => 'SERVFAIL',
    '_sip._udp.sf.test SRV' => [[10, 0, $port{sf}, 'h1.test']],
    'drop.test NAPTR' => 'DROP',
    '_sip._udp.drop.test SRV' => [[10, 0, $port{drop}, 'h2.test']],
    'dead.test NAPTR' => 'REFUSED',
    '_sip._udp.dead.test SRV' => 'REFUSED',
    '_sip._tcp.dead.test SRV' => 'REFUSED',
    'dead.test A' => 'REFUSED',
    'h1.test A' => ['127.0.0.1'],
    'h2.test A' => ['127.0.0.1'],
}) or BAIL_OUT("fake DNS on port $dport: $!");
END { FakeDns::stop($dns) if $dns }

my $p = Proxy->new(sipd => 1, children => 2,
                   extra => { dns => [ "servers = 127.0.0.1:$dport",
                                       'timeout_ms = 400', 'tries = 1' ] });
my $P = $p->port;
my $uac = $p->udp_socket;
my $U = $uac->port;

sub request
{
    my ($method, $ruri, $callid, $seq) = @_;
    return Sip::msg("$method $ruri SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-ft-$callid;rport",
        'Max-Forwards: 70',
        "From: <sip:alice\@127.0.0.1:$U>;tag=ft$seq",
        "To: <$ruri>",
        "Call-ID: $callid",
        "CSeq: $seq $method",
        "Contact: <sip:alice\@127.0.0.1:$U>",
        'Content-Length: 0',
    ], '');
}

# where(METHOD, RURI, CALLID) - the UAS name the request reached, or
# "reply NNN" / "nothing"
sub where
{
    my ($method, $ruri, $callid) = @_;
    my %by = map { fileno($uas{$_}->fh) => $_ } keys %uas;
    my $sel = IO::Select->new($uac->fh, map { $_->fh } values %uas);
    $uac->send(request($method, $ruri, $callid, 1), $P);
    my $deadline = time + 5;
    while (time < $deadline) {
        for my $fh ($sel->can_read($deadline - time)) {
            my $n = $by{ fileno $fh };
            if (defined $n) {
                $uas{$n}->recv(0);
                return $n;
            }
            my ($r) = $uac->recv(0);
            return 'reply ' . (Sip::status($r) // '?') if defined $r;
        }
    }
    return 'nothing';
}

# --- NAPTR REFUSED: routed by SRV; RFC 2782 shares --------------------
my %n;
for my $i (1 .. 300) {
    $n{ where('OPTIONS', 'sip:bob@uas.test', "ft-$i\@uac.test") }++;
}
is(($n{w20} // 0) + ($n{w80} // 0), 300,
   'NAPTR REFUSED: all 300 requests routed by SRV')
    or diag(explain(\%n));
my $share = 100 * ($n{w80} // 0) / 300;
ok(abs($share - 80) <= 10,
   sprintf('weight 80 of 100 took %.1f%% of 300 Call-IDs', $share));
like($p->log, qr/uas\.test NAPTR: REFUSED/,
     'the log names the name, the type and the rcode');
unlike($p->log, qr/timeout after 0 ms/, 'no "timeout after 0 ms"');

# --- an INVITE and its CANCEL pick the same target --------------------
my $same = 0;
for my $i (1 .. 30) {
    my $cid = "inv-$i\@uac.test";
    my $a = where('INVITE', 'sip:bob@uas.test', $cid);
    my $b = where('CANCEL', 'sip:bob@uas.test', $cid);
    $same++ if $a eq $b && $a =~ /^w/;
}
is($same, 30, 'INVITE and CANCEL of one Call-ID: the same target, 30/30');

# --- other NAPTR failures; all refused --------------------------------
is(where('OPTIONS', 'sip:bob@sf.test', 'sf-1@uac.test'), 'sf',
   'NAPTR SERVFAIL: routed by SRV');
is(where('OPTIONS', 'sip:bob@drop.test', 'drop-1@uac.test'), 'drop',
   'NAPTR unanswered: routed by SRV after the timeout');
is(where('OPTIONS', 'sip:bob@dead.test', 'dead-1@uac.test'), 'reply 503',
   'every step REFUSED: 503');

# --- dns_cache_dump ---------------------------------------------------
my ($code, $reason, $l) = $p->mi('dns_cache_dump');
is($code, 200, 'dns_cache_dump: 200') or diag("$reason");
my @l = @{ $l // [] };
ok((grep { /^Entry:: uas\.test port=0 transport=any sips=0 status=ok ttl=\d+ targets=2$/ } @l),
   'dns_cache_dump: uas.test, 2 targets') or diag(join("\n", @l));
ok((grep { /^Target:: 127\.0\.0\.1:$port{w80} udp prio=10 weight=80$/ } @l),
   'dns_cache_dump: a target with its priority and weight');
ok((grep { /^Entry:: dead\.test .*status=error/ } @l),
   'dns_cache_dump: the refused name is cached as an error');
ok((grep { /^Entries:: \d+$/ } @l), 'dns_cache_dump: Entries:: count');
is($p->last_mi_raw =~ /\n\n\z/ ? 1 : 0, 1, 'reply ends with an empty line');

$p->stop;
done_testing;
