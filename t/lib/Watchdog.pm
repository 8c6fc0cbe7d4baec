package Watchdog;

# SUMMARY
#	Watchdog - kill the servers a test started once the test is gone
# SYNOPSIS
#	my $w = Watchdog::arm(pgrp => $pid, what => 'mariadbd');
#	my $w = Watchdog::arm(pid => $pid, sig => 'INT', grace => 5);
#	my $w = Watchdog::arm(pidfile => $f, match => $cfg, group => 1);
#	Watchdog::disarm($w);             # the normal stop path: it is gone
#	Watchdog::dir($dir);              # removed too when the test dies
#	Watchdog::in_child();             # in a fork that does not exec
# DESCRIPTION
#	A test that dies hard (SIGKILL, a prove timeout, a crash of perl,
#	a die that skips the cleanup it does at its end) runs no cleanup of
#	its own, and the servers it started keep their ports, temp dirs and
#	CPU. So the
#	first arm() of a test process starts a watcher for it: a small perl
#	process in a session of its own (t/lib/Watchdog.pm run as a
#	program) that holds the read end of a pipe whose write end only the
#	test holds (close-on-exec, so no server inherits it). arm() and
#	disarm() are lines on that pipe. The watcher blocks in read(); EOF
#	means the test process is gone, however it died. As a second
#	trigger, should a forked child of the test still hold the write end,
#	the watcher asks for SIGUSR1 when its parent (the test) dies
#	(PR_SET_PDEATHSIG; x86_64 and aarch64). SIGTERM to the watcher
#	works the same way.
#
#	Then, for every target still armed: SIGTERM (or sig => NAME) to the
#	process group (pgrp => PGID) or to the pid (pid => PID), up to
#	grace seconds (default 3) for them to go, then SIGKILL; then the
#	dirs of dir() are removed (not with T_LEAVE=1), and the watcher
#	exits. A target is only signalled while it is still the process
#	that was armed (its start time in /proc matches; a group whose
#	leader has gone is still that group while any member is left: the
#	kernel does not hand out a pid in use as a pgid), so a pid reused
#	after the test stopped it is never hit. A daemon that the test did
#	not fork (mid started by sipctl) is armed by its pid file: read when
#	the test is gone, and signalled (its group when it leads one, or
#	with group => 1 the group it is in: a daemon's after fork, setsid,
#	fork) only when its command line contains the match string (its
#	config path).
#
#	The normal stop paths call disarm() once the server is gone, so a
#	test that ends normally leaves the watcher nothing to do. A forked
#	child of the test that calls arm() gets a watcher of its own (its
#	own death is what counts); disarm() of a parent's target from a
#	child still reaches the parent's watcher. A fork that does not exec
#	and outlives its parent (a server written in perl) calls in_child()
#	to drop the inherited write end.
# DIAGNOSTICS
#	arm() returns undef (and warns) when no watcher can be started;
#	the test then goes on without one. The watcher reports what it
#	killed on stderr, "watchdog[PID]: ...".

use strict;
use warnings;
use Config;
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
use IO::Handle;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use POSIX qw(_exit setsid);
use Time::HiRes qw(time sleep);

my %pipe;                       # owner pid -> write end of its watcher
my %watcher;                    # owner pid -> watcher pid
my $seq = 0;
my $LIB = dirname(abs_path(__FILE__));
my %PRCTL = (x86_64 => 157, aarch64 => 167);
my $PR_SET_PDEATHSIG = 1;

# start_time(PID) - field 22 of /proc/PID/stat (clock ticks since boot),
# undef when PID is gone or a zombie
sub start_time
{
    my ($pid) = @_;
    open(my $fh, '<', "/proc/$pid/stat") or return undef;
    my $s = <$fh> // return undef;
    $s =~ /^\d+ \(.*\) (\S) (.*)$/s or return undef;
    return undef if $1 eq 'Z' || $1 eq 'X';
    return (split(' ', $2))[18];
}

