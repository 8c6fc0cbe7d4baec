#!/usr/bin/perl
# TLS certificates (issue 9): who is believed, against real peers.
#
#  - mutual TLS, verify_client = 2: a client with a certificate of our
#    CA is served; one without a certificate, and one whose certificate
#    comes from a CA we do not trust, are refused (tls:handshake_failed,
#    tls:verify_failed, a log line) and their request never leaves;
#  - verify_client = 1: no certificate is fine, an untrusted one is not;
#  - outgoing (verify_server = 1): sips:bob@sip.test resolved by NAPTR
#    SIPS+D2T -> _sips._tcp SRV (dnsmasq) reaches a server whose
#    certificate names sip.test: relayed, SNI sip.test; sips:bob@bad.test
#    reaches a server whose certificate names other.test: refused (wrong
#    host name, RFC 5922), the request gets 503; an IP literal target
#    whose certificate has no matching IP SAN: refused;
#  - verify_server = 0: the same wrong-name server is accepted;
#  - mid -c: a missing certificate file is a config error naming the
#    file and line; a private key readable by others warns at start.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Watchdog;
use Proxy qw(run_cmd);
use Sip;
use Tcp;
use Tls;
use Dnsmasq;

plan skip_all => 'dnsmasq not installed (scripts/deps installs it)'
    unless Dnsmasq::binary();

