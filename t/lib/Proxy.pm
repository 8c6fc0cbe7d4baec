package Proxy;

# SUMMARY
#	Proxy - start the real sipstage pipeline for a black-box test
# SYNOPSIS
#	use FindBin; use lib "$FindBin::Bin/lib";
#	use Test::More; use Proxy;
#
#	my $p = Proxy->new(sipd => 2, children => 3);
#	my ($code, $reason, $lines) = $p->mi('ps');
#	my $n = $p->stat('core:rcv_requests');
#	my $uas = $p->udp_socket;             # a UDP socket the test owns
#	$p->udp_send($bytes);                 # default socket -> the proxy
#	my ($msg, $from_port) = $uas->recv(2);
#	my $r = $p->sipp(sn => 'uac', ...);   # runs to completion
#	$p->stop;                             # SIGTERM, exit 0, nothing left
#	done_testing;
# DESCRIPTION
#	Modelled on nginx-tests' lib/Test/Nginx.pm. new() makes a temp dir
#	(kept, and its path printed, when T_LEAVE=1), picks free 127.0.0.1
#	UDP ports (with tcp => 1, ports free for TCP too, each listened on
#	over both: "listen = udp:..." then "listen = tcp:..."; extra => {net
#	=> [...]} lines follow them), writes a config whose run_dir, FIFO, pid and pgid files
#	all live in that dir, starts "$BUILD/bin/mid -F -f CFG" in its own
#	process group with stdout and stderr in DIR/mid.log, and waits until
#	MI "ps" shows every process running (10 s, else BAIL_OUT with the
#	log tail). BUILD is $SIPSTAGE_BUILD, default "build", relative to
#	the repository root (two levels above this file).
#
#	stop() (or DESTROY, when the test forgot) sends SIGTERM, waits up
#	to 10 s, asserts exit status 0, and then asserts the teardown
#	contract: no "panic:"/"fatal:" log lines, no sanitizer report, no
#	process of this proxy left (same process group as mid, or the
#	config path in its cmdline, or a pid ps reported), FIFO gone,
#	nothing left under run_dir, no /dev/shm object the stages had
#	mapped. Every wait is bounded. Everything is per-object (own dir,
#	own ports), so tests are safe under prove -jN.
#
#	sipp(): runs /usr/bin/sipp (Debian sip-tester) with -i 127.0.0.1,
#	explicit -p, -nostdin, -timeout, stats to DIR/NAME.csv; returns a
#	hash of the final cumulative statistics. sipp_uas() starts a UAS in
#	the background (killed at teardown); sipp_start()/sipp_wait() run a
#	UAC asynchronously (e.g. to kill a stage during the run).
#
#	Should the test die hard (SIGKILL, a prove timeout) and run none of
#	this, its watchdog (t/lib/Watchdog.pm) kills mid's process group,
#	each sipp's, each run_cmd() command's group, and a mid that sipctl
#	started on this object's config (by its pid file), and removes the
#	temp dirs of make_tempdir(); the normal stop paths disarm it.
# OPTIONS (new)
#	sipd => N          [stages] sipd
#	children => N      [core] children
#	debug => N         [log] debug
#	record_route => B  [route] record_route
#	listen => N        number of udp listen lines (ports), default 1
#	extra => [LINES]   raw lines appended at the end of the config, or
#	extra => {SECTION => [LINES]}  lines added to that section
#	args => [ARGS]     extra mid arguments (e.g. '-v')
#	timeout => S       readiness timeout, default 10
#	no_start => 1      only write the config (see start())
#	log_ok => qr//     log lines matching this never count as fatal
# DIAGNOSTICS
#	Failures are Test::More assertions; a pipeline that cannot start
#	is a BAIL_OUT, since no later test could mean anything.

use strict;
use warnings;

use Test::More ();
use Cwd qw(abs_path);
use Errno qw(EINTR EAGAIN ENXIO ENOENT EADDRINUSE);
use Fcntl qw(O_RDONLY O_WRONLY O_NONBLOCK);
use File::Basename qw(dirname);
use File::Path ();
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG mkfifo setpgid _exit);
use Socket qw(inet_aton sockaddr_in);
use Time::HiRes qw(time sleep);
use Watchdog ();

use Exporter 'import';
our @EXPORT_OK = qw(run_cmd free_ports repo_root bin proc_scan slurp);

my $ROOT = abs_path(dirname(abs_path(__FILE__)) . '/../..');
my %LIVE;                               # refaddr -> object, for END
my $MI_SEQ = 0;

sub _tb { Test::More->builder }

sub repo_root { $ROOT }

sub build_dir
{
    my $b = $ENV{SIPSTAGE_BUILD} // 'build';
    return File::Spec->file_name_is_absolute($b) ? $b : "$ROOT/$b";
}

# bin('mid') or Proxy->bin('mid'): absolute path of a daemon binary
sub bin { build_dir() . "/bin/$_[-1]" }

sub slurp
{
    my ($f) = @_;
    open(my $fh, '<', $f) or return undef;
    local $/;
    my $s = <$fh>;
    return $s // '';
}

sub spew
{
    my ($f, $s) = @_;
    open(my $fh, '>', $f) or die "$f: $!";
    print $fh $s;
    close($fh) or die "$f: $!";
}