# _start - fork and exec the watcher of this process; its pipe's write
# end, or undef
sub _start
{
    pipe(my $r, my $w) or do { warn "watchdog: pipe: $!\n"; return undef };
    my $test = $$;
    my $pid = fork();
    if (!defined $pid) {
        warn "watchdog: fork: $!\n";
        return undef;
    }
    if (!$pid) {
        close($w);
        setsid();
        # ignored until watch() has its handler: a SIGUSR1 before that
        # would kill the watcher; getppid() then tells what was missed
        $SIG{USR1} = $SIG{TERM} = 'IGNORE';
        my $nr = $PRCTL{ (split /-/, $Config{archname})[0] };
        syscall($nr, $PR_SET_PDEATHSIG, 10) if $nr;        # SIGUSR1
        my $fl = fcntl($r, F_GETFD, 0);
        fcntl($r, F_SETFD, $fl & ~FD_CLOEXEC) if defined $fl;
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', '/dev/null');
        exec($^X, "-I$LIB", '-MWatchdog', '-e', 'Watchdog::watch(@ARGV)',
             fileno($r), $test) or _exit(127);
    }
    close($r);
    $w->autoflush(1);
    $watcher{$$} = $pid;
    return $w;
}

sub _send
{
    my ($owner, $line) = @_;
    my $w = $pipe{$owner} or return 0;
    local $SIG{PIPE} = 'IGNORE';
    return syswrite($w, "$line\n") ? 1 : 0;
}

# _esc(TEXT) - one word of a line on the pipe
sub _esc
{
    my ($t) = @_;
    $t =~ s/([%\s])/sprintf('%%%02X', ord $1)/ge;
    return length $t ? $t : '%';
}

sub _unesc
{
    my ($t) = @_;
    return '' if $t eq '%';
    $t =~ s/%([0-9A-F]{2})/chr hex $1/ge;
    return $t;
}

