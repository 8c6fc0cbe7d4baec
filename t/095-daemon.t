#!/usr/bin/perl
# Daemon duties of [core], each in a small block: user/group (the stages
# run as nobody, mid stays root, a listen port below 1024 still works),
# chroot_dir (the stages run in it), open_files and do_coredump (limits
# of mid and the stages; a crashing sipd dumps core only when asked),
# pid_file and pgid_file, SIGHUP = reload, SIGTERM drains what was
# accepted and stops within a bound. The blocks that need root say why
# they skip without it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use Proxy qw(slurp);
use Sip;

my $ROOT = $> == 0;
# a sanitizer build (make check): it catches SIGSEGV and sets the core
# limit itself, and its leak check needs /proc, which a chroot hides
my $SAN = Proxy::build_dir() =~ m{/build-[^/]*(?:address|thread)} ? 1 : 0;
my $seq = 0;

# forwarded(P, N) - N OPTIONS through P; how many reached the UAS
sub forwarded
{
    my ($p, $n, $wait) = @_;
    my ($uac, $uas) = ($p->udp_socket, $p->udp_socket);
    my %want;
    for (1 .. $n) {
        my $id = 'dm' . ++$seq;
        $uac->send(Sip::options('sip:bob@127.0.0.1:' . $uas->port,
                                $uac->port, $id), $p->port);
        $want{$id} = 1;
    }
    my ($got, $deadline) = (0, time + ($wait // 5));
    while ($got < $n && time < $deadline) {
        my ($m) = $uas->recv(0.2);
        $got++ if defined $m && $m =~ /\r\nCall-ID: (\S+?)-\d+\@/
                  && delete $want{$1};
    }
    return $got;
}

# stage_pids(P) - stage => pid of every running stage
sub stage_pids
{
    my ($p) = @_;
    return map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) }
           grep { $_->{Type} ne 'mid' } $p->ps;
}

sub status_of
{
    my ($pid, $key) = @_;
    my $s = slurp("/proc/$pid/status") // '';
    return $s =~ /^\Q$key\E:\s*(\d+)/m ? $1 : undef;
}

sub limit_of
{
    my ($pid, $what) = @_;
    my $s = slurp("/proc/$pid/limits") // '';
    return $s =~ /^\Q$what\E\s+(\S+)\s+(\S+)/m ? "$1/$2" : undef;
}

# low_port() - a free UDP port below 1024 on 127.0.0.1
sub low_port
{
    for my $try (1 .. 200) {
        my $port = 600 + int(rand(400));
        my $s = IO::Socket::INET->new(Proto => 'udp',
                                      LocalAddr => "127.0.0.1:$port")
            or next;
        close($s);
        return $port;
    }
    return undef;
}

# -- user and group: the stages drop to nobody, port < 1024 still works
SKIP: {
    skip 'user/group: needs root (mid binds as root, stages drop)', 9
        unless $ROOT;
    my $port = low_port() or skip 'no free UDP port below 1024', 9;
    my $p = Proxy->new(sipd => 2, children => 2, no_start => 1,
                       extra => { core => [ 'user = nobody',
                                            'group = nogroup' ] });
    $p->{ports} = [ $port ];
    Proxy::spew($p->cfg, $p->config_text);
    $p->start;
    my $nobody = getpwnam('nobody');
    my $nogroup = getgrnam('nogroup');
    my %pid = stage_pids($p);
    is(scalar keys %pid, 4, 'user: netd, dnsd and two sipd running');
    is_deeply([ sort map { status_of($_, 'Uid') } values %pid ],
              [ ($nobody) x 4 ], 'user: every stage runs as nobody');
    is_deeply([ sort map { status_of($_, 'Gid') } values %pid ],
              [ ($nogroup) x 4 ], 'group: every stage runs as nogroup');
    is(status_of($p->pid, 'Uid'), 0, 'user: mid stays root');
    is(forwarded($p, 20), 20, "user: port $port (< 1024) forwards");
    my ($c, $why) = $p->mi('stage_restart', 'sipd/1');
    is($c, 200, 'user: stage_restart sipd/1') or diag($why);
    ok($p->wait_ps(sub { my ($s) = grep { $_->{Type} eq 'sipd'
                                          && $_->{Instance} == 1 } @_;
                         $s && $s->{State} eq 'running'
                             && $s->{PID} != $pid{'sipd/1'} }, 10),
       'user: the restarted sipd is running');
    my ($s1) = $p->ps_of('sipd', 1);
    is(status_of($s1->{PID}, 'Uid'), $nobody,
       'user: the restarted sipd dropped again');
    is(forwarded($p, 20), 20, 'user: still forwards after the restart');
    $p->stop;
}