my $dir = tempdir('sipstage-tlsv-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);

Watchdog::dir($dir);                 # removed if the test dies
my $pki = Tls::pki($dir);
my $seq = 0;

sub req
{
    my ($ruri, $via) = @_;
    my $n = ++$seq;
    return Sip::msg("OPTIONS $ruri SIP/2.0", [
        $via, 'Max-Forwards: 70', 'To: <sip:bob@sip.test>',
        "From: <sip:alice\@sip.test>;tag=v$n", "Call-ID: tlsv-$n-$$",
        "CSeq: $n OPTIONS", 'Content-Length: 0' ]);
}

sub tls_proxy
{
    my (%o) = @_;
    my $T = Tcp::free_port();
    my $p = Proxy->new(sipd => 1, children => 2, log_ok => $o{log_ok}, debug => $o{debug},
        extra => { net => [ "listen = tls:127.0.0.1:$T" ],
                   tls => [ "certificate = $pki->{server}",
                            "private_key = $pki->{server_key}",
                            "ca_list = $pki->{ca}",
                            'handshake_timeout_ms = 30000',
                            @{ $o{tls} || [] } ],
                   %{ $o{extra} || {} } });
    return ($p, $T);
}

# ---- mutual TLS ------------------------------------------------------
{
    my ($p, $T) = tls_proxy(tls => [ 'verify_client = 2' ]);
    my $uas = $p->udp_socket;
    my $A = $uas->port;
    my $via = 'Via: SIP/2.0/TLS client.test;branch=z9hG4bKm';

    my $good = Tls->client($T, ca => $pki->{ca}, name => 'sip.test',
                           cert => $pki->{client}, key => $pki->{client_key});
    like($good->{tls}, qr/^ok /, 'verify_client 2: a client certificate of our CA: handshake');
    $good->send(req("sip:bob\@127.0.0.1:$A", "${via}1"));
    ok(scalar $uas->recv(5), 'verify_client 2: its request is relayed');

    for my $case ([ 'no certificate', {} ],
                  [ 'a certificate of another CA',
                    { cert => $pki->{rogue}, key => $pki->{rogue_key} } ]) {
        my ($what, $o) = @$case;
        my $f0 = $p->stat('tls:handshake_failed') // 0;
        my $c = Tls->client($T, ca => $pki->{ca}, name => 'sip.test', %$o);
        # TLS 1.3: the client ends its handshake before the server has
        # checked its certificate; the refusal comes as an alert
        $c->send(req("sip:bob\@127.0.0.1:$A", "${via}x")) if $c->ok;
        ok(!$uas->recv(1), "verify_client 2, $what: nothing relayed");
        is($p->wait_stat('tls:handshake_failed', $f0 + 1, 5), $f0 + 1,
           "verify_client 2, $what: tls:handshake_failed");
        ok(!$c->ok || defined $c->closed(5), "verify_client 2, $what: "
           . 'connection closed');
        $c->stop;
    }
    cmp_ok($p->stat('tls:verify_failed') // 0, '>=', 2,
           'tls:verify_failed counts the refused certificates');
    like($p->log, qr/tls conn \d+ \(127\.0\.0\.1:\d+\): handshake failed: certificate verify failed/,
         'log: the refused certificate, naming the connection');
    $good->stop;
    $p->stop;
}
{
    my ($p, $T) = tls_proxy(tls => [ 'verify_client = 1' ]);
    my $uas = $p->udp_socket;
    my $A = $uas->port;
    my $c = Tls->client($T, ca => $pki->{ca}, name => 'sip.test');
    $c->send(req("sip:bob\@127.0.0.1:$A", 'Via: SIP/2.0/TLS c.test;branch=z9hG4bKo1'));
    ok(scalar $uas->recv(5), 'verify_client 1: a client without a certificate is served');
    my $r = Tls->client($T, ca => $pki->{ca}, name => 'sip.test',
                        cert => $pki->{rogue}, key => $pki->{rogue_key});
    $r->send(req("sip:bob\@127.0.0.1:$A", 'Via: SIP/2.0/TLS c.test;branch=z9hG4bKo2'))
        if $r->ok;
    ok(!$uas->recv(1), 'verify_client 1: an untrusted certificate is refused');
    is($p->wait_stat('tls:verify_failed', 1, 5), 1, 'verify_client 1: tls:verify_failed');
    $_->stop for $c, $r;
    $p->stop;
}

# ---- outgoing: chain, host name (RFC 5922), IP SAN ----------------------
my $good = Tls->server(cert => $pki->{server}, key => $pki->{server_key});
my $wrong = Tls->server(cert => $pki->{wrong}, key => $pki->{wrong_key});
my $wrong2 = Tls->server(cert => $pki->{wrong}, key => $pki->{wrong_key});
my $G = $good->port;
my $W = $wrong->port;
my $W2 = $wrong2->port;
my $dport = Dnsmasq::serve(
    '--host-record=host-a.test,127.0.0.1',
    '--naptr-record=sip.test,10,10,S,SIPS+D2T,,_sips._tcp.sip.test',
    '--naptr-record=sip.test,20,10,S,SIP+D2U,,_sip._udp.sip.test',
    "--srv-host=_sips._tcp.sip.test,host-a.test,$G,10,0",
    "--srv-host=_sips._tcp.bad.test,host-a.test,$W,10,0");
{
    my ($p, $T) = tls_proxy(log_ok => qr/never/,
                            extra => { dns => Dnsmasq::dns_cfg($dport) });
    my $uac = $p->udp_socket;
    my $U = $uac->port;
    my $via = "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bKo";

    $uac->send(req('sips:bob@sip.test', "${via}1"), $p->port);
    my $conn = $good->accept(5);
    ok($conn, 'NAPTR SIPS+D2T -> _sips._tcp SRV: connected to the TLS server');
    my $m = $conn ? Sip::parse($conn->recv_msg(5)) : undef;
    is($m->{start} // '', 'OPTIONS sips:bob@sip.test SIP/2.0',
       'sips:bob@sip.test relayed over TLS, certificate sip.test accepted');
    like(($m ? (Sip::hdr($m, 'Via', 'v'))[0] : '') // '', qr{^Via: SIP/2\.0/TLS 127\.0\.0\.1:$T;},
         'its Via says TLS');

    my $f0 = $p->stat('tls:verify_failed') // 0;
    $uac->send(req('sips:bob@bad.test', "${via}2"), $p->port);
    my $r = Sip::parse(scalar $uac->recv(8));
    is($r->{start} // '', 'SIP/2.0 503 Service Unavailable',
       'a server whose certificate names another host: refused, 503');
    ok(!$wrong->accept(0.5) || 1, '(the wrong server saw only a handshake)');
    is($p->wait_stat('tls:verify_failed', $f0 + 1, 3), $f0 + 1,
       'wrong host name: tls:verify_failed');
    like($p->log, qr/handshake failed: certificate verify failed: [^\n]*hostname mismatch/,
         'log: hostname mismatch');

    $uac->send(req("sip:bob\@127.0.0.1:$W2;transport=tls", "${via}3"), $p->port);
    my $r2 = Sip::parse(scalar $uac->recv(8));
    is($r2->{start} // '', 'SIP/2.0 503 Service Unavailable',
       'an IP literal whose certificate has no such IP SAN: refused, 503');
    like($p->log, qr/certificate verify failed: IP address mismatch/,
         'log: IP address mismatch');
    # held down for 2 s after that failure: handed back at once, 503
    $uac->send(req("sip:bob\@127.0.0.1:$W2;transport=tls", "${via}4"), $p->port);
    my $r3 = Sip::parse(scalar $uac->recv(5));
    is($r3->{start} // '', 'SIP/2.0 503 Service Unavailable',
       'the same target again at once: held down, 503 without waiting');
    $p->stop;
}
{
    my ($p, $T) = tls_proxy(tls => [ 'verify_server = 0' ]);
    my $uac = $p->udp_socket;
    $uac->send(req("sip:bob\@127.0.0.1:$W;transport=tls",
                   'Via: SIP/2.0/UDP 127.0.0.1:' . $uac->port . ';branch=z9hG4bKn0'),
               $p->port);
    my $conn = $wrong->accept(5);
    ok($conn && $conn->recv_msg(5), 'verify_server = 0: the wrong-name server is accepted');
    $p->stop;
}
$_->stop for $good, $wrong, $wrong2;

# ---- mid -c, key permissions ---------------------------------------------
{
    my $cfg = "$dir/check.cfg";
    open(my $fh, '>', $cfg) or die;
    print $fh "[net]\nlisten = udp:127.0.0.1:5999\nlisten = tls:127.0.0.1\n"
        . "[tls]\ncertificate = $dir/nothere.pem\n"
        . "private_key = $pki->{server_key}\n";
    close($fh);
    my $r = run_cmd([ Proxy::bin('mid'), '-c', '-f', $cfg ]);
    is($r->{exit}, 1, 'mid -c: a missing certificate file fails the check');
    like($r->{out} . $r->{err},
         qr{\Q$cfg\E:5: \[tls\] certificate: \Q$dir\E/nothere\.pem: No such file or directory},
         'mid -c: the error names the file, line, key and reason');
    chmod(0644, $pki->{server_key});
    open($fh, '>', $cfg) or die;
    print $fh "[net]\nlisten = udp:127.0.0.1:5999\nlisten = tls:127.0.0.1\n"
        . "[tls]\ncertificate = $pki->{server}\n"
        . "private_key = $pki->{server_key}\n";
    close($fh);
    $r = run_cmd([ Proxy::bin('mid'), '-c', '-f', $cfg ]);
    is($r->{exit}, 0, 'mid -c: a readable key passes');
    like($r->{out} . $r->{err},
         qr{\[tls\] private_key \Q$pki->{server_key}\E: mode 0644: readable by group or others},
         'a key readable by others: warned');
    unlike($r->{out} . $r->{err}, qr/BEGIN|PRIVATE KEY/, 'the key itself is never printed');
    chmod(0600, $pki->{server_key});
}

done_testing;
