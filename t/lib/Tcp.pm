package Tcp;

# SUMMARY
#	Tcp - a TCP SIP peer for black-box tests of netd's TCP transport
# SYNOPSIS
#	my $c = Tcp->connect($port);          # client to 127.0.0.1:$port
#	$c->send($bytes);                     # all of it, now
#	my $m = $c->recv_msg(2);              # one framed message or undef
#	my $l = Tcp->listen;                  # a server on a free port
#	my $s = $l->accept(2);                # the proxy's connection
#	$c->closed(3);                        # true once the peer closed
# DESCRIPTION
#	Messages are framed as RFC 3261 18.3 says: headers to the empty line,
#	then Content-Length bytes. Bytes read past one message stay buffered
#	for the next recv_msg(). Every wait is bounded.

use strict;
use warnings;
use Errno qw(EAGAIN EINTR);
use IO::Select;
use IO::Socket::INET;
use Proxy ();
use Socket qw(IPPROTO_TCP TCP_NODELAY SOL_SOCKET SO_RCVBUF);
use Time::HiRes qw(time sleep);

# free_port() - a 127.0.0.1 port free for both TCP and UDP right now
# (a proxy listening on udp and tcp on one port needs both; UDP-only
# probing can pick the local port of some live TCP connection)
sub free_port { Proxy::free_port_both() }

sub _wrap
{
    my ($class, $s) = @_;
    $s->autoflush(1);
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
    return bless { s => $s, buf => '', eof => 0 }, $class;
}

# connect(PORT [, rcvbuf => N]) - a connected client, or undef
sub connect
{
    my ($class, $port, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 3)
        or return undef;
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, $o{rcvbuf}) if $o{rcvbuf};
    return $class->_wrap($s);
}

# listen([rcvbuf => N]) - a listening socket on a free 127.0.0.1 port
sub listen
{
    my ($class, %o) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 128,
                                  ReuseAddr => 1)
        or die "tcp listen: $!";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, $o{rcvbuf}) if $o{rcvbuf};
    return bless { l => $s }, $class;
}

sub port { ($_[0]{l} // $_[0]{s})->sockport }
sub peerport { $_[0]{s}->peerport }
sub fh { $_[0]{s} // $_[0]{l} }

# accept([TIMEOUT]) - the next connection, or undef
sub accept
{
    my ($self, $t) = @_;
    return undef unless IO::Select->new($self->{l})->can_read($t // 2);
    my $s = $self->{l}->accept or return undef;
    return Tcp->_wrap($s);
}

sub send
{
    my ($self, $bytes) = @_;
    my $off = 0;
    while ($off < length $bytes) {
        my $n = syswrite($self->{s}, $bytes, length($bytes) - $off, $off);
        return 0 unless defined $n;
        $off += $n;
    }
    return 1;
}

# _fill(TIMEOUT) - read what is there (waiting up to TIMEOUT); 0 at EOF
sub _fill
{
    my ($self, $t) = @_;
    return 0 if $self->{eof};
    return 1 unless IO::Select->new($self->{s})->can_read($t);
    my $n = sysread($self->{s}, my $b, 65536);
    if (!$n) {
        $self->{eof} = 1;
        return 0;
    }
    $self->{buf} .= $b;
    return 1;
}

# recv_msg([TIMEOUT]) - one whole message (leading CRLFs skipped), or undef
sub recv_msg
{
    my ($self, $t) = @_;
    my $deadline = time + ($t // 2);
    while (1) {
        $self->{buf} =~ s/\A(?:\r\n)+(?=[^\r\n])//;
        my $i = index($self->{buf}, "\r\n\r\n");
        if ($i >= 0) {
            my $head = substr($self->{buf}, 0, $i + 4);
            my ($cl) = $head =~ /^(?:Content-Length|l)\s*:\s*(\d+)/mi;
            $cl //= 0;
            if (length($self->{buf}) >= $i + 4 + $cl) {
                return substr($self->{buf}, 0, $i + 4 + $cl, '');
            }
        }
        my $left = $deadline - time;
        return undef if $left <= 0;
        $self->_fill($left) or return undef;
    }
}

# recv_raw(N, TIMEOUT) - exactly N bytes, or what came before TIMEOUT
sub recv_raw
{
    my ($self, $n, $t) = @_;
    my $deadline = time + ($t // 2);
    while (length($self->{buf}) < $n) {
        my $left = $deadline - time;
        last if $left <= 0;
        $self->_fill($left) or last;
    }
    return substr($self->{buf}, 0, $n, '');
}

# closed([TIMEOUT]) - true once the other side closed (EOF or reset)
sub closed
{
    my ($self, $t) = @_;
    my $deadline = time + ($t // 2);
    while (!$self->{eof}) {
        my $left = $deadline - time;
        return 0 if $left <= 0;
        $self->_fill($left < 0.2 ? $left : 0.2);
        $self->{buf} = '' if length($self->{buf}) > 1 << 20;
    }
    return 1;
}

sub close { close($_[0]{s} // $_[0]{l}) }

1;