# -- a user that does not exist is a config error, not a crash loop
{
    my $p = Proxy->new(no_start => 1,
                       extra => { core => [ 'user = no-such-user-x' ] });
    my $r = Proxy::run_cmd([ Proxy::bin('mid'), '-c', '-f', $p->cfg ]);
    isnt($r->{exit}, 0, 'unknown user: mid -c fails');
    like($r->{err}, qr/:\d+: \[core\] user: no-such-user-x: no such user/,
         'unknown user: FILE:LINE: [core] user: names it');
}

# -- chroot_dir: every stage runs inside it, mid does not
SKIP: {
    skip 'chroot_dir: needs root', 4 unless $ROOT;
    skip 'chroot_dir: a sanitizer build needs /proc in the jail', 4 if $SAN;
    my $p = Proxy->new(sipd => 1, children => 2, no_start => 1);
    my $jail = $p->dir . '/jail';
    mkdir($jail) or die "$jail: $!";
    $p->{opts}{extra} = { core => [ "chroot_dir = $jail" ] };
    Proxy::spew($p->cfg, $p->config_text);
    $p->start;
    my %pid = stage_pids($p);
    is_deeply([ map { readlink("/proc/$_/root") } values %pid ],
              [ ($jail) x 3 ], 'chroot_dir: every stage is chrooted');
    is(readlink('/proc/' . $p->pid . '/root'), '/',
       'chroot_dir: mid is not (it execs the stages)');
    is(forwarded($p, 20), 20, 'chroot_dir: forwards');
    $p->stop;
}

# -- open_files: mid's and the stages' descriptor limit
{
    my $p = Proxy->new(sipd => 1, children => 2,
                       extra => { core => [ 'open_files = 2000' ] });
    my %pid = stage_pids($p);
    is(limit_of($p->pid, 'Max open files'), '2000/2000',
       'open_files: mid');
    is_deeply([ map { limit_of($_, 'Max open files') } values %pid ],
              [ ('2000/2000') x 3 ], 'open_files: the stages inherit it');
    $p->stop;
}

# -- do_coredump: 1 lets a crashing stage dump core, 0 does not (even
# when mid was started with an unlimited core size)
system('prlimit', "--pid=$$", '--core=unlimited:unlimited') if $ROOT;
for my $dump ($SAN ? () : (1, 0)) {
    my $p = Proxy->new(sipd => 1, children => 2,
                       extra => { core => [ "do_coredump = $dump" ] },
                       log_ok => qr/killed by signal 11/);
    my ($s) = $p->ps_of('sipd', 0);
    like(limit_of($s->{PID}, 'Max core file size'),
         $dump ? qr/^unlimited\// : qr/^0\//,
         "do_coredump = $dump: sipd's core size limit");
    kill('SEGV', $s->{PID});
    ok($p->wait_ps(sub { my ($n) = grep { $_->{Type} eq 'sipd' } @_;
                         $n->{PID} != $s->{PID} && $n->{State} eq 'running'
                     }, 10), "do_coredump = $dump: sipd restarted");
    my ($line) = $p->log =~ /^(.*pid $s->{PID} killed by signal 11.*)$/m;
    if ($dump) {
        like($line // '', qr/\(core dumped\)/,
             'do_coredump = 1: the crash dumped core');
    } else {
        unlike($line // '', qr/core dumped/,
               'do_coredump = 0: no core');
    }
    unlink(glob($p->dir . '/core*'));
    $p->stop;
}
SKIP: {
    skip 'do_coredump: a sanitizer build handles SIGSEGV and core limits '
         . 'itself', 1 unless $SAN;
    pass('do_coredump: checked in the plain build only');
}

