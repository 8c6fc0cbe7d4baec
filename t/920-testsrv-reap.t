#!/usr/bin/perl
# The test servers' watchdog (t/lib/Watchdog.pm): a test that dies hard
# leaves nothing running. For each kind of server a t/lib helper starts
# -- PostgreSQL (Pg.pm), MariaDB (Maria.pm), dnsmasq (Dnsmasq.pm), the
# fake DNS responder (FakeDns.pm), a TLS peer (Tls.pm), the dbd loop
# tool (DbdLoop.pm), the proxy (Proxy.pm: mid and its stages), a sipp
# UAS (Proxy.pm), and a mid that sipctl started on a Proxy.pm config --
# a child perl (this script again, run with --child KIND) starts it
# through the helper's public API, reports its pids, ports and temp dir
# on stdout, and is SIGKILLed: no END block, no DESTROY runs. Within
# 10 s the server's processes must be gone (or zombies: init reaps
# them), its ports free and its temp dir removed.
#
# A kind whose program is not installed (or not built) is skipped with
# the reason. Every wait is bounded: the start by 90 s (a loaded
# machine), the reaping by 10 s per kind.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);

child($ARGV[1]) if @ARGV == 2 && $ARGV[0] eq '--child';

require Test::More;
Test::More->import;
require Proxy;
require Watchdog;

# ---- the child: start one server, report, wait to be killed -----------

sub report
{
    my (%r) = @_;
    $| = 1;
    print 'ready ' . join(' ', map {
        "$_=" . (ref $r{$_} ? join(',', @{ $r{$_} }) : $r{$_})
    } sort keys %r) . "\n";
    sleep 1 while 1;
}

