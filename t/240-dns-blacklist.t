#!/usr/bin/perl
# dnsd's blacklist of failed targets, seen through the MI:
#
#   empty          dns_blacklist_dump: "Entries:: 0"
#   failure        sip:bob@bl.test;transport=tcp resolves (SRV) to two
#                  TCP targets where nothing listens: netd's connects are
#                  refused, sipd reports each (MSG_T_DNS_FAILED) and the
#                  UAC gets 503; dns_blacklist_dump lists both targets
#                  (address:port, transport, seconds left <= [dns]
#                  blacklist_s, reason), dns:blacklist_added counts them
#   skipped        the next request finds every target blacklisted: 503
#                  at once, dns:blacklist_skipped goes up
#   flush          dns_blacklist_flush: 200, then "Entries:: 0" and
#                  dns:blacklist_size 0
#
# DNS comes from t/lib/FakeDns.pm.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Proxy;
use Sip;
use Tcp;
use FakeDns;

my @closed = (Tcp::free_port(), Tcp::free_port());
my $dport = Tcp::free_port();
my $dns = FakeDns::start($dport, {
    'bl.test NAPTR' => 'NODATA',
    '_sip._tcp.bl.test SRV' => [[10, 0, $closed[0], 'h1.test'],
                                [20, 0, $closed[1], 'h1.test']],
    'h1.test A' => ['127.0.0.1'],
}) or BAIL_OUT("fake DNS on port $dport: $!");
END { FakeDns::stop($dns) if $dns }

# udp for the UAC, tcp so that netd loads the TCP transport
my $p = Proxy->new(sipd => 1, children => 1, tcp => 1, extra => {
    dns => [ "servers = 127.0.0.1:$dport", 'timeout_ms = 400', 'tries = 1',
             'blacklist_s = 30' ],
});
my $P = $p->port;
my $uac = $p->udp_socket;
my $U = $uac->port;

sub dump_bl
{
    my ($code, $reason, $l) = $p->mi('dns_blacklist_dump');
    is($code, 200, "dns_blacklist_dump: 200") or diag($reason);
    return @{ $l // [] };
}

sub invite
{
    my ($n) = @_;
    my $ruri = 'sip:bob@bl.test;transport=tcp';
    $uac->send(Sip::msg("INVITE $ruri SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-bl-$n;rport",
        'Max-Forwards: 70',
        "From: <sip:alice\@127.0.0.1:$U>;tag=bl$n",
        "To: <$ruri>",
        "Call-ID: bl-$n\@uac.test",
        'CSeq: 1 INVITE',
        "Contact: <sip:alice\@127.0.0.1:$U>",
        'Content-Length: 0',
    ], ''), $P);
    my $deadline = time + 6;
    while (time < $deadline) {
        my ($r) = $uac->recv(1);
        next unless defined $r;
        my $s = Sip::status($r) // 0;
        return $s if $s >= 200;
    }
    return 'nothing';
}

my @l = dump_bl();
is_deeply(\@l, [ 'Entries:: 0' ], 'empty blacklist: Entries:: 0');

is(invite(1), 503, 'both targets refused: 503');
my $added = $p->wait_stat('dns:blacklist_added', 2, 3);
is($added, 2, 'dns:blacklist_added: 2');
@l = dump_bl();
for my $port (@closed) {
    my ($e) = grep { /^Target:: 127\.0\.0\.1:$port tcp / } @l;
    like($e // '', qr/ expires=(\d+) reason=refused$/,
         "port $port listed with seconds left and reason")
        or diag(join("\n", @l));
    ok(defined $e && $e =~ /expires=(\d+)/ && $1 <= 30 && $1 > 20,
       "port $port: expires within blacklist_s (30)");
}
ok((grep { $_ eq 'Entries:: 2' } @l), 'Entries:: 2');
is($p->stat('dns:blacklist_size'), 2, 'dns:blacklist_size: 2');

my $skipped0 = $p->stat('dns:blacklist_skipped') // 0;
is(invite(2), 503, 'every target blacklisted: 503');
ok(($p->stat('dns:blacklist_skipped') // 0) >= $skipped0 + 2,
   'dns:blacklist_skipped counts the skipped targets');

my ($code) = $p->mi('dns_blacklist_flush');
is($code, 200, 'dns_blacklist_flush: 200');
@l = dump_bl();
is_deeply(\@l, [ 'Entries:: 0' ], 'flushed: Entries:: 0');
is($p->stat('dns:blacklist_size'), 0, 'dns:blacklist_size: 0');

$p->stop;
done_testing;
