#!/usr/bin/perl
# TLS across a netd restart (issue 9): MI stage_restart netd closes every
# TLS connection cleanly - the clients and the server we had connected to
# get close_notify, not a bare FIN or a reset - and they reconnect to
# the new netd and go on: requests relayed both ways again, the reloaded
# certificate in use (netd builds its SSL_CTX at start).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Watchdog;
use Proxy;
use Sip;
use Tcp;
use Tls;

my $dir = tempdir('sipstage-tlsr-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);

Watchdog::dir($dir);                 # removed if the test dies
my $pki = Tls::pki($dir);
my $T = Tcp::free_port();
my $p = Proxy->new(sipd => 1, children => 2,
    extra => { net => [ "listen = tls:127.0.0.1:$T" ],
               tls => [ "certificate = $pki->{server}",
                        "private_key = $pki->{server_key}",
                        "ca_list = $pki->{ca}",
                        'handshake_timeout_ms = 30000' ] });
my $uas = $p->udp_socket;
my $A = $uas->port;
my $uac = $p->udp_socket;
my $U = $uac->port;
my $srv = Tls->server(cert => $pki->{server}, key => $pki->{server_key});
my $S = $srv->port;
my $n = 0;

sub opt
{
    my ($ruri, $via) = @_;
    $n++;
    return Sip::msg("OPTIONS $ruri SIP/2.0", [
        "$via$n", 'Max-Forwards: 70', 'To: <sip:bob@sip.test>',
        "From: <sip:a\@sip.test>;tag=$n", "Call-ID: rst-$n-$$",
        "CSeq: $n OPTIONS", 'Content-Length: 0' ]);
}

# tls_in(C, WHAT) - client C's request reaches the UDP UAS
sub tls_in
{
    my ($c, $what) = @_;
    $c->send(opt("sip:bob\@127.0.0.1:$A", 'Via: SIP/2.0/TLS c.test;branch=z9hG4bKr'));
    my ($m) = $uas->recv(5);
    ok($m && $m =~ /^OPTIONS /, "$what: TLS client -> UDP relayed");
}

# tls_out(WHAT) - a UDP request reaches the TLS server; its connection
sub tls_out
{
    my ($what, $conn) = @_;
    $uac->send(opt("sip:bob\@127.0.0.1:$S;transport=tls",
                   "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bKo"), $p->port);
    $conn //= $srv->accept(5);
    my $m = $conn ? $conn->recv_msg(5) : undef;
    ok($m && $m =~ /^OPTIONS /, "$what: UDP -> TLS server relayed");
    return $conn;
}

my @c = map { Tls->client($T, ca => $pki->{ca}, name => 'sip.test') } 1 .. 3;
is(scalar(grep { $_->{tls} =~ /^ok / } @c), 3, 'three TLS clients connected')
    or diag(join(' | ', map { $_->{tls} } @c));
tls_in($_, 'before') for @c;
my $conn = tls_out('before');
like($srv->line(3) // '', qr/^accepted ok /, 'the proxy connected to the TLS server');

my %before = map { $_->{Type} => $_->{PID} } $p->ps;
my ($code) = $p->mi('stage_restart', 'netd');
is($code, 200, 'stage_restart netd: 200');
my @ps = $p->wait_ps(sub {
    my ($d) = grep { $_->{Type} eq 'netd' } @_;
    $d && $d->{PID} != $before{netd} && $d->{State} eq 'running'
}, 10);
ok(@ps, 'netd runs again with a new pid') or diag(Proxy::ps_text($p->{last_ps}));

is($_->closed(5) // 'still open', 'clean', 'a client got close_notify from the old netd')
    for @c;
my $sl = '';
for (1 .. 5) {
    my $l = $srv->line(3) // last;
    $sl = $l, last if $l =~ /^closed /;
}
is($sl, 'closed clean', 'the TLS server got close_notify too');
$_->stop for @c;

# reconnect and go on
my @d = map { Tls->client($T, ca => $pki->{ca}, name => 'sip.test') } 1 .. 3;
is(scalar(grep { $_->{tls} =~ /^ok / } @d), 3, 'the clients reconnect to the new netd')
    or diag(join(' | ', map { $_->{tls} } @d));
tls_in($_, 'after') for @d;
tls_out('after');
like($srv->line(3) // '', qr/^accepted ok /, 'the new netd connected to the server again');
is($p->stat('tls:handshake_failed') // -1, 0, 'no handshake failed');

$_->stop for @d;
$srv->stop;
$p->stop;
done_testing;