sub child_pg
{
    require Pg;
    my $pg = Pg->new;
    my ($pid) = (Proxy::slurp($pg->dir . '/data/postmaster.pid') // '')
        =~ /^(\d+)/;
    report(pgrp => $pid, tcp => $pg->port, dir => $pg->dir);
}

sub child_maria
{
    require Maria;
    my $m = Maria->new;
    report(pgrp => $m->pid, tcp => $m->port, dir => $m->dir);
}

sub child_dnsmasq
{
    require Dnsmasq;
    my $port = Dnsmasq::serve('--host-record=reap.test,127.0.0.1');
    my @p = map { $_->{pid} } Proxy::proc_scan(sub {
        $_[0]{cmdline} =~ /dnsmasq.* --port=$port /
    });
    my ($log) = map { $_->{cmdline} =~ /--pid-file=(\S+)\/dnsmasq\.pid/ }
        Proxy::proc_scan(sub { $_[0]{pid} == $p[0] });
    report(pid => \@p, tcp => $port, udp => $port, dir => $log);
}

sub child_fakedns
{
    require FakeDns;
    my $port = Proxy::free_ports(1);
    my $pid = FakeDns::start($port, { 'reap.test A' => ['127.0.0.1'] })
        or die "FakeDns::start: $!";
    report(pid => $pid, udp => $port);
}

sub child_tls
{
    require Tls;
    my $dir = Proxy::make_tempdir();
    my $pki = Tls::pki($dir);
    my $s = Tls->server(cert => $pki->{server}, key => $pki->{server_key});
    report(pid => $s->{pid}, tcp => $s->port, dir => $dir);
}

sub child_dbdloop
{
    require DbdLoop;
    my $l = DbdLoop->new(urls => ['postgres://x:y@127.0.0.1:9/x'],
                         pool => 1, queue_max => 4, timeout_ms => 1000);
    report(pid => $l->{pid}, dir => File::Basename::dirname($l->{log}));
}

sub child_proxy
{
    my $p = Proxy->new(sipd => 1, tcp => 1);
    report(pgrp => $p->pid, udp => $p->port, tcp => $p->port,
           dir => $p->dir);
}

sub child_sipp
{
    my $p = Proxy->new(sipd => 1);
    my $h = $p->sipp_uas;
    $h->{ready} or die "sipp uas did not start";
    report(pgrp => [$h->{pid}, $p->pid], udp => [$h->{port}, $p->port],
           dir => $p->dir);
}

sub child_sipctl
{
    my $p = Proxy->new(no_start => 1);
    my $r = Proxy::run_cmd([ Proxy::repo_root() . '/scripts/sipctl', '-f',
                             $p->cfg, 'start' ], timeout => 30);
    $r->{exit} == 0 or die "sipctl start: $r->{out}$r->{err}";
    my ($pid) = (Proxy::slurp($p->dir . '/mid.pid') // '') =~ /^(\d+)/;
    my $i = Proxy::proc_info($pid) or die "mid $pid: gone";
    report(pid => $pid, pgrp => $i->{pgrp}, udp => $p->port,
           dir => $p->dir);
}

sub child
{
    my ($kind) = @_;
    require File::Basename;
    require Proxy;
    my $f = main->can("child_$kind") or die "no kind $kind";
    $f->();
    _exit(1);
}

# ---- the test -----------------------------------------------------------

# _in_path(PROG...) - every PROG is an executable in $PATH
sub _in_path
{
    for my $p (@_) {
        return 0 unless grep { -x "$_/$p" } split /:/, $ENV{PATH} // '';
    }
    return 1;
}

# kinds: name => reason to skip, or undef
my $BIN = Proxy::build_dir() . '/bin/mid';
my @KINDS = (
    [ pg => do { require Pg; Pg::binary() ? undef
                 : 'postgresql not installed' } ],
    [ maria => do { require Maria; Maria::binary() ? undef
                    : 'mariadbd not installed' } ],
    [ dnsmasq => do { require Dnsmasq; Dnsmasq::binary() ? undef
                      : 'dnsmasq not installed' } ],
    [ fakedns => undef ],
    [ tls => _in_path('openssl', 'python3') ? undef
             : 'openssl or python3 not installed' ],
    [ dbdloop => -x Proxy::build_dir() . '/t/dbd_loop' ? undef
                 : 'build/t/dbd_loop not built' ],
    [ proxy => -x $BIN ? undef : 'mid not built' ],
    [ sipp => !-x $BIN ? 'mid not built'
              : _in_path('sipp') ? undef : 'sipp not installed' ],
    [ sipctl => -x $BIN ? undef : 'mid not built' ],
);

# _listening(PROTO, PORT) - some socket bound (udp) or listening (tcp)
# on 127.0.0.1:PORT or *:PORT, from /proc/net (binding could steal it)
sub _listening
{
    my ($proto, $port) = @_;
    my $hex = sprintf('%04X', $port);
    my $t = Proxy::slurp("/proc/net/$proto") // return 0;
    my $st = $proto eq 'tcp' ? ' 0A ' : ' ';
    return $t =~ /^\s*\d+: (?:0100007F|00000000):$hex [0-9A-F:]+$st/m
        ? 1 : 0;
}

# _left(R) - what of the reported server is still there
sub _left
{
    my ($r) = @_;
    my @l;
    for my $pid (@{ $r->{pid} }) {
        my $st = Watchdog::start_time($pid);
        push @l, "pid $pid" if defined $st && $st == $r->{start}{$pid};
    }
    for my $g (@{ $r->{pgrp} }) {
        push @l, map { "pid $_->{pid} ($_->{comm}) of group $g" }
            Proxy::proc_scan(sub { $_[0]{pgrp} == $g
                                   && $_[0]{state} ne 'Z' });
    }
    push @l, map { "tcp port $_" } grep { _listening('tcp', $_) }
        @{ $r->{tcp} };
    push @l, map { "udp port $_" } grep { _listening('udp', $_) }
        @{ $r->{udp} };
    push @l, map { "dir $_" } grep { -e } @{ $r->{dir} }
        unless $ENV{T_LEAVE};
    return @l;
}

# _start(KIND) - (child pid, report) once the child says ready; the
# report is undef (and its output in {out}) when it did not
sub _start
{
    my ($kind) = @_;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        close($r);
        open(STDOUT, '>&', $w);
        open(STDIN, '<', '/dev/null');
        exec($^X, "-I$FindBin::Bin/lib", $0, '--child', $kind)
            or _exit(127);
    }
    close($w);
    my ($buf, $deadline) = ('', time + 90);
    while ($buf !~ /\n/ && time < $deadline) {
        my $rin = '';
        vec($rin, fileno($r), 1) = 1;
        next unless select($rin, undef, undef, $deadline - time) > 0;
        sysread($r, $buf, 4096, length $buf) or last;
    }
    return ($pid, undef, $buf) unless $buf =~ /^ready (.*)$/m;
    my %rep = (start => {});
    for (split ' ', $1) {
        my ($k, $v) = split /=/, $_, 2;
        $rep{$k} = [ grep { length } split /,/, $v ];
    }
    for my $p (@{ $rep{pid} || [] }) {
        $rep{start}{$p} = Watchdog::start_time($p) // -1;
    }
    return ($pid, \%rep, $buf);
}

for (@KINDS) {
    my ($kind, $skip) = @$_;
  SKIP: {
        skip("$kind: $skip", 3) if $skip;
        my ($pid, $rep, $out) = _start($kind);
        ok($rep, "$kind: started by a child perl") or diag($out);
        if (!$rep) {
            kill('KILL', $pid);
            waitpid($pid, 0);
            skip("$kind: did not start", 2);
        }
        my @pids = (@{ $rep->{pid} || [] }, @{ $rep->{pgrp} || [] });
        ok(@pids && !grep({ !$_ } @pids), "$kind: its pids reported")
            or diag(explain($rep));
        kill('KILL', $pid);
        waitpid($pid, 0);
        my $t0 = time;
        my @left;
        while ((@left = _left($rep)) && time < $t0 + 10) {
            sleep 0.1;
        }
        ok(!@left, sprintf("%s: gone %.1f s after its test was SIGKILLed",
                           $kind, time - $t0))
            or diag(join("\n", @left));
    }
}

done_testing();
