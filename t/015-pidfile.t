#!/usr/bin/perl
# The pid file is mid's instance lock. A second "mid -f CFG" against a
# running instance exits non-zero naming the pid file and the running
# pid, and touches nothing: the pid file, the FIFO, run_dir and the
# pgid file stay as they were, and the first mid answers on. sipctl
# tells live from stale by the lock, not by the pid: a locked file is
# never removed, an unlocked one is stale whatever pid it names.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Fcntl qw(:flock O_RDWR O_CREAT);
use POSIX qw(_exit WNOHANG);
use Proxy qw(bin run_cmd slurp);
use Watchdog ();

my $SIPCTL = Proxy::repo_root() . '/scripts/sipctl';

sub sipctl
{
    my ($cfg, @cmd) = @_;
    return run_cmd([ $SIPCTL, '-f', $cfg, @cmd ], timeout => 30);
}

# run_dir and the FIFO as (name => inode): any unlink/re-create shows
sub snapshot
{
    my ($p) = @_;
    my %s;
    opendir(my $dh, $p->run_dir) or die "opendir: $!";
    for (grep { !/^\.\.?$/ } readdir($dh)) {
        $s{"run/$_"} = (lstat($p->run_dir . "/$_"))[1];
    }
    $s{fifo} = (lstat($p->fifo))[1];
    $s{pgid} = slurp($p->dir . '/mid.pgid');
    return \%s;
}

# --- a second mid against a running one --------------------------------
{
    my $p = Proxy->new(sipd => 1, children => 1);
    my $pidf = $p->dir . '/mid.pid';
    my $want = $p->pid;
    like(slurp($pidf) // '', qr/^$want\n\z/, 'pid file holds the first pid');
    my $before = snapshot($p);

    for my $mode ([ '-F', 'foreground' ], [ '-d', 'daemon' ]) {
        my $r = run_cmd([ bin('mid'), $mode->[0], '-f', $p->cfg ],
                        timeout => 10, cwd => $p->dir);
        my $tag = "second mid ($mode->[1])";
        ok(!$r->{timed_out}, "$tag: exits at once");
        isnt($r->{exit} // 'signal', 0, "$tag: exit status non-zero");
        my $err = $r->{err} . $r->{out};
        like($err, qr/pid_file \Q$pidf\E: locked by running mid pid $want: not starting/,
             "$tag: says why, naming the pid file and the running pid")
            or diag($err);
        unlike($err, qr/Address already in use|fifo|shared memory/i,
               "$tag: stopped before any socket, FIFO or segment");
        is(slurp($pidf), "$want\n", "$tag: pid file unchanged");
        is_deeply(snapshot($p), $before,
                  "$tag: FIFO, run_dir files and pgid file untouched");
        ok($p->alive, "$tag: first mid still running");
        my ($code, $reason, $l) = $p->mi('uptime');
        is($code, 200, "$tag: first mid answers uptime");
        my ($m) = grep { $_->{Type} eq 'mid' } $p->ps;
        is($m && $m->{PID}, $want, "$tag: ps shows the first mid");
        my $s = sipctl($p->cfg, 'status');
        is($s->{exit}, 0, "$tag: sipctl status exit 0");
        like($s->{out}, qr/^running, pid $want$/m, "$tag: sipctl status says running")
            or diag($s->{out} . $s->{err});
    }
    # sipctl stop must stop the real one, through the lock
    my $s = sipctl($p->cfg, 'stop');
    is($s->{exit}, 0, 'sipctl stop: exit 0');
    like($s->{out}, qr/stopped/, 'sipctl stop: stopped') or diag($s->{err});
    ok(defined $p->wait_exit(10), 'sipctl stop: the first mid exited');
    $p->stop;
    ok(!-e $pidf, 'pid file removed at exit');
}

# --- sipctl: stale is "not locked", live is "locked" --------------------
{
    my $p = Proxy->new(no_start => 1);
    my $pidf = $p->dir . '/mid.pid';

    # a live process whose command line says "mid", named by a pid file
    # that nobody locks: stale, and sipctl must not signal it
    my $decoy = fork() // die "fork: $!";
    if (!$decoy) {
        exec($^X, '-e', 'sleep 30', 'mid') or _exit(127);
    }
    my $w = Watchdog::arm(pid => $decoy, what => 'decoy "mid"');
    Proxy::spew($pidf, "$decoy\n");
    my $s = sipctl($p->cfg, 'status');
    is($s->{exit}, 3, 'unlocked pid file naming a live "mid": status 3');
    like($s->{out}, qr/not running/, '... says not running') or diag($s->{out});
    $s = sipctl($p->cfg, 'stop');
    is($s->{exit}, 0, 'unlocked pid file: stop exit 0');
    ok(!-e $pidf, 'unlocked pid file: stop removes it as stale');
    is(waitpid($decoy, WNOHANG), 0, 'the process it named was not signalled');
    kill('KILL', $decoy);
    waitpid($decoy, 0);
    Watchdog::disarm($w);

    # a locked pid file that names no live pid (a mid between lock and
    # write): running, and never removed
    Proxy::spew($pidf, "999999999\n");
    sysopen(my $fh, $pidf, O_RDWR) or die "open $pidf: $!";
    flock($fh, LOCK_EX | LOCK_NB) or die "flock: $!";
    $s = sipctl($p->cfg, 'status');
    is($s->{exit}, 0, 'locked pid file: status 0');
    like($s->{out}, qr/^running/, '... says running') or diag($s->{out});
    $s = sipctl($p->cfg, 'stop');
    isnt($s->{exit}, 0, 'locked pid file without a live pid: stop refuses');
    ok(-e $pidf, 'locked pid file: not removed');
    $s = sipctl($p->cfg, 'start');
    isnt($s->{exit}, 0, 'locked pid file: start refuses');
    like($s->{err}, qr/already running/, '... already running')
        or diag($s->{err});
    is(slurp($pidf), "999999999\n", 'locked pid file: contents untouched');
    close($fh);
}

done_testing();
