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
#	my $recs = DbSip::traffic(port => $p->port, rate => 20, secs => 5,
#	    alias => [$uac, RURI], plain => [$uac2, RURI], uas => $uas,
#	    at => [[1, sub { ... }]]);      # a steady load while CODE runs
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

# callid(BYTES) - the Call-ID of a message, or ''
sub callid
{
    my ($b) = @_;
    return defined $b && $b =~ /\r\n(?:Call-ID|i)\s*:\s*(\S+)\r\n/i ? $1 : '';
}

# traffic(%o) - requests at a steady rate through the proxy while things
# happen to it; returns [records] once every request has an outcome or
# `settle` seconds passed after the last send. o:
#   port    the proxy's port
#   alias   [UAC, RURI]  an INVITE per tick (looked up); its record:
#           {kind => 'alias', t, what => 'fwd'|'reply', line, ms}
#   plain   [UAC, RURI]  a BYE with a To tag per tick (never looked up),
#           answered 200 by the UAS; {kind => 'plain', t, fwd_ms,
#           resp_ms}
#   uas     the UAS socket
#   secs, rate   how long to send, requests of each kind per second
#   at      [[SECONDS, CODE]...]  run CODE at that time (sending pauses
#           while it runs: fork for a long one)
#   settle  seconds to wait for outcomes after the last send (default 6)
sub traffic
{
    my (%o) = @_;
    my $t0 = time;
    my $end = $t0 + $o{secs};
    my @at = sort { $a->[0] <=> $b->[0] } @{ $o{at} || [] };
    my (%rec, @order);
    my $n = 0;
    my $next = $t0;
    my @socks = grep { defined } ($o{alias} ? $o{alias}[0] : undef),
                ($o{plain} ? $o{plain}[0] : undef), $o{uas};
    my $sel = IO::Select->new(map { $_->fh } @socks);
    while (1) {
        my $now = time;
        while (@at && $now >= $t0 + $at[0][0]) {
            (shift @at)->[1]->();
            $now = time;
        }
        if ($now < $end && $now >= $next) {
            $n++;
            for my $k (qw(alias plain)) {
                next unless $o{$k};
                my $id = "$k-$n-$$";
                my $b = $k eq 'alias'
                    ? req('INVITE', $o{$k}[1], $o{$k}[0]->port, id => $id)
                    : req('BYE', $o{$k}[1], $o{$k}[0]->port, id => $id,
                          totag => "t$n");
                $o{$k}[0]->send($b, $o{port});
                $rec{"$id\@test"} = { kind => $k, t => time, n => $n };
                push @order, "$id\@test";
            }
            $next += 1 / $o{rate};
        }
        my $open = grep { !exists $rec{$_}{done} } @order;
        last if $now >= $end && (!$open || $now > $end + ($o{settle} // 6))
                && !@at;
        for my $fh ($sel->can_read(0.01)) {
            my ($sock) = grep { $_->fh == $fh } @socks;
            my ($b) = $sock->recv(0);
            my $r = $rec{ callid($b) } or next;
            my $ms = int((time - $r->{t}) * 1000);
            if ($r->{kind} eq 'alias' && !$r->{done}) {
                $r->{what} = $sock == $o{uas} ? 'fwd' : 'reply';
                $r->{line} = line1($b);
                $r->{bytes} = $b;
                $r->{ms} = $ms;
                $r->{done} = 1;
            } elsif ($r->{kind} eq 'plain' && $sock == $o{uas}
                     && !defined $r->{fwd_ms}) {
                $r->{fwd_ms} = $ms;
                $o{uas}->send(response($b, 200, 'OK'), $o{port});
            } elsif ($r->{kind} eq 'plain' && $sock != $o{uas}) {
                $r->{resp_ms} = $ms;
                $r->{line} = line1($b);
                $r->{done} = 1;
            }
        }
    }
    return [ map { $rec{$_} } @order ];
}

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
