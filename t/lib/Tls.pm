package Tls;

# SUMMARY
#	Tls - certificates and real TLS peers for the 8xx tests
# SYNOPSIS
#	my $pki = Tls::pki($dir);             # CA, server, client, ... (PEM)
#	my $c = Tls->client($port, ca => $pki->{ca}, name => 'sip.test');
#	$c->{tls};                            # "ok TLSv1.3 ..." / "error ..."
#	$c->send($bytes); $c->recv_msg(3);    # SIP over the TLS connection
#	$c->line(3);                          # "closed clean" ...
#	my $s = Tls->server(cert => ..., key => ...);   # $s->port
#	my $sc = $s->accept(3);               # Tcp.pm object: what arrived
#	$s->line(3);                          # "accepted ok TLSv1.3 CN"
# DESCRIPTION
#	pki() makes, with the openssl command, a test CA and certificates
#	signed by it in DIR: server.pem (CN sip.test, SANs DNS:sip.test and
#	IP:127.0.0.1), client.pem (CN client.test), wrong.pem (DNS:other.test
#	only), and, from a second CA the proxy does not trust, rogue.pem;
#	keys are KEY.key, mode 0600; bigchain.pem is client.pem followed by
#	enough copies of the CA to pass 32 KiB of DER (the proxy's certificate chain
#	bound).
#
#	client() and server() run t/tools/tls_peer.py (Python's ssl module,
#	so the TLS end is OpenSSL driven by another program) and talk to it
#	over plain TCP on loopback (t/lib/Tcp.pm): the test frames SIP as
#	for TCP while the proxy sees a real TLS peer. Every wait is bounded;
#	every helper process is killed by stop() or at exit, or, should the
#	test die hard, by its watchdog (Watchdog.pm; openssl runs through
#	Proxy::run_cmd, which has its own).

use strict;
use warnings;
use FindBin;
use IO::Select;
use POSIX qw(WNOHANG);
use Proxy qw(run_cmd slurp);
use Tcp;
use Time::HiRes qw(time sleep);
use Watchdog ();

my $PEER = Proxy::repo_root() . '/t/tools/tls_peer.py';
my @LIVE;

sub _openssl
{
    my ($dir, @args) = @_;
    my $r = run_cmd(['openssl', @args], cwd => $dir, timeout => 30);
    die "openssl @args: $r->{err}" unless defined $r->{exit} && $r->{exit} == 0;
    return $r;
}

# _leaf(DIR, NAME, CA, SUBJ, SAN) - NAME.key, NAME.pem signed by CA
sub _leaf
{
    my ($dir, $name, $ca, $subj, $san) = @_;
    open(my $fh, '>', "$dir/$name.ext") or die "$name.ext: $!";
    print $fh "basicConstraints=CA:FALSE\n"
        . ($san ? "subjectAltName=$san\n" : '')
        . "extendedKeyUsage=serverAuth,clientAuth\n";
    close($fh);
    _openssl($dir, qw(req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256
                      -nodes -keyout), "$name.key", '-subj', $subj,
             '-out', "$name.csr");
    _openssl($dir, 'x509', '-req', '-in', "$name.csr", '-CA', "$ca.pem",
             '-CAkey', "$ca.key", '-CAcreateserial', '-days', '2',
             '-extfile', "$name.ext", '-out', "$name.pem");
    chmod(0600, "$dir/$name.key");
}

sub _ca
{
    my ($dir, $name, $cn) = @_;
    _openssl($dir, qw(req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256
                      -nodes -days 2 -keyout), "$name.key", '-subj', "/CN=$cn",
             '-addext', 'basicConstraints=critical,CA:TRUE',
             '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
             '-out', "$name.pem");
    chmod(0600, "$dir/$name.key");
}

# pki(DIR) - {ca, server, server_key, client, client_key, ...} paths
sub pki
{
    my ($dir) = @_;
    _ca($dir, 'ca', 'sipstage test CA');
    _ca($dir, 'ca2', 'untrusted CA');
    _leaf($dir, 'server', 'ca', '/CN=sip.test',
          'DNS:sip.test,IP:127.0.0.1');
    _leaf($dir, 'client', 'ca', '/CN=client.test', 'DNS:client.test');
    _leaf($dir, 'wrong', 'ca', '/CN=other.test', 'DNS:other.test');
    _leaf($dir, 'rogue', 'ca2', '/CN=rogue.test', 'DNS:rogue.test');
    my $ca = slurp("$dir/ca.pem");
    my $leaf = slurp("$dir/client.pem");
    my $n = int(80 * 1024 / length($ca)) + 1;    # ~50 KiB of DER
    open(my $fh, '>', "$dir/bigchain.pem") or die "bigchain: $!";
    print $fh $leaf, $ca x $n;
    close($fh);
    my %p = (dir => $dir, ca => "$dir/ca.pem", bigchain => "$dir/bigchain.pem");
    for my $n (qw(server client wrong rogue)) {
        $p{$n} = "$dir/$n.pem";
        $p{"${n}_key"} = "$dir/$n.key";
    }
    return \%p;
}

