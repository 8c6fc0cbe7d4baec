package DbSip;

# SUMMARY
#	DbSip - requests and their outcome, for the DB routing tests
# SYNOPSIS
#	my $b = DbSip::req('INVITE', 'sip:bob@example.com', $uac->port,
#	                   id => 'x1', totag => 'abc');
#	my ($what, $bytes, $ms) = DbSip::outcome($uac, $uas, 3);
#	    # ('fwd', bytes at the UAS) | ('reply', bytes at the UAC) |
#	    # ('none', undef)
#	DbSip::ruri($bytes)                 # the Request-URI of a request
#	DbSip::response($bytes, 200, 'OK')  # the UAS's answer to it
#	DbSip::UDP6->new                    # a socket on ::1 (undef: none)
#	DbSip::lit($text)                   # an SQL expression for psql
# DESCRIPTION
#	t/720 to t/750 send requests through a proxy with [route]
#	db_aliases or db_allow and look at what happened to each: forwarded
#	to the test's UAS (and with which Request-URI) or answered to the
#	test's UAC (and with which status). Every wait is bounded.
#	lit() writes a value as hex bytes decoded by the server, so a value
#	with quotes, semicolons, backslashes or UTF-8 reaches the table byte
#	for byte whatever psql's client encoding (the test data are SQL
#	metacharacters on purpose; the test never pastes them into SQL).

use strict;
use warnings;
use IO::Select;
use Time::HiRes qw(time);
use Sip;

my $seq = 0;

# req(METHOD, RURI, UAC_PORT, %o) - a request from 127.0.0.1:UAC_PORT.
# o: id (Call-ID and tags; default a fresh one), branch (default from
# id), totag (a To tag: in a dialog), cseq (number), host (the Via's
# sent-by host, default 127.0.0.1; [::1] for IPv6)
sub req
{
    my ($method, $ruri, $port, %o) = @_;
    my $id = $o{id} // ('db' . ++$seq . "-$$");
    my $branch = $o{branch} // "z9hG4bK-$id";
    my $host = $o{host} // '127.0.0.1';
    my $to = "To: <sip:callee\@example.com>"
             . (defined $o{totag} ? ";tag=$o{totag}" : '');
    return Sip::msg("$method $ruri SIP/2.0", [
        "Via: SIP/2.0/UDP $host:$port;branch=$branch;rport",
        'Max-Forwards: 70',
        "From: <sip:caller\@example.com>;tag=f-$id",
        $to,
        "Call-ID: $id\@test",
        'CSeq: ' . ($o{cseq} // 1) . " $method",
        'Content-Length: 0',
    ], '');
}

# outcome(UAC, UAS, TIMEOUT) - the first datagram at either socket:
# ('fwd', bytes) from the UAS side, ('reply', bytes) from the UAC side,
# ('none', undef) after TIMEOUT s; the third value is the wait in ms.
# UAC and UAS are Proxy::UDP (or anything with fh/recv).
sub outcome
{
    my ($uac, $uas, $t) = @_;
    my $t0 = time;
    my $sel = IO::Select->new($uac->fh, $uas->fh);
    my @r = $sel->can_read($t);
    my $ms = int((time - $t0) * 1000);
    return ('none', undef, $ms) unless @r;
    for my $fh (@r) {
        next unless $fh == $uas->fh;
        my ($b) = $uas->recv(0);
        return ('fwd', $b, $ms) if defined $b;
    }
    my ($b) = $uac->recv(0);
    return ('reply', $b, $ms);
}

# ruri(BYTES) - the Request-URI of a request, or undef
sub ruri
{
    my ($b) = @_;
    return defined $b && $b =~ m{\A\S+ (\S+) SIP/2\.0\r\n} ? $1 : undef;
}

# response(BYTES, CODE, REASON) - the UAS's response to the request
# BYTES: every Via in order, From, To with a tag, Call-ID, CSeq
sub response
{
    my ($b, $code, $reason) = @_;
    my $p = Sip::parse($b) or return undef;
    my @h = (Sip::hdr($p, 'Via', 'v'), Sip::hdr($p, 'From', 'f'));
    my ($to) = Sip::hdr($p, 'To', 't');
    push @h, $to . ($to =~ /;tag=/ ? '' : ';tag=uas1'),
         Sip::hdr($p, 'Call-ID', 'i'), Sip::hdr($p, 'CSeq'),
         'Content-Length: 0';
    return Sip::msg("SIP/2.0 $code $reason", \@h, '');
}

# line1(BYTES) - the first line
sub line1
{
    my ($b) = @_;
    return defined $b && $b =~ /\A([^\r\n]*)/ ? $1 : undef;
}

# lit(BYTES) - an SQL expression whose value is the UTF-8 text BYTES
sub lit
{
    my ($s) = @_;
    return "convert_from(decode('" . unpack('H*', $s) . "', 'hex'), 'UTF8')";
}

1;

# DbSip::UDP6 - a UDP socket on ::1 with the methods outcome() uses
# (fh, recv) and send(BYTES, PORT) to [::1]:PORT; undef without IPv6
package DbSip::UDP6;

use IO::Select;
use IO::Socket::IP;
use Socket qw(AF_INET6 inet_pton pack_sockaddr_in6);

sub new
{
    my ($class) = @_;
    my $s = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                                Proto => 'udp') or return undef;
    return bless { s => $s }, $class;
}

sub fh { $_[0]{s} }
sub port { $_[0]{s}->sockport }

sub send
{
    my ($self, $bytes, $port) = @_;
    my $to = pack_sockaddr_in6($port, inet_pton(AF_INET6, '::1'));
    defined(CORE::send($self->{s}, $bytes, 0, $to))
        or die "udp6 send to $port: $!";
    return 1;
}

sub recv
{
    my ($self, $t) = @_;
    return () unless IO::Select->new($self->{s})->can_read($t // 2);
    defined(CORE::recv($self->{s}, my $buf, 65535, 0)) or return ();
    return $buf;
}

sub drain
{
    my ($self, $t) = @_;
    my $n = 0;
    $n++ while $self->recv($t // 0);
    return $n;
}

1;
