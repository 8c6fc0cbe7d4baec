#!/usr/bin/perl
# Advertised addresses: "listen = [proto:]IP[:port] as HOST[:PORT]"
# (OpenSIPS syntax). The test plays UAC and UAS itself over UDP.
#
#  - mid -c refuses a wildcard listen (0.0.0.0, [::]) without "as",
#    naming FILE:LINE, and accepts it with "as";
#  - with "as sip.example.com:5099" and record_route = 1, a forwarded
#    request carries "Via: SIP/2.0/UDP sip.example.com:5099;branch=..."
#    and "Record-Route: <sip:sip.example.com:5099;lr>";
#  - the response, whose top Via names the advertised address, is ours:
#    relayed to the UAC without it;
#  - an in-dialog request whose Route names the advertised address (or
#    the socket's own IP and port) has it removed and goes to the RURI.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Proxy qw(run_cmd bin);
use Sip;

my $ADV = 'sip.example.com:5099';

# ---- mid -c: wildcard without "as" ---------------------------------------
{
    my $dir = Proxy::make_tempdir();
    my %cases = (
        'udp 0.0.0.0' => ["listen = udp:0.0.0.0:5060", 3, '0.0.0.0'],
        'tcp [::]' => ["listen = tcp:[::]:5070", 3, '[::]'],
    );
    for my $name (sort keys %cases) {
        my ($line, $n, $shown) = @{ $cases{$name} };
        my $f = "$dir/w.cfg";
        Proxy::spew($f, "[net]\nlisten = 127.0.0.1:5060\n$line\n");
        my $r = run_cmd([bin('mid'), '-c', '-f', $f], timeout => 10);
        is($r->{exit}, 1, "mid -c: $name without as: exit 1");
        like($r->{err} . $r->{out},
             qr{\Q$f\E:$n: \[net\] listen: wildcard address \Q$shown\E needs "as HOST\[:PORT\]"},
             "mid -c: $name without as: FILE:LINE and reason");
        Proxy::spew($f, "[net]\nlisten = 127.0.0.1:5060\n$line as pub.example.com\n");
        $r = run_cmd([bin('mid'), '-c', '-f', $f], timeout => 10);
        is($r->{exit}, 0, "mid -c: $name as pub.example.com: accepted")
            or diag($r->{err});
    }
}

# ---- a running proxy with "as" -------------------------------------------
my $p = Proxy->new(sipd => 1, children => 2, record_route => 1,
                   no_start => 1);
my $P = $p->port;
my $cfg = $p->config_text;
$cfg =~ s{^listen = udp:127\.0\.0\.1:$P$}{listen = udp:127.0.0.1:$P as $ADV}m
    or BAIL_OUT('no listen line to rewrite');
Proxy::spew($p->cfg, $cfg);
$p->start;

my $uac = $p->udp_socket;
my $uas = $p->udp_socket;
my ($U, $S) = ($uac->port, $uas->port);
my $cid = "adv-$$\@127.0.0.1";

sub req
{
    my ($method, $cseq, @extra) = @_;
    return Sip::msg("$method sip:bob\@127.0.0.1:$S SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-adv-$cseq;rport",
        'Max-Forwards: 70', @extra,
        "From: <sip:alice\@127.0.0.1:$U>;tag=a1",
        "To: <sip:bob\@127.0.0.1:$S>" . ($method eq 'INVITE' ? '' : ';tag=b1'),
        "Call-ID: $cid", "CSeq: $cseq $method",
        "Contact: <sip:alice\@127.0.0.1:$U>", 'Content-Length: 0' ], '');
}

$uac->send(req('INVITE', 1), $P);
my ($got) = $uas->recv(3);
ok($got, 'INVITE forwarded') or diag($p->log_tail(20));
my $q = Sip::parse($got // '');
my @via = Sip::hdr($q, 'Via', 'v');
like($via[0] // '', qr{^Via: SIP/2\.0/UDP \Q$ADV\E;branch=z9hG4bKsS[0-9a-f]+$},
     'our Via names the advertised address');
is_deeply([ Sip::hdr($q, 'Record-Route') ],
          ["Record-Route: <sip:$ADV;lr>"],
          'Record-Route names the advertised address');

# The UAS answers; the proxy recognises its advertised Via.
my @h = grep { Sip::name_of($_) =~ /^(?:via|v|from|to|call-id|cseq|record-route)$/i }
    @{ $q->{headers} };
s/^(To: .*)$/$1;tag=b1/ for @h;
$uas->send(Sip::msg('SIP/2.0 200 OK', [ @h,
    "Contact: <sip:bob\@127.0.0.1:$S>", 'Content-Length: 0' ], ''), $P);
my ($resp) = $uac->recv(3);
is(Sip::status($resp // ''), 200, '200 relayed to the UAC');
my $rp = Sip::parse($resp // '');
is(scalar(() = Sip::hdr($rp, 'Via', 'v')), 1, 'our Via removed from it');
is(Sip::hval($rp, 'Record-Route'), "<sip:$ADV;lr>",
   'the UAC sees the advertised Record-Route');

# In-dialog: Route naming the advertised address, then the real one.
for my $case (["<sip:$ADV;lr>", 'advertised name', 2],
              ["<sip:127.0.0.1:$P;lr>", 'socket IP and port', 3]) {
    my ($route, $name, $cseq) = @$case;
    $uac->send(req('BYE', $cseq, "Route: $route"), $P);
    my ($bye) = $uas->recv(3);
    ok($bye, "BYE with Route $name forwarded to the RURI");
    my $b = Sip::parse($bye // '');
    is(scalar(Sip::hdr($b, 'Route')), 0, "Route naming the $name removed");
}

is($p->stat('core:drop_replies'), 0, 'no reply dropped');
$p->stop;
done_testing;