# make_tempdir - a short path (nanomsg ipc paths must fit in sun_path)
sub make_tempdir
{
    my $base = File::Spec->tmpdir;
    $base = '/tmp' if length($base) > 40;
    my $d = tempdir('sipstage-XXXXXXXX', DIR => $base,
                    CLEANUP => !$ENV{T_LEAVE});
    $d = abs_path($d);
    Watchdog::dir($d);
    Test::More::diag("T_LEAVE: temp dir $d kept") if $ENV{T_LEAVE};
    return $d;
}

# free_ports(N) - N distinct free UDP ports on 127.0.0.1 (bind port 0,
# read it back, hold nothing afterwards)
# Ports handed out so far by this test process: a port is free when it
# is picked and nobody holds it afterwards, so the kernel may offer it
# again to the next bind(0) -- a "dead" target port (t/220) that came back
# as the proxy's own made the proxy send a request to itself (482). None
# is handed out twice.
my %handed;

sub free_ports
{
    my ($n) = @_;
    my (@s, @p);
    while (@p < ($n // 1)) {
        my $s = IO::Socket::INET->new(Proto => 'udp',
                                      LocalAddr => '127.0.0.1',
                                      LocalPort => 0)
            or die "free_ports: bind: $!";
        push @s, $s;                    # held until all are picked
        next if $handed{ $s->sockport }++;
        push @p, $s->sockport;
    }
    close($_) for @s;
    return wantarray ? @p : $p[0];
}

# free_port_both() - a port free on 127.0.0.1 for both TCP and UDP (for
# tcp => 1, where one port listens on both), held by nothing afterwards
sub free_port_both
{
    for (1 .. 50) {
        my $t = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                      Proto => 'tcp', Listen => 1)
            or next;
        my $port = $t->sockport;
        my $u = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Proto => 'udp');
        close($t);
        next unless $u;
        close($u);
        next if $handed{$port}++;       # see free_ports
        return $port;
    }
    die "no port free for both tcp and udp";
}