# arm(pid => PID | pgrp => PGID | pidfile => FILE, match => TEXT,
# group => 1, sig => NAME, grace => S, what => TEXT) - a token for
# disarm(), or undef (no such process, no watcher)
sub arm
{
    my (%o) = @_;
    my ($kind, $pid, $st) = ($o{group} ? 'filegrp' : 'file', 0, 0);
    if (!defined $o{pidfile}) {
        $kind = $o{pgrp} ? 'pgrp' : 'pid';
        $pid = $o{pgrp} // $o{pid} // return undef;
        $st = start_time($pid) // return undef;
    }
    $pipe{$$} //= _start() // return undef;
    my $id = ++$seq;
    _send($$, join(' ', 'arm', $id, $kind, $pid, $st, $o{sig} // 'TERM',
                   $o{grace} // 3, map { _esc($_ // '') }
                   $o{what} // 'server', $o{pidfile}, $o{match}))
        or return undef;
    return { owner => $$, id => $id };
}

# disarm(TOKEN) - forget a target (accepts undef)
sub disarm
{
    my ($t) = @_;
    return unless $t;
    _send($t->{owner}, "disarm $t->{id}");
}

# dir(DIR) - remove DIR too when the test dies (nothing with T_LEAVE=1)
sub dir
{
    my ($d) = @_;
    return if $ENV{T_LEAVE} || !defined $d;
    $pipe{$$} //= _start() // return;
    _send($$, 'dir ' . _esc($d));
}

# in_child() - in a fork that does not exec: let go of the write ends
# inherited from the test, so that only the test's death closes them
sub in_child
{
    for my $owner (keys %pipe) {
        next if $owner == $$;
        close(delete $pipe{$owner});
    }
}

# watcher(OWNER) - the watcher's pid for this test process (for tests)
sub watcher { $watcher{ $_[0] // $$ } }

# ---- the watcher --------------------------------------------------------

sub _log { print STDERR "watchdog[$$]: @_\n" }

# _alive(T) - T is still the process (group) that was armed
sub _alive
{
    my ($t) = @_;
    my $st = start_time($t->{pid});
    return $st == $t->{start} if defined $st;
    return 0 unless $t->{kind} eq 'pgrp';
    opendir(my $d, '/proc') or return 0;
    for my $p (grep { /^\d+$/ } readdir($d)) {
        open(my $fh, '<', "/proc/$p/stat") or next;
        my $s = <$fh> // next;
        next unless $s =~ /^\d+ \(.*\) (\S) (.*)$/s;
        next if $1 eq 'Z';
        return 1 if (split(' ', $2))[2] == $t->{pid};
    }
    return 0;
}

# _resolve(T) - a pid file target becomes the pid (or group) it names,
# if that process's command line has the match string; T, or () when
# it names none
sub _resolve
{
    my ($t) = @_;
    $t->{file_kind} = $t->{kind};
    open(my $fh, '<', $t->{file}) or return ();
    my ($pid) = (<$fh> // '') =~ /^(\d+)$/ or return ();
    open(my $c, '<', "/proc/$pid/cmdline") or return ();
    my $cmd = do { local $/; <$c> } // '';
    $cmd =~ tr/\0/ /;
    return if index($cmd, $t->{match}) < 0;
    open(my $s, '<', "/proc/$pid/stat") or return ();
    my ($grp) = (<$s> // '') =~ /^\d+ \(.*\) \S \d+ (\d+) /s or return ();
    $t->{start} = start_time($pid) // return ();
    $t->{pid} = $pid;
    $t->{kind} = $grp == $pid ? 'pgrp' : 'pid';
    if ($t->{kind} eq 'pid' && $t->{file_kind} eq 'filegrp') {
        # its leader may be gone: then no process has the pgid as pid
        # while the group lasts, and start time -1 matches none
        $t->{kind} = 'pgrp';
        $t->{pid} = $grp;
        $t->{start} = start_time($grp) // -1;
    }
    $t->{what} .= " (pid $pid)";
    return $t;
}

sub _signal
{
    my ($t, $sig) = @_;
    return 0 unless _alive($t);
    kill($sig, $t->{kind} eq 'pgrp' ? -$t->{pid} : $t->{pid});
    return 1;
}

# _reap(TARGETS, DIRS) - first signal, grace, SIGKILL, the dirs
sub _reap
{
    my ($arm, $dirs) = @_;
    my %seen;
    # a pid file naming a process armed anyway (mid started by the test
    # itself) adds nothing: one signal each
    my @t = grep { !$seen{"$_->{kind} $_->{pid}"}++ }
        (grep({ $_->{kind} !~ /^file/ } values %$arm),
         map { _resolve($_) } grep { $_->{kind} =~ /^file/ } values %$arm);
    @t = grep { _signal($_, $_->{sig}) } @t;
    _log("test gone: SIG$_->{sig} to $_->{kind} $_->{pid} ($_->{what})")
        for @t;
    my ($grace) = sort { $b <=> $a } map { $_->{grace} } @t;
    my $deadline = time + ($grace // 0);
    while ((@t = grep { _alive($_) } @t) && time < $deadline) {
        sleep 0.05;
    }
    for (grep { _signal($_, 'KILL') } @t) {
        _log("SIGKILL to $_->{kind} $_->{pid} ($_->{what})");
    }
    $deadline = time + 5;
    sleep 0.02 while (@t = grep { _alive($_) } @t) && time < $deadline;
    remove_tree($_, { safe => 1 }) for grep { -d } @$dirs;
}

# _line(LINE, ARM, DIRS) - one command from the test
sub _line
{
    my ($l, $arm, $dirs) = @_;
    my ($cmd, @a) = split(' ', $l);
    return unless defined $cmd;
    if ($cmd eq 'arm') {
        my %t;
        @t{qw(id kind pid start sig grace what file match)} = @a;
        $t{$_} = _unesc($t{$_}) for qw(what file match);
        $arm->{ $t{id} } = \%t;
    } elsif ($cmd eq 'disarm') {
        delete $arm->{ $a[0] };
    } elsif ($cmd eq 'dir') {
        push @$dirs, _unesc($a[0]);
    }
}

# watch(FD, TEST) - the watcher's main: read arm/disarm/dir lines until
# EOF (or SIGUSR1/SIGTERM), then reap what is still armed, and exit
sub watch
{
    my ($fd, $test) = @_;
    my (%arm, @dirs);
    my $buf = '';
    $SIG{$_} = 'IGNORE' for qw(INT HUP PIPE QUIT);
    open(my $r, '<&=', $fd) or _exit(1);
    eval {
        local $SIG{USR1} = local $SIG{TERM} = sub { die "gone\n" };
        die "gone\n" if getppid() != $test;    # died before prctl
        while (sysread($r, $buf, 4096, length $buf)) {
            _line($1, \%arm, \@dirs) while $buf =~ s/^([^\n]*)\n//;
        }
    };
    $SIG{USR1} = $SIG{TERM} = 'IGNORE';
    # what the test wrote before it died may still be in the pipe
    $r->blocking(0);
    1 while sysread($r, $buf, 4096, length $buf);
    _line($1, \%arm, \@dirs) while $buf =~ s/^([^\n]*)\n//;
    _reap(\%arm, \@dirs);
    _exit(0);
}

1;
