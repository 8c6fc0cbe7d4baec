package FakeDns;
# A tiny authoritative DNS responder on 127.0.0.1 (UDP) for the failures
# dnsmasq cannot make for one record type: REFUSED, SERVFAIL, silence.
#
#   my $pid = FakeDns::start($port, {
#       'uas.test NAPTR'           => 'REFUSED',      # or SERVFAIL, DROP,
#                                                     # NXDOMAIN, NODATA
#       '_sip._udp.uas.test SRV'   => [[10, 20, 5070, 'h1.test'], ...],
#       'h1.test A'                => ['127.0.0.1'],
#   });
#   FakeDns::stop($pid);
#
# A name with no entry at all is NXDOMAIN; a known name asked for another
# type is NODATA (NOERROR, no records). Records have TTL 60. It runs as a
# child of the test and answers until stop() (or the test's end) kills it;
# should the test die hard, its watchdog (Watchdog.pm) does.

use strict;
use warnings;
use IO::Socket::INET;
use POSIX qw(_exit);
use Watchdog ();

my %watch;                              # pid -> watchdog token

my %TYPE = (A => 1, NS => 2, SOA => 6, AAAA => 28, SRV => 33, NAPTR => 35);
my %RNAME = reverse %TYPE;
my %RCODE = (NOERROR => 0, NODATA => 0, SERVFAIL => 2, NXDOMAIN => 3,
             REFUSED => 5);

sub _name
{
    my ($n) = @_;
    return join('', map { chr(length $_) . $_ } split /\./, $n) . "\0";
}

sub _rdata
{
    my ($type, $r) = @_;
    return pack('C4', split /\./, $r) if $type eq 'A';
    return pack('n3', @$r[0 .. 2]) . _name($r->[3]) if $type eq 'SRV';
    return '';
}

sub _answer
{
    my ($q, $zone) = @_;
    return undef if length($q) < 17;
    my ($id, $flags) = unpack('n2', $q);
    my ($p, @l) = (12);
    while ($p < length $q) {
        my $len = ord(substr($q, $p, 1));
        last if $len == 0;
        push @l, lc substr($q, $p + 1, $len);
        $p += 1 + $len;
    }
    my $qend = $p + 5;
    return undef if $qend > length $q;
    my $qtype = unpack('n', substr($q, $p + 1, 2));
    my $name = join('.', @l);
    my $t = $RNAME{$qtype} // "TYPE$qtype";
    my $e = $zone->{"$name $t"};
    my $known = grep { /^\Q$name\E / } keys %$zone;
    my ($rc, @rr) = (0);
    if (!defined $e) {
        $rc = $known ? 0 : 3;
    } elsif (!ref $e) {
        return undef if $e eq 'DROP';
        $rc = $RCODE{$e} // 2;
    } else {
        @rr = @$e;
    }
    my $hdr = pack('n6', $id, 0x8400 | ($flags & 0x0100) | 0x80 | $rc, 1,
                   scalar @rr, 0, 0);
    my $out = $hdr . substr($q, 12, $qend - 12);
    for my $r (@rr) {
        my $rd = _rdata($t, $r);
        $out .= pack('n n n N n', 0xc00c, $qtype, 1, 60, length $rd) . $rd;
    }
    return $out;
}

sub start
{
    my ($port, $zone) = @_;
    my $s = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
                                  LocalPort => $port, ReuseAddr => 1)
        or return undef;
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        Watchdog::in_child();           # the test's death must show
        my $q;
        while (1) {
            my $from = $s->recv($q, 1500) // next;
            my $a = _answer($q, $zone);
            $s->send($a, 0, $from) if defined $a;
        }
        _exit(0);
    }
    close($s);
    $watch{$pid} = Watchdog::arm(pid => $pid, what => "fakedns $port");
    return $pid;
}

sub stop
{
    my ($pid) = @_;
    return unless $pid;
    local $?;                           # from END: keep the test's status
    kill('KILL', $pid);
    waitpid($pid, 0);
    Watchdog::disarm(delete $watch{$pid});
}

1;