# run_cmd(\@argv, timeout => S, cwd => DIR) - run to completion, bounded.
# Returns {status, exit, signal, out, err, timed_out, pid}.
sub run_cmd
{
    my ($argv, %o) = @_;
    my $tmp = tempdir('sipstage-run-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    Watchdog::dir($tmp);
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        setpgid(0, 0);
        chdir($o{cwd}) if defined $o{cwd};
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', "$tmp/out");
        open(STDERR, '>', "$tmp/err");
        exec(@$argv) or _exit(127);
    }
    setpgid($pid, $pid);
    my $w = Watchdog::arm(pgrp => $pid, what => "run_cmd $argv->[0]");
    my $deadline = time + ($o{timeout} // 10);
    my ($st, $timed_out) = (undef, 0);
    while (1) {
        my $w = waitpid($pid, WNOHANG);
        if ($w == $pid) { $st = $?; last }
        if (time > $deadline) {
            $timed_out = 1;
            kill('KILL', -$pid);
            kill('KILL', $pid);
            waitpid($pid, 0);
            $st = $?;
            last;
        }
        sleep 0.02;
    }
    Watchdog::disarm($w);
    my %r = (
        pid => $pid, status => $st, timed_out => $timed_out,
        exit => ($st & 127) ? undef : $st >> 8,
        signal => $st & 127,
        out => slurp("$tmp/out") // '', err => slurp("$tmp/err") // '',
    );
    # now, not at exit: a test killed later would leave one per command
    File::Path::remove_tree($tmp);
    return \%r;
}

sub describe_status
{
    my ($st) = @_;
    return 'still running' unless defined $st;
    return 'killed by signal ' . ($st & 127) . (($st & 128) ? ' (core)' : '')
        if $st & 127;
    return 'exit ' . ($st >> 8);
}

# proc_scan(sub { my ($info) = @_; ... }) - every process as
# {pid, comm, state, ppid, pgrp, threads, start, cmdline}, filtered
# stop_process(PID, SECS) - SIGSTOP pid and wait (at most SECS, 5 by
# default) until every thread of it is stopped: a group stop takes each
# thread as it next leaves the kernel, and /proc/PID/status shows only
# the main thread's state, so a worker may still run meanwhile. 1 when
# all stopped.
sub stop_process
{
    my ($pid, $secs) = @_;
    kill 'STOP', $pid or return 0;
    my $deadline = Time::HiRes::time() + ($secs // 5);
    while (Time::HiRes::time() < $deadline) {
        my @st = map { slurp($_) // '' } glob("/proc/$pid/task/*/stat");
        return 1 if @st && !grep { !/^\d+ \(.*\) [tT] / } @st;
        Time::HiRes::sleep(0.01);
    }
    return 0;
}

sub proc_scan
{
    my ($want) = @_;
    my @r;
    opendir(my $d, '/proc') or return ();
    for my $pid (grep { /^\d+$/ } readdir($d)) {
        next if $pid == $$;
        my $i = proc_info($pid) or next;
        push @r, $i if !$want || $want->($i);
    }
    return @r;
}

sub proc_info
{
    my ($pid) = @_;
    my $stat = slurp("/proc/$pid/stat") // return undef;
    $stat =~ /^\d+ \((.*)\) (.*)$/s or return undef;
    my ($comm, @f) = ($1, split(' ', $2));
    my $cmd = slurp("/proc/$pid/cmdline") // '';
    $cmd =~ s/\0+\z//;
    $cmd =~ tr/\0/ /;
    return {
        pid => $pid, comm => $comm, state => $f[0], ppid => $f[1],
        pgrp => $f[2], threads => $f[17], start => $f[19],
        cmdline => $cmd,
    };
}

sub new
{
    my ($class, %o) = @_;
    my $self = bless {
        opts => \%o, sipps => [], known => {}, shm => {},
        sipp_seq => 0, stopped => 0,
    }, $class;
    $LIVE{"$self"} = $self;
    my $dir = $self->{dir} = make_tempdir();
    $self->{ports} = [ $o{tcp} ? map { free_port_both() } 1 .. ($o{listen} // 1)
                               : free_ports($o{listen} // 1) ];
    $self->{nsipd} = $o{sipd} // 1;
    $self->{cfg} = "$dir/sipstage.cfg";
    $self->{fifo} = "$dir/mi_fifo";
    $self->{run_dir} = "$dir/run";
    $self->{log} = "$dir/mid.log";
    spew($self->{cfg}, $self->config_text);
    # a mid that sipctl starts on this config is no child of ours
    $self->{watch_file} = Watchdog::arm(pidfile => "$dir/mid.pid",
                                        match => $self->{cfg}, group => 1,
                                        what => "mid $self->{cfg}");
    $self->start unless $o{no_start};
    return $self;
}

sub dir { $_[0]{dir} }
sub cfg { $_[0]{cfg} }
sub fifo { $_[0]{fifo} }
sub run_dir { $_[0]{run_dir} }
sub pid { $_[0]{pid} }
sub port { $_[0]{ports}[$_[1] // 0] }
sub ports { @{ $_[0]{ports} } }
sub argv { @{ $_[0]{argv} || [] } }

sub config_text
{
    my ($self) = @_;
    my $o = $self->{opts};
    my %sec = (
        core => [
            (defined $o->{children} ? "children = $o->{children}" : ()),
            'daemon = 0',
            "run_dir = $self->{run_dir}",
            "pid_file = $self->{dir}/mid.pid",
            "pgid_file = $self->{dir}/mid.pgid",
        ],
        log => [ defined $o->{debug} ? "debug = $o->{debug}" : () ],
        net => [ (map { "listen = udp:127.0.0.1:$_" } @{ $self->{ports} }),
                 ($o->{tcp} ? map { "listen = tcp:127.0.0.1:$_" }
                                  @{ $self->{ports} } : ()) ],
        stages => [ "sipd = $self->{nsipd}" ],
        mi => [ "fifo_name = $self->{fifo}", 'fifo_mode = 0600' ],
        route => [ defined $o->{record_route}
                   ? "record_route = $o->{record_route}" : () ],
    );
    my @order = qw(core log net stages mi route);
    my @raw;
    if (ref $o->{extra} eq 'HASH') {
        for my $s (sort keys %{ $o->{extra} }) {
            push @order, $s unless $sec{$s};
            push @{ $sec{$s} }, @{ $o->{extra}{$s} };
        }
    } elsif (ref $o->{extra} eq 'ARRAY') {
        @raw = @{ $o->{extra} };
    }
    my $t = "# generated by t/lib/Proxy.pm for $0\n";
    for my $s (@order) {
        next unless @{ $sec{$s} };
        $t .= "[$s]\n" . join('', map { "$_\n" } @{ $sec{$s} });
    }
    $t .= join('', map { "$_\n" } @raw);
    return $t;
}

sub _bail
{
    my ($self, $why) = @_;
    my $msg = "$why\n--- $self->{log} (tail"
        . ($ENV{T_LEAVE} ? "" : "; T_LEAVE=1 keeps it") . ") ---\n"
        . $self->log_tail(40);
    $self->_kill_all;
    die "$why\n" if $self->{opts}{no_bail};
    _tb()->BAIL_OUT($msg);
}

# start([args => [...]]) - exec mid and wait until every stage is running
# (after new(no_start => 1), e.g. to pass a path inside dir())
sub start
{
    my ($self, %o) = @_;
    $self->{opts}{args} = $o{args} if $o{args};
    my $mid = bin('mid');
    -x $mid or $self->_bail("$mid: not built (run make)");
    my @argv = ($mid, '-F', '-f', $self->{cfg}, @{ $self->{opts}{args} || [] });
    $self->{argv} = \@argv;
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        setpgid(0, 0);
        chdir($self->{dir});
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', $self->{log});
        open(STDERR, '>&', \*STDOUT);
        exec(@argv) or _exit(127);
    }
    setpgid($pid, $pid);                # whichever of us runs first
    $self->{pid} = $pid;
    Watchdog::disarm($self->{watch});
    $self->{watch} = Watchdog::arm(pgrp => $pid, what => "mid $self->{cfg}");
    $self->{exit_status} = undef;
    $self->{started_at} = time;
    $self->wait_ready($self->{opts}{timeout} // 10);
    return $self;
}

# _reap() - true (and exit_status set) once mid has exited
sub _reap
{
    my ($self) = @_;
    return 1 if defined $self->{exit_status};
    return 0 unless $self->{pid};
    my $w = waitpid($self->{pid}, WNOHANG);
    if ($w == $self->{pid}) {
        $self->{exit_status} = $?;
        return 1;
    }
    return 0;
}

# wait_exit(S) - wait up to S seconds for mid to exit; its wait status,
# or undef when it is still running
sub wait_exit
{
    my ($self, $t) = @_;
    my $deadline = time + ($t // 10);
    until ($self->_reap) {
        return undef if time > $deadline;
        sleep 0.02;
    }
    return $self->{exit_status};
}

sub alive { !$_[0]->_reap }

sub _ps_ready
{
    my ($self, $ps) = @_;
    my %n;
    for my $r (@$ps) {
        return 0 unless ($r->{State} // '') eq 'running';
        $n{ $r->{Type} // '?' }++;
    }
    return ($n{netd} // 0) == 1 && ($n{dnsd} // 0) == 1
        && ($n{sipd} // 0) == $self->{nsipd};
}

sub wait_ready
{
    my ($self, $t) = @_;
    my $deadline = time + $t;
    my $last = '(no ps reply)';
    while (time < $deadline) {
        if ($self->_reap) {
            $self->_bail("mid exited before ready ("
                         . describe_status($self->{exit_status}) . ')');
        }
        if (-p $self->{fifo}) {
            my ($code, $reason, $lines) = $self->mi_opts(
                { timeout => 1, quiet => 1 }, 'ps');
            if (defined $code) {
                $last = "$code $reason\n" . join("\n", @$lines);
                if ($code == 200) {
                    my @ps = _parse_ps($lines);
                    if ($self->_ps_ready(\@ps)) {
                        $self->_remember(@ps);
                        return 1;
                    }
                }
            }
        }
        sleep 0.05;
    }
    $self->_bail("pipeline not running within ${t}s; last ps:\n$last");
}

# _remember(@ps) - note pids (with start time, against pid reuse) and the
# /dev/shm objects they map, for the teardown checks
sub _remember
{
    my ($self, @ps) = @_;
    my @pids = map { $_->{PID} } grep { $_->{PID} } @ps;
    push @pids, map { $_->{pid} }
        proc_scan(sub { $_[0]{pgrp} == $self->{pid} });
    for my $pid (@pids) {
        next if $self->{known}{$pid};
        my $i = proc_info($pid) or next;
        $self->{known}{$pid} = $i->{start};
        open(my $m, '<', "/proc/$pid/maps") or next;
        while (<$m>) {
            $self->{shm}{$1} = 1 if m{\s(/dev/shm/\S+)(?: \(deleted\))?$};
        }
    }
}

# ---- MI ---------------------------------------------------------------

# mi(CMD, ARGS...) - (code, reason, [lines]); code is undef on timeout
sub mi
{
    my ($self, $cmd, @args) = @_;
    return $self->mi_opts({}, $cmd, @args);
}

# mi_opts({timeout => S, reply => NAME}, CMD, ARGS...)
sub mi_opts
{
    my ($self, $o, $cmd, @args) = @_;
    my $reply = $o->{reply} // "proxy_reply_${$}_" . ++$MI_SEQ;
    my $req = ":$cmd:$reply\n" . join('', map { "$_\n" } @args) . "\n";
    my $t0 = time;
    my $raw = $self->mi_raw($req, $reply, $o->{timeout} // 5);
    if (!defined $raw || !length $raw) {
        Test::More::diag(sprintf("MI %s: no reply in %.1fs; %s", $cmd,
                                 time - $t0, $self->proc_states))
            unless $o->{quiet};
        return (undef, 'timeout', []);
    }
    my @l = split(/\n/, $raw);
    my $first = shift(@l) // '';
    return (undef, "bad reply: $raw", \@l)
        unless $first =~ /^(\d{3}) (.*)$/;
    return ($1, $2, \@l);
}

# mi_raw(BYTES, REPLY_NAME, TIMEOUT) - write BYTES to the server FIFO and
# return the raw reply read from DIR/REPLY_NAME (undef on timeout). With
# no REPLY_NAME, only writes, and returns "".
sub mi_raw
{
    my ($self, $req, $reply, $t) = @_;
    my $deadline = time + ($t // 5);
    my ($rfh, $rpath);
    if (defined $reply) {
        $rpath = dirname($self->{fifo}) . "/$reply";
        unlink($rpath);
        mkfifo($rpath, 0600) or die "mkfifo $rpath: $!";
        sysopen($rfh, $rpath, O_RDONLY | O_NONBLOCK)
            or die "open $rpath: $!";
    }
    my $wfh;
    until (sysopen($wfh, $self->{fifo}, O_WRONLY | O_NONBLOCK)) {
        if (time > $deadline || !$self->alive) {
            unlink($rpath) if $rpath;
            return undef;
        }
        sleep 0.02;
    }
    my $off = 0;
    while ($off < length $req) {
        my $n = syswrite($wfh, $req, length($req) - $off, $off);
        if (!defined $n) {
            last unless $! == EAGAIN || $! == EINTR;
            last if time > $deadline;
            sleep 0.01;
            next;
        }
        $off += $n;
    }
    close($wfh);
    return '' unless $rfh;
    my $buf = '';
    my $sel = IO::Select->new($rfh);
    while (1) {
        my $left = $deadline - time;
        last if $left <= 0;
        next unless $sel->can_read($left > 0.2 ? 0.2 : $left);
        my $n = sysread($rfh, $buf, 65536, length $buf);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EINTR;
            last;
        }
        last if $n == 0 && length $buf;     # writer closed
        sleep 0.01 if $n == 0;
        last if $buf =~ /\n\n\z/;
    }
    close($rfh);
    unlink($rpath);
    $self->{last_mi_raw} = $buf;
    return length $buf ? $buf : undef;
}

sub last_mi_raw { $_[0]{last_mi_raw} }

# proc_states() - "comm pid state wchan ..." of mid and its group, for
# diagnosing a pipeline that stopped answering
sub proc_states
{
    my ($self) = @_;
    return 'mid not started' unless $self->{pid};
    my @p = proc_scan(sub { $_[0]{pgrp} == $self->{pid} });
    return 'no process in mid\'s group' unless @p;
    return join(', ', map {
        my $w = slurp("/proc/$_->{pid}/wchan") // '?';
        "$_->{comm}\[$_->{pid}] $_->{state} wchan=$w"
    } sort { $a->{pid} <=> $b->{pid} } @p);
}

sub _parse_ps
{
    my ($lines) = @_;
    my @r;
    for (@$lines) {
        next unless /^Process:: (.*)$/;
        push @r, { map { /^([^=]+)=(.*)$/ ? ($1, $2) : ($_, '') }
                   split(' ', $1) };
    }
    return @r;
}

# ps() - list of {ID, PID, Type, Instance, State, Restarts}
sub ps
{
    my ($self) = @_;
    my ($code, undef, $lines) = $self->mi('ps');
    return () unless defined $code && $code == 200;
    my @ps = _parse_ps($lines);
    $self->_remember(@ps);
    return @ps;
}

# ps_of(TYPE [, INSTANCE]) - the ps rows of one stage
sub ps_of
{
    my ($self, $type, $inst) = @_;
    return grep { $_->{Type} eq $type
                  && (!defined $inst || $_->{Instance} == $inst) } $self->ps;
}

# wait_ps(CODE, S) - poll ps until CODE->(@ps) is true; the ps list, or
# an empty list on timeout (the last ps is kept in {last_ps})
sub wait_ps
{
    my ($self, $pred, $t) = @_;
    my $deadline = time + ($t // 10);
    while (1) {
        my @ps = $self->ps;
        $self->{last_ps} = \@ps;
        return @ps if @ps && $pred->(@ps);
        return () if time > $deadline;
        sleep 0.1;
    }
}

sub ps_text
{
    my ($ps) = @_;
    return join("\n", map { my $r = $_;
                            join(' ', map { "$_=$r->{$_}" } sort keys %$r) }
                      @$ps);
}

# stat(NAME) - the value of one counter, or undef
sub stat
{
    my ($self, $name) = @_;
    my ($code, undef, $lines) = $self->mi('get_statistics', $name);
    return undef unless defined $code && $code == 200;
    for (@$lines) {
        return $1 if /^\Q$name\E:: (\d+)\s*$/;
    }
    return undef;
}

# stats(GROUP_OR_ALL) - {name => value}
sub stats
{
    my ($self, $what) = @_;
    my ($code, undef, $lines) = $self->mi('get_statistics', $what // 'all');
    return {} unless defined $code && $code == 200;
    return { map { /^(\S+):: (\d+)\s*$/ ? ($1, $2) : () } @$lines };
}

# wait_stat(NAME, VALUE, S) - poll until the counter reaches VALUE (the
# counters are summed from shm and may trail the wire by a moment);
# returns the last value read
sub wait_stat
{
    my ($self, $name, $want, $t) = @_;
    my $deadline = time + ($t // 2);
    my $v;
    while (1) {
        $v = $self->stat($name);
        return $v if defined $v && $v >= $want;
        return $v if time > $deadline;
        sleep 0.05;
    }
}

# ---- UDP --------------------------------------------------------------

# udp_socket() - a new Proxy::UDP bound to 127.0.0.1 (a UAC or a UAS)
sub udp_socket { Proxy::UDP->new }

sub udp
{
    my ($self) = @_;
    return $self->{udp} //= Proxy::UDP->new;
}

# udp_send(BYTES [, PORT]) - from the default socket, to the proxy's
# first port unless PORT is given
sub udp_send
{
    my ($self, $bytes, $port) = @_;
    return $self->udp->send($bytes, $port // $self->port);
}

# udp_recv([TIMEOUT]) - (bytes, source port) or () on timeout
sub udp_recv
{
    my ($self, $t) = @_;
    return $self->udp->recv($t);
}

# ---- logs -------------------------------------------------------------

sub log { slurp($_[0]{log}) // '' }

sub log_tail
{
    my ($self, $n) = @_;
    my @l = split(/\n/, $self->log);
    @l = @l[-$n .. -1] if @l > $n;
    return join("\n", @l) . "\n";
}

# bad_log_lines() - panic/fatal lines and sanitizer reports in the log
sub bad_log_lines
{
    my ($self) = @_;
    my $ok = $self->{opts}{log_ok};
    return grep {
        (/^\S+\[\d+\]:\s*(?:panic|fatal):/ || /\b(?:panic|fatal): /
         || /ERROR: (?:Address|Leak|Memory|Thread)Sanitizer/
         || /runtime error:/ || /WARNING: ThreadSanitizer/)
        && !($ok && $_ =~ $ok)
    } split(/\n/, $self->log);
}

# ---- sipp -------------------------------------------------------------

# sipp_start(%o) - start sipp; returns a handle. Options:
#	sn => 'uac'|'uas' or sf => FILE; remote => 'IP:PORT'; port => N
#	(default: a free one); rsa => 'IP:PORT'; m => N; r => N;
#	timeout => S (sipp's -timeout, default 60); args => [...];
#	name => NAME (file names in the temp dir)
sub sipp_start
{
    my ($self, %o) = @_;
    my $name = $o{name} // (($o{sn} // 'sf') . '-' . ++$self->{sipp_seq});
    my $port = $o{port} // free_ports(1);
    my $t = $o{timeout} // 60;
    my $f = "$self->{dir}/sipp-$name";
    my @argv = ('sipp',
        $o{sf} ? ('-sf', $o{sf}) : ('-sn', $o{sn} // 'uac'),
        (defined $o{remote} ? $o{remote} : ()),
        '-i', '127.0.0.1', '-p', $port, '-nostdin',
        '-timeout', "${t}s",
        (defined $o{m} ? ('-m', $o{m}) : ()),
        (defined $o{r} ? ('-r', $o{r}) : ()),
        (defined $o{rsa} ? ('-rsa', $o{rsa}) : ()),
        '-trace_stat', '-stf', "$f.csv", '-fd', 1,
        '-trace_screen', '-screen_file', "$f.screen",
        '-trace_err', '-error_file', "$f.err",
        @{ $o{args} || [] });
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        setpgid(0, 0);
        chdir($self->{dir});
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', "$f.out");
        open(STDERR, '>&', \*STDOUT);
        exec(@argv) or _exit(127);
    }
    setpgid($pid, $pid);
    my $h = { pid => $pid, name => $name, port => $port, argv => \@argv,
              files => $f, timeout => $t, started => time,
              watch => Watchdog::arm(pgrp => $pid, what => "sipp $name") };
    push @{ $self->{sipps} }, $h;
    return $h;
}

sub _sipp_reap
{
    my ($h) = @_;
    return 1 if defined $h->{status};
    my $w = waitpid($h->{pid}, WNOHANG);
    if ($w == $h->{pid} || $w == -1) {
        $h->{status} = $w == -1 ? -1 : $?;
        Watchdog::disarm(delete $h->{watch});
        return 1;
    }
    return 0;
}

# udp_bound(PORT) - true when some socket is bound to udp 127.0.0.1:PORT
# or *:PORT (read from /proc/net/udp: probing with bind() could steal it)
sub udp_bound
{
    my ($port) = @_;
    my $hex = sprintf('%04X', $port);
    my $t = slurp('/proc/net/udp') // return 0;
    return $t =~ /^\s*\d+: (?:0100007F|00000000):$hex /m ? 1 : 0;
}

# sipp_uas(%o) - sipp -sn uas in the background, bound before it returns
sub sipp_uas
{
    my ($self, %o) = @_;
    my $h = $self->sipp_start(sn => 'uas', timeout => 120, %o);
    my $deadline = time + 5;
    while (time < $deadline) {
        last if _sipp_reap($h);
        if (udp_bound($h->{port})) {
            $h->{ready} = 1;
            return $h;
        }
        sleep 0.05;
    }
    Test::More::diag("sipp uas did not bind 127.0.0.1:$h->{port}: "
                     . (slurp("$h->{files}.out") // ''));
    return $h;
}

# sipp_wait(H [, S]) - wait for a sipp (default: its -timeout + 15 s),
# kill it if it overruns; returns the result (see _sipp_result)
sub sipp_wait
{
    my ($self, $h, $t) = @_;
    my $deadline = time + ($t // $h->{timeout} + 15);
    until (_sipp_reap($h)) {
        if (time > $deadline) {
            $h->{killed} = 1;
            _sipp_kill($h);
            last;
        }
        sleep 0.05;
    }
    return _sipp_result($h);
}

# sipp_stop(H) - SIGTERM (sipp's graceful exit), then SIGKILL
sub sipp_stop
{
    my ($self, $h) = @_;
    _sipp_kill($h);
    return _sipp_result($h);
}

sub _sipp_kill
{
    my ($h) = @_;
    return if _sipp_reap($h);
    kill('TERM', $h->{pid});
    my $deadline = time + 3;
    until (_sipp_reap($h)) {
        if (time > $deadline) {
            kill('KILL', -$h->{pid});
            kill('KILL', $h->{pid});
            waitpid($h->{pid}, 0);
            $h->{status} = $?;
            Watchdog::disarm(delete $h->{watch});
            last;
        }
        sleep 0.02;
    }
}

# _sipp_result(H) - {rc, successful, failed, unexpected, out_of_call,
# dead_call, retrans, created, stats => {csv column => value}, source,
# out, screen, errors, killed, argv}. Once sipp has exited, the numbers
# come from its exit screen (-trace_screen, else the same screen on
# stdout): the -trace_stat csv is not reliably flushed at exit. While it
# runs, from the last periodic csv row (-fd 1).
sub _sipp_result
{
    my ($h) = @_;
    my %s;
    if (defined(my $csv = slurp("$h->{files}.csv"))) {
        my @rows = grep { /;/ } split(/\n/, $csv);
        if (@rows >= 2) {
            my @k = split(/;/, $rows[0], -1);
            my @v = split(/;/, $rows[-1], -1);
            @s{@k} = @v if @v == @k;
        }
    }
    my $out = slurp("$h->{files}.out") // '';
    my $screen = slurp("$h->{files}.screen") // '';
    my %r = (
        rc => (defined $h->{status} && $h->{status} >= 0
               && !($h->{status} & 127)) ? $h->{status} >> 8 : undef,
        status => $h->{status}, killed => $h->{killed} // 0,
        stats => \%s, out => $out, screen => $screen,
        errors => slurp("$h->{files}.err") // '',
        argv => join(' ', @{ $h->{argv} }), name => $h->{name},
    );
    my $fin = defined $h->{status}
        ? (_sipp_screen($screen) || _sipp_screen($out)) : undef;
    if ($fin) {
        @r{ keys %$fin } = values %$fin;
        $r{source} = 'screen';
        return \%r;
    }
    for ([successful => 'SuccessfulCall(C)'], [failed => 'FailedCall(C)'],
         [unexpected => 'FailedUnexpectedMessage(C)'],
         [out_of_call => 'OutOfCallMsgs(C)'], [dead_call => 'DeadCallMsgs(C)'],
         [retrans => 'Retransmissions(C)'], [created => 'TotalCallCreated']) {
        $r{ $_->[0] } = $s{ $_->[1] };
    }
    $r{source} = 'csv';
    return \%r;
}

# _sipp_screen(TEXT) - the counters of the last full sipp screen in TEXT
# (scenario screen + statistics screen), or undef
sub _sipp_screen
{
    my ($t) = @_;
    my $i = rindex($t, 'Scenario Screen');
    return undef if $i < 0;
    $t = substr($t, $i);
    my %r;
    ($r{successful}) = $t =~ /Successful call\s*\|\s*\d+\s*\|\s*(\d+)/;
    ($r{failed}) = $t =~ /Failed call\s*\|\s*\d+\s*\|\s*(\d+)/;
    ($r{created}) = $t =~ /Total Calls created\s*\|\s*\|\s*(\d+)/;
    return undef unless defined $r{successful} && defined $r{failed};
    ($r{out_of_call}) = $t =~ /(\d+) out-of-call msg/;
    ($r{dead_call}) = $t =~ /(\d+) dead call msg/;
    # the message table: fixed-width columns under "Messages  Retrans
    # Timeout   Unexpected-Msg", to the end of the screen
    my ($u, $rt) = (0, 0);
    if ($t =~ /^([^\n]*Messages\s+Retrans\s+Timeout\s+Unexpected-Msg)[^\n]*\n(.*?)^-{5}/ms) {
        my ($head, $rows) = ($1, $2);
        my $cr = index($head, 'Retrans');
        my $cu = index($head, 'Unexpected-Msg');
        for my $l (split(/\n/, $rows)) {
            next unless $l =~ /(?:<-|->)/;
            $rt += $1 if length($l) > $cr
                && substr($l, $cr, 9) =~ /^\s*(\d+)/;
            $u += $1 if length($l) > $cu
                && substr($l, $cu) =~ /^\s*(\d+)/;
        }
    }
    $r{unexpected} = $u;
    $r{retrans} = $rt;
    return \%r;
}

# sipp_stats(H) - the result as of sipp's last periodic dump (-fd 1),
# without stopping it
sub sipp_stats
{
    my ($self, $h) = @_;
    _sipp_reap($h);
    return _sipp_result($h);
}

# sipp_wait_calls(H, N, S) - poll a running sipp (a UAS) until it counts
# N successful calls or S seconds pass (the default UAS scenario holds a
# call 4 s after the BYE); returns the last result
sub sipp_wait_calls
{
    my ($self, $h, $n, $t) = @_;
    my $deadline = time + ($t // 10);
    while (1) {
        my $r = $self->sipp_stats($h);
        return $r if ($r->{successful} // 0) + ($r->{failed} // 0) >= $n
                     || defined $h->{status} || time > $deadline;
        sleep 0.25;
    }
}

# sipp(%o) - sipp_start + sipp_wait: run a UAC to completion
sub sipp
{
    my ($self, %o) = @_;
    return $self->sipp_wait($self->sipp_start(%o));
}

# sipp_diag(R) - print what a failed sipp assertion needs
sub sipp_diag
{
    my ($r) = @_;
    my @s = map { "$_=" . ($r->{stats}{$_} // '') }
        grep { /\(C\)$/ && ($r->{stats}{$_} // '') =~ /^[1-9]\d*$/ }
        sort keys %{ $r->{stats} };
    my $e = $r->{errors};
    $e = substr($e, 0, 2000) . "...\n" if length $e > 2000;
    Test::More::diag("sipp $r->{argv}\n  rc="
        . ($r->{rc} // 'undef') . " " . join(' ', @s) . "\n$e");
}

# ---- teardown ---------------------------------------------------------

sub _stop_sipps
{
    my ($self) = @_;
    _sipp_kill($_) for @{ $self->{sipps} };
}

sub _mine
{
    my ($self) = @_;
    my $mid = $self->{pid} // return ();
    my %sipp = map { $_->{pid} => 1 } @{ $self->{sipps} };
    return proc_scan(sub {
        my ($i) = @_;
        return 0 if $sipp{ $i->{pid} };
        return 1 if $i->{pgrp} == $mid;
        return 1 if index($i->{cmdline}, $self->{cfg}) >= 0;
        my $st = $self->{known}{ $i->{pid} };
        return defined $st && $st == $i->{start};
    });
}

sub _kill_all
{
    my ($self) = @_;
    $self->_stop_sipps;
    return unless $self->{pid};
    kill('KILL', -$self->{pid});
    kill('KILL', $self->{pid});
    kill('KILL', $_->{pid}) for $self->_mine;
    $self->wait_exit(5);
    $self->_disarm;
}

# _disarm - mid and what it started are gone: nothing for the watchdog
sub _disarm
{
    my ($self) = @_;
    Watchdog::disarm(delete $self->{watch});
    Watchdog::disarm(delete $self->{watch_file});
}

# stop(signal => 'TERM', timeout => 10) - stop mid and assert the whole
# teardown contract. Also fine after mid exited by itself (MI kill).
sub stop
{
    my ($self, %o) = @_;
    return if $self->{stopped}++;
    delete $LIVE{"$self"};
    my $tb = _tb();
    $self->_stop_sipps;
    $self->{udp} = undef;
    if (!$self->{pid}) {
        return;
    }
    my $sig = $o{signal} // 'TERM';
    my $t = $o{timeout} // 10;
    my $exited_before = defined $self->{exit_status} || $self->_reap;
    kill($sig, $self->{pid}) unless $exited_before;
    my $st = $self->wait_exit($t);
    my $what = $exited_before ? 'mid exit' : "mid exit after SIG$sig";
    $tb->ok(defined $st, "$what within ${t}s");
    if (!defined $st) {
        $tb->diag("mid still running after ${t}s; SIGKILL to its group");
        $self->_kill_all;
        $st = $self->{exit_status};
    }
    $tb->is_eq(describe_status($st), 'exit 0', "$what status");
    $self->check_teardown;
    $self->_disarm;
}

# check_teardown() - the contract of STYLE.md section 6, once mid is gone
sub check_teardown
{
    my ($self) = @_;
    my $tb = _tb();
    my @left = $self->_mine;
    $tb->ok(!@left, 'no sipstage process left behind')
        or $tb->diag(join("\n", map {
            "left: pid $_->{pid} ($_->{comm}) state $_->{state} "
            . "ppid $_->{ppid} pgrp $_->{pgrp}: $_->{cmdline}" } @left));
    kill('KILL', $_->{pid}) for @left;

    $tb->ok(!-e $self->{fifo}, "MI FIFO $self->{fifo} removed");
    my @files;
    if (-d $self->{run_dir}) {
        my @todo = ($self->{run_dir});
        while (my $d = shift @todo) {
            opendir(my $dh, $d) or next;
            for (grep { !/^\.\.?$/ } readdir($dh)) {
                -d "$d/$_" && !-l "$d/$_" ? push(@todo, "$d/$_")
                                          : push(@files, "$d/$_");
            }
        }
    }
    $tb->ok(!@files, "nothing left under run_dir")
        or $tb->diag("left: @files");
    my @shm = grep { -e } sort keys %{ $self->{shm} };
    $tb->ok(!@shm, 'no /dev/shm object of the stages left')
        or $tb->diag("left: @shm");
    my @bad = $self->bad_log_lines;
    $tb->ok(!@bad, 'log has no panic/fatal line and no sanitizer report')
        or $tb->diag(join("\n", @bad[0 .. ($#bad > 19 ? 19 : $#bad)]));
    if (!$tb->is_passing) {
        $tb->diag("--- $self->{log} (tail) ---\n" . $self->log_tail(30));
    }
}

sub DESTROY
{
    my ($self) = @_;
    return if $self->{stopped} || !$self->{pid};
    if (${^GLOBAL_PHASE} eq 'DESTRUCT') {
        $self->{stopped} = 1;
        $self->_kill_all;
        return;
    }
    $self->stop;
}

END {
    # a test that died or bailed out: leave nothing running
    for my $p (values %LIVE) {
        next if $p->{stopped} || !$p->{pid};
        $p->{stopped} = 1;
        $p->_kill_all;
    }
}

# ---- a UDP socket the test owns ---------------------------------------

package Proxy::UDP;

use Socket qw(inet_aton sockaddr_in);
use IO::Select;
use IO::Socket::INET;

sub new
{
    my ($class) = @_;
    my $s = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
                                  LocalPort => 0)
        or die "udp socket: $!";
    return bless { s => $s }, $class;
}

sub port { $_[0]{s}->sockport }
sub fh { $_[0]{s} }

# send(BYTES, PORT) - to 127.0.0.1:PORT
sub send
{
    my ($self, $bytes, $port) = @_;
    my $to = sockaddr_in($port, inet_aton('127.0.0.1'));
    defined(CORE::send($self->{s}, $bytes, 0, $to))
        or die "udp send to $port: $!";
    return 1;
}

# recv([TIMEOUT]) - (bytes, source port) or () when nothing came in time
sub recv
{
    my ($self, $t) = @_;
    return () unless IO::Select->new($self->{s})->can_read($t // 2);
    my $peer = CORE::recv($self->{s}, my $buf, 65535, 0);
    return () unless defined $peer;
    my ($port) = sockaddr_in($peer);
    return wantarray ? ($buf, $port) : $buf;
}

# kernel_drops() - datagrams the kernel dropped on this socket so far
# (its receive buffer was full: the test read too slowly), from the
# drops column of /proc/net/udp; undef when not found
sub kernel_drops
{
    my ($self) = @_;
    my $want = sprintf(':%04X', $self->port);
    open(my $fh, '<', '/proc/net/udp') or return undef;
    while (<$fh>) {
        my @f = split;
        return $f[-1] if @f > 12 && $f[1] =~ /\Q$want\E$/;
    }
    return undef;
}

# drain() - discard what is queued; the number of datagrams discarded
sub drain
{
    my ($self, $t) = @_;
    my $n = 0;
    $n++ while $self->recv($t // 0);
    return $n;
}

1;