# _spawn(ARGS) - start tls_peer.py; {pid, out} with its stdout
sub _spawn
{
    my (@args) = @_;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        close($r);
        open(STDOUT, '>&', $w);
        open(STDERR, '>', '/dev/null');
        open(STDIN, '<', '/dev/null');
        exec('python3', $PEER, @args) or POSIX::_exit(127);
    }
    close($w);
    my $self = { pid => $pid, out => $r, buf => '', lines => [],
                 watch => Watchdog::arm(pid => $pid,
                                        what => "tls_peer $args[0]") };
    push @LIVE, $self;
    return $self;
}

# line(TIMEOUT) - the helper's next output line, or undef
sub line
{
    my ($self, $t) = @_;
    my $deadline = time + ($t // 3);
    while (1) {
        if ($self->{buf} =~ s/\A([^\n]*)\n//) {
            push @{ $self->{lines} }, $1;
            return $1;
        }
        my $left = $deadline - time;
        return undef if $left <= 0 || $self->{eof};
        next unless IO::Select->new($self->{out})->can_read($left);
        my $n = sysread($self->{out}, my $b, 4096);
        if (!$n) {
            $self->{eof} = 1;
            next;
        }
        $self->{buf} .= $b;
    }
}

# client(PORT, ca => F, cert => F, key => F, name => N, no_verify => 1,
# tls12 => 1) - a TLS client of the proxy's PORT; {tls} is its handshake
# line; when ok, send/recv_msg/closed go over the connection
sub client
{
    my ($class, $port, %o) = @_;
    my $self = _spawn('client', '--connect', $port,
                      ($o{ca} ? ('--ca', $o{ca}) : ()),
                      ($o{cert} ? ('--cert', $o{cert}, '--key', $o{key}) : ()),
                      ($o{name} ? ('--name', $o{name}) : ()),
                      ($o{no_verify} ? '--no-verify' : ()),
                      ($o{tls12} ? '--tls12' : ()),
                      '--timeout', $o{timeout} // 30);
    bless $self, $class;
    # generous: a loaded machine starts Python slowly
    my $l = $self->line(20) // '';
    my ($plain) = $l =~ /^plain (\d+)$/;
    $self->{tls} = $self->line(30) // 'none (no answer from tls_peer.py)';
    $self->{tls} =~ s/^tls //;
    if ($plain && $self->{tls} =~ /^ok /) {
        $self->{c} = Tcp->connect($plain);
    }
    return $self;
}

sub ok { ($_[0]{tls} // '') =~ /^ok / && $_[0]{c} }
sub send { $_[0]{c} ? $_[0]{c}->send($_[1]) : 0 }
sub recv_msg { $_[0]{c} ? $_[0]{c}->recv_msg($_[1]) : undef }
sub recv_raw { $_[0]{c} ? $_[0]{c}->recv_raw($_[1], $_[2]) : '' }

# closed(TIMEOUT) - "clean" or "unclean ..." once the proxy closed the
# TLS connection (the helper's report), or undef
sub closed
{
    my ($self, $t) = @_;
    my $deadline = time + ($t // 3);
    while (defined(my $l = $self->line($deadline - time))) {
        return $1 if $l =~ /^closed (.*)$/;
    }
    return undef;
}

# server(cert => F, key => F, ca => F, verify_client => 1) - a TLS server
# whose connections are relayed to a Tcp listener of the test
sub server
{
    my ($class, %o) = @_;
    my $l = Tcp->listen;
    my $self = _spawn('server', '--plain', $l->port, '--cert', $o{cert},
                      '--key', $o{key}, ($o{ca} ? ('--ca', $o{ca}) : ()),
                      ($o{verify_client} ? '--verify-client' : ()),
                      '--timeout', $o{timeout} // 60);
    bless $self, $class;
    $self->{l} = $l;
    my $first = $self->line(20) // '';
    ($self->{port}) = $first =~ /^listen (\d+)$/;
    die "tls_peer server did not start: $first" unless $self->{port};
    return $self;
}

sub port { $_[0]{port} }

# accept(TIMEOUT) - the plain side of the next relayed TLS connection
sub accept { $_[0]{l}->accept($_[1]) }

sub stop
{
    my ($self) = @_;
    return unless $self->{pid};
    kill('TERM', $self->{pid});
    my $deadline = time + 3;
    while (waitpid($self->{pid}, WNOHANG) == 0) {
        if (time > $deadline) {
            kill('KILL', $self->{pid});
            waitpid($self->{pid}, 0);
            last;
        }
        sleep 0.02;
    }
    $self->{pid} = 0;
    Watchdog::disarm(delete $self->{watch});
}

END { $_->stop for @LIVE }

1;
