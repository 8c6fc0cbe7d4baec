#!/usr/bin/perl
# RFC 4475 (SIP torture test messages) end to end over UDP through the
# real pipeline: each t/data/rfc4475/NAME.msg is sent to the proxy and
# NAME.expect says what must come out (see t/data/rfc4475/gen.pl and
# t/unit/sipd_rfc4475.c, which runs the same corpus through sipd_route()).
#
#   forward    the message is sent with one extra first header,
#              "Route: <sip:127.0.0.1:UAS;lr>", so that it reaches the
#              test's UAS without DNS (its own Request-URIs name
#              example.com hosts). At the UAS: the request line as sent;
#              first header exactly "Via: SIP/2.0/UDP 127.0.0.1:PROXY;
#              branch=z9hG4bKsS" + 24 hex digits; then every header sent,
#              byte-identical and in order, except the sender's Via (the
#              same text with ";received=SRC" and a filled-in rport) and
#              Max-Forwards (the value the .expect gives; "Max-Forwards:
#              70" added after the last Via when absent); the body as
#              framed by Content-Length, nothing after it.
#   reply N    the reply comes back to the sender (the test binds its
#              socket at a random 127.x.y.z and the port of the top Via's
#              sent-by, where RFC 3261 18.2.2 sends it): status line
#              "SIP/2.0 N ...", the request's Call-ID.
#   drop       nothing comes back and nothing reaches the UAS.
#
# Then: core:fwd_requests counts exactly the forwarded ones, and no stage
# restarted.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Socket qw(inet_aton sockaddr_in);
use Proxy;
use Sip;

my $dir = Proxy::repo_root() . '/t/data/rfc4475';
opendir(my $dh, $dir) or die "$dir: $!";
my @names = sort map { /^(.+)\.msg$/ ? $1 : () } readdir($dh);
closedir($dh);
cmp_ok(scalar @names, '>=', 50, 'RFC 4475 corpus present');

my $p = Proxy->new(sipd => 1, children => 2);
my $P = $p->port;
my $uas = $p->udp_socket;
my $S = $uas->port;
my %pids0 = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;

# A random loopback address for this run: replies go to SRC:VIAPORT.
my $SRC = join('.', 127, 1 + int(rand(250)), 1 + int(rand(250)),
               1 + int(rand(250)));

sub slurp_raw
{
    open(my $f, '<:raw', $_[0]) or die "$_[0]: $!";
    local $/;
    return <$f>;
}

# sock_for(PORT) - a UDP socket at SRC:PORT
my %socks;
sub sock_for
{
    my ($port) = @_;
    return $socks{$port} //= IO::Socket::INET->new(
        Proto => 'udp', LocalAddr => $SRC, LocalPort => $port,
        ReuseAddr => 1) // die "bind $SRC:$port: $!";
}

sub send_from
{
    my ($s, $bytes) = @_;
    defined(CORE::send($s, $bytes, 0,
                       sockaddr_in($P, inet_aton('127.0.0.1'))))
        or die "send: $!";
}

sub recv_on
{
    my ($s, $t) = @_;
    return undef unless IO::Select->new($s)->can_read($t);
    my $buf;
    return defined(CORE::recv($s, $buf, 70000, 0)) ? $buf : undef;
}

# top_via_port(BYTES) - the port of the first Via's sent-by, or 5060
sub top_via_port
{
    my ($b) = @_;
    my ($v) = $b =~ /\r\n(?:via|v)[ \t]*:((?:[^\r]|\r\n[ \t])*)/i;
    return 5060 unless defined $v;
    $v =~ s/\r\n[ \t]+/ /g;
    my ($first) = split /,/, $v;
    $first =~ s/;.*//s;
    return $first =~ /:\s*(\d+)\s*$/ ? $1 : 5060;
}

sub is_via { Sip::name_of($_[0]) =~ /^(?:via|v)$/ }
sub is_mf { Sip::name_of($_[0]) eq 'max-forwards' }

