#!/usr/bin/perl
# 1,000 concurrent TCP connections held open (issue 4): each sends an
# OPTIONS to the proxy itself and gets its 200 on its own connection;
# tcp:connections_open reads 1000 while they are held, 0 after they
# close. Memory per connection is reported by bench/tcp_conns, not
# asserted here.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;
use Tcp;

my $N = 1000;
my $lim = `sh -c 'ulimit -n'` // 0;
chomp $lim;
plan(skip_all => "open files limit $lim is too low for $N connections")
    if $lim ne 'unlimited' && $lim < $N + 200;

my $p = Proxy->new(tcp => 1, extra => {
    net => [ 'tcp_max_connections_per_ip = ' . (2 * $N) ],  # all from .1
    core => [ 'open_files = ' . ($N + 1000) ] });
my $P = $p->port;

my @c;
for my $i (1 .. $N) {
    my $c = Tcp->connect($P) or last;
    push @c, $c;
}
is(scalar @c, $N, "$N connections opened");
for my $i (0 .. $#c) {
    my $port = $c[$i]->fh->sockport;
    $c[$i]->send(Sip::msg("OPTIONS sip:127.0.0.1:$P SIP/2.0", [
        "Via: SIP/2.0/TCP 127.0.0.1:$port;branch=z9hG4bKm$i",
        'Max-Forwards: 70', 'To: <sip:127.0.0.1>',
        "From: <sip:t\@127.0.0.1>;tag=$i", "Call-ID: many-$i-$$",
        'CSeq: 1 OPTIONS', 'Content-Length: 0' ], ''));
}
my $ok = 0;
for my $c (@c) {
    my $r = $c->recv_msg(5);
    $ok++ if defined $r && $r =~ m{^SIP/2\.0 200 };
}
is($ok, $N, "every connection got its 200 on its own connection");
is($p->stat('tcp:connections_open'), $N, "tcp:connections_open = $N");
is($p->stat('tcp:connections_accepted'), $N, "tcp:connections_accepted = $N");
$_->close for @c;
my $deadline = time + 5;
while (($p->stat('tcp:connections_open') // -1) != 0 && time < $deadline) {
    sleep 0.1;
}
is($p->stat('tcp:connections_open'), 0, 'tcp:connections_open = 0 after they closed');
$p->stop;
done_testing();
