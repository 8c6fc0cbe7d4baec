#!/usr/bin/perl
# Transport libraries (issue 4): netd dlopens build/lib/proto_NAME.so only
# when a listen line names the transport. A UDP-only config never maps
# proto_tcp.so (/proc/PID/maps of netd); a udp+tcp config maps both. A
# missing library, or one that is not a transport (no "netd_proto"
# symbol), stops netd with a clear log line; mid keeps it in back-off.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use POSIX ();
use Tcp;
use Proxy qw(slurp);
use Watchdog ();

sub netd_maps
{
    my ($p) = @_;
    my ($n) = grep { $_->{Type} eq 'netd' } $p->ps;
    return slurp("/proc/$n->{PID}/maps") // '';
}

{
    my $p = Proxy->new;
    my $maps = netd_maps($p);
    like($maps, qr{/proto_udp\.so$}m, 'udp only: netd maps proto_udp.so');
    unlike($maps, qr{proto_tcp\.so}, 'udp only: netd never maps proto_tcp.so');
    $p->stop;
}

{
    my $p = Proxy->new(tcp => 1);
    my $P = $p->port;
    my $maps = netd_maps($p);
    like($maps, qr{/proto_udp\.so$}m, 'udp+tcp: netd maps proto_udp.so');
    like($maps, qr{/proto_tcp\.so$}m, 'udp+tcp: netd maps proto_tcp.so');
    like($p->log, qr/transport tcp: loaded \S+proto_tcp\.so/, 'udp+tcp: load logged')
        if $p->log =~ /loaded/;
    $p->stop;
}

# a transport that cannot be loaded: netd exits, mid backs off
for my $case (['missing', sub {
                   system('cp', Proxy::build_dir() . '/lib/proto_udp.so', "$_[0]/proto_udp.so");
               }, qr{transport tcp: cannot load \S+/proto_tcp\.so: .*No such file}],
              ['no symbol', sub {
                   my ($dir) = @_;
                   my ($lib) = grep { -f } map { "$_/libdl.so.2" }
                       qw(/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64 /lib /usr/lib);
                   system('cp', $lib // '/dev/null', "$dir/proto_tcp.so");
                   system('cp', Proxy::build_dir() . '/lib/proto_udp.so', "$dir/proto_udp.so");
               }, qr{transport tcp: \S+/proto_tcp\.so: no "netd_proto" symbol}]) {
    my ($name, $setup, $want) = @$case;
    my $p = Proxy->new(no_start => 1, no_bail => 1, timeout => 3,
                       log_ok => qr/netd\[\d+\]: fatal: netd_init|init: /);
    $p->{ports} = [Tcp::free_port()];  # free for udp and tcp
    my $P = $p->port;
    my $dir = $p->dir . '/mods';
    mkdir $dir;
    $setup->($dir);
    $p->{opts}{extra} = { net => [ "listen = tcp:127.0.0.1:$P" ],
                          modules => [ "path = $dir" ] };
    Proxy::spew($p->cfg, $p->config_text);
    # not $p->start: it waits for every stage to run, and netd cannot
    my $mid = Proxy::bin('mid');
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        POSIX::setpgid(0, 0);
        chdir($p->dir);
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', $p->dir . '/mid.log');
        open(STDERR, '>&', \*STDOUT);
        exec($mid, '-F', '-f', $p->cfg) or POSIX::_exit(127);
    }
    POSIX::setpgid($pid, $pid);
    $p->{pid} = $pid;
    # $p->stop disarms it
    $p->{watch} = Watchdog::arm(pgrp => $pid, what => 'mid ' . $p->cfg);
    $p->{argv} = [$mid, '-F', '-f', $p->cfg];
    my $deadline = time + 5;
    sleep 0.1 until $p->log =~ $want || time > $deadline;
    like($p->log, $want, "$name library: clear log line");
    my ($n) = grep { $_->{Type} eq 'netd' } $p->ps;
    ok($n && $n->{State} ne 'running', "$name library: netd not running (state "
       . ($n->{State} // '?') . ")");
    $p->stop;
}

done_testing();