# check_forward(NAME, SENT, GOT, MF) - the rules above
sub check_forward
{
    my ($name, $sent, $got, $mf) = @_;
    my $s = Sip::parse($sent);
    my $g = Sip::parse($got);
    ok($g, "$name: forwarded message has a header block") or return;
    is($g->{start}, $s->{start}, "$name: request line as sent");
    my @gh = @{ $g->{headers} };
    my @sh = @{ $s->{headers} };
    my $sv = (grep { is_via($sh[$_]) } 0 .. $#sh)[0];
    my $i = 0;
    my @bad;
    for my $j (0 .. $#sh) {
        if ($j == $sv) {
            like($gh[$i] // '',
                 qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P;branch=z9hG4bKsS[0-9a-f]{24}$},
                 "$name: our Via, where the sender's was");
            $i++;
            (my $x = $gh[$i] // '') =~ s/;received=\Q$SRC\E//;
            $x =~ s/;rport=\d+/;rport/;
            push @bad, "sender's Via: '$gh[$i]'" if $x ne $sh[$j]
                || ($gh[$i] // '') !~ /;received=\Q$SRC\E/;
        } elsif (is_mf($sh[$j])) {
            push @bad, "Max-Forwards '$gh[$i]', want $mf"
                unless ($gh[$i] // '') =~ /^Max-Forwards\s*:\s*0*$mf$/i
                       && Sip::value_of($gh[$i]) eq $mf;
        } elsif (($gh[$i] // '') ne $sh[$j]) {
            push @bad, "'" . ($gh[$i] // '(none)') . "' ne '$sh[$j]'";
        }
        $i++;
        if (!grep({ is_mf($_) } @sh) && is_via($sh[$j])
            && ($j == $#sh || !is_via($sh[$j + 1]))) {
            push @bad, "added Max-Forwards: '" . ($gh[$i] // '') . "'"
                if ($gh[$i] // '') ne "Max-Forwards: $mf";
            $i++;
        }
    }
    push @bad, "extra header '$gh[$i]'" if $i <= $#gh;
    ok(!@bad, "$name: every other header byte-identical, in order")
        or diag(join("\n", @bad));
    my ($cl) = map { Sip::value_of($_) } grep {
        Sip::name_of($_) =~ /^(?:content-length|l)$/ } @sh;
    my $body = defined $cl ? substr($s->{body}, 0, $cl) : $s->{body};
    is($g->{body}, $body, "$name: body byte-identical, framed by Content-Length");
}

my $nfwd = 0;
for my $name (@names) {
    my $msg = slurp_raw("$dir/$name.msg");
    my $exp = slurp_raw("$dir/$name.expect");
    my ($out) = $exp =~ /^outcome: (.+)$/m;
    my $sock = sock_for(top_via_port($msg));
    1 while defined recv_on($sock, 0);
    $uas->drain;
    if ($out eq 'forward') {
        my ($mf) = $exp =~ /^max-forwards: (\d+)$/m;
        my $sent = $msg =~ s/\r\n/\r\nRoute: <sip:127.0.0.1:$S;lr>\r\n/r;
        send_from($sock, $sent);
        my ($got) = $uas->recv(3);
        ok(defined $got, "$name: forwarded to the UAS")
            or do { diag(Sip::show(recv_on($sock, 0.2))); next };
        $nfwd++;
        check_forward($name, $sent, $got, $mf);
    } elsif ($out =~ /^reply (\d+)$/) {
        my $code = $1;
        send_from($sock, $msg);
        my $r = recv_on($sock, 3);
        like($r // '', qr{^SIP/2\.0 $code [^\r\n]*\r\n},
             "$name: answered $code") or diag(Sip::show($r));
        my ($cid) = $msg =~ /\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]*)\r\n/i;
        if (defined $r && defined $cid) {
            my ($rcid) = $r =~ /\r\nCall-ID:[ \t]*([^\r\n]*)\r\n/i;
            is($rcid, $cid, "$name: reply carries the Call-ID");
        }
        ok(!defined $uas->recv(0.05), "$name: nothing forwarded");
    } else {
        send_from($sock, $msg);
        ok(!defined recv_on($sock, 0.4), "$name: no reply");
        ok(!defined $uas->recv(0.05), "$name: nothing forwarded");
    }
}

is($p->wait_stat('core:fwd_requests', $nfwd, 3), $nfwd,
   "core:fwd_requests = $nfwd");
my %pids1 = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
is_deeply(\%pids1, \%pids0, 'no stage restarted');
is(scalar(grep { $_->{Restarts} != 0 } $p->ps), 0, 'ps: Restarts=0 everywhere');
$p->stop;
done_testing;