# -- pid_file and pgid_file: written at start, removed at stop
{
    my $p = Proxy->new(sipd => 1, children => 2);
    my ($pidf, $pgidf) = map { $p->dir . "/mid.$_" } qw(pid pgid);
    is(slurp($pidf), $p->pid . "\n", 'pid_file: holds mid\'s pid');
    is(slurp($pgidf), getpgrp($p->pid) . "\n",
       'pgid_file: holds mid\'s process group');
    $p->stop;
    ok(!-e $pidf && !-e $pgidf, 'pid_file, pgid_file: removed at stop');
}

# -- SIGHUP is a reload
{
    my $p = Proxy->new(sipd => 1, children => 2, debug => 2);
    # [log] debug is live in mid; the other keys restart every stage
    Proxy::spew($p->cfg, ($p->config_text =~ s/debug = 2/debug = 3/r)
                . "[dns]\nblacklist_s = 30\n[net]\ntcp_lifetime = 60\n"
                . "[route]\nrecord_route = 1\n");
    kill('HUP', $p->pid);
    my $until = time + 10;
    my $dbg;
    while (time < $until) {
        (undef, undef, $dbg) = $p->mi('debug');
        last if $dbg && $dbg->[0] eq 'DEBUG:: 3';
        sleep 0.1;
    }
    is_deeply($dbg, ['DEBUG:: 3'], 'SIGHUP: the new file is live');
    ok($p->wait_ps(sub { !grep { $_->{Type} ne 'mid'
                                 && ($_->{Restarts} != 1
                                     || $_->{State} ne 'running') } @_ },
                   15), 'SIGHUP: every stage restarted once on it');
    $p->stop;
}

# -- SIGTERM: what netd accepted is forwarded (sipd drains its ring
# before it exits, netd stops after the sipd), and everything stops
# within a bound. sipd is held with SIGSTOP while netd accepts the
# requests, so they are all still in its ring when mid is told to stop.
{
    my $p = Proxy->new(sipd => 1, children => 2);
    my ($uac, $uas) = ($p->udp_socket, $p->udp_socket);
    my ($s) = $p->ps_of('sipd', 0);
    my $rcv0 = $p->stat('net:udp_rcv_datagrams');
    my $n = 100;                        # 166 fill a default socket buffer
    Proxy::stop_process($s->{PID});
    for (1 .. $n) {
        $uac->send(Sip::options('sip:bob@127.0.0.1:' . $uas->port,
                                $uac->port, 'term' . ++$seq), $p->port);
    }
    my $until = time + 1.5;
    sleep 0.02 while $p->stat('net:udp_rcv_datagrams') < $rcv0 + $n
                     && time < $until;
    is($p->stat('net:udp_rcv_datagrams') - $rcv0, $n,
       "SIGTERM: netd accepted all $n while sipd was held");
    my $t0 = time;
    kill('TERM', $p->pid);
    sleep 0.1;
    kill('CONT', $s->{PID});
    my ($got, $st) = (0);
    while (!defined($st = $p->wait_exit(0)) && time < $t0 + 10) {
        my ($m) = $uas->recv(0.05);     # read as they come: 200 do not
        $got++ if defined $m;           # fit in one socket buffer
    }
    my $took = time - $t0;
    ok(defined $st && $took < 7,
       sprintf('SIGTERM: mid and every stage gone in %.1f s (< 7)', $took));
    while (1) {
        my ($m) = $uas->recv(0.5);
        last unless defined $m;
        $got++;
    }
    is($got, $n, "SIGTERM: all $n accepted requests were forwarded")
        or diag('UAS socket drops: ' . ($uas->kernel_drops // '?'));
    $p->stop;
}

done_testing();
