package Sip;

# SUMMARY
#	Sip - build and take apart SIP messages byte-exactly, for tests
# SYNOPSIS
#	my $m = Sip::msg("INVITE sip:b\@127.0.0.1:5 SIP/2.0", \@hdrs, $body);
#	my $p = Sip::parse($bytes);   # {start, headers => [...], body}
#	my @v = Sip::hdr($p, 'Via', 'v');   # values of one header, in order
# DESCRIPTION
#	Headers are kept as the raw lines they were on the wire (without the
#	CRLF), so a test can compare what the proxy forwarded line by line
#	with what was sent. Folded lines stay attached to their header.
#	msg() computes Content-Length when the header list has the
#	placeholder "Content-Length: AUTO" (or "l: AUTO").

use strict;
use warnings;

# msg(START, [HEADERS], BODY) - the bytes of a message
sub msg
{
    my ($start, $hdrs, $body) = @_;
    $body //= '';
    my @h = map { my $x = $_; $x =~ s/: AUTO$/': ' . length($body)/e; $x }
            @$hdrs;
    return join('', map { "$_\r\n" } $start, @h) . "\r\n" . $body;
}

# parse(BYTES) - {start, headers => [raw lines], body}; undef if there is
# no empty line ending the header block
sub parse
{
    my ($b) = @_;
    return undef unless defined $b;
    my $i = index($b, "\r\n\r\n");
    return undef if $i < 0;
    my $head = substr($b, 0, $i);
    my $body = substr($b, $i + 4);
    my @l = split(/\r\n/, $head, -1);
    my $start = shift @l;
    my @h;
    for (@l) {
        if (/^[ \t]/ && @h) { $h[-1] .= "\r\n$_" } else { push @h, $_ }
    }
    return { start => $start, headers => \@h, body => $body };
}

sub name_of
{
    my ($line) = @_;
    return $line =~ /^([^:\s]+)\s*:/ ? lc $1 : '';
}

sub value_of
{
    my ($line) = @_;
    return $line =~ /^[^:]+:\s*(.*)$/s ? $1 : '';
}

# hdr(P, NAMES...) - the raw lines of the headers with one of NAMES
# (case-insensitive; pass the compact form too)
sub hdr
{
    my ($p, @names) = @_;
    my %n = map { lc($_) => 1 } @names;
    return grep { $n{ name_of($_) } } @{ $p->{headers} };
}

# hval(P, NAMES...) - the value of the first such header
sub hval
{
    my ($p, @names) = @_;
    my ($l) = hdr($p, @names);
    return defined $l ? value_of($l) : undef;
}

# branch(VIA_LINE_OR_VALUE) - the branch of the first Via value in it
sub branch
{
    my ($v) = @_;
    return $v =~ /;\s*branch=([^;,\s]+)/i ? $1 : undef;
}

# status(BYTES) - the status code of a response, or undef
sub status
{
    my ($b) = @_;
    return defined $b && $b =~ m{^SIP/2\.0 (\d{3}) } ? $1 : undef;
}

# show(BYTES) - printable, for diagnostics
sub show
{
    my ($b) = @_;
    return '(nothing)' unless defined $b;
    (my $s = $b) =~ s/\r\n/\\r\\n\n/g;
    return $s;
}

# options(RURI, UAC_PORT, ID) - a plain OPTIONS from a UAC on 127.0.0.1:
# its own branch, tag and Call-ID made from ID, Max-Forwards 70, no body
sub options
{
    my ($ruri, $port, $id) = @_;
    return msg("OPTIONS $ruri SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$port;branch=z9hG4bK-$id",
        'Max-Forwards: 70',
        "From: <sip:alice\@127.0.0.1:$port>;tag=$id",
        "To: <$ruri>",
        "Call-ID: $id-$$\@127.0.0.1",
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
    ], '');
}

1;
