package Maria;
# A real MariaDB server for the DB tests, in a temp dir, on a loopback
# port of its own (the MySQL twin of Pg.pm).
#
#   my $m = Maria->new;                # BAIL_OUT when it cannot start
#   $m->url                            # mysql://sip:PW@127.0.0.1:PORT/sipstage
#   $m->sql("INSERT ...")              # as root over the socket; dies on
#                                      # error; the client's batch output
#   $m->schema                         # etc/db/mysql.sql into sipstage
#   $m->stop; $m->start;               # same dir, same port
#
# mariadb-install-db makes the data dir from a my.cnf of our own
# (--defaults-file: /etc/mysql is never read), and mariadbd runs on it:
# 127.0.0.1 and a free port, the socket, pid file and log in DIR/run,
# a tiny InnoDB (8 MB buffer pool, 4 MB redo log, no doublewrite), no
# binary log, no performance schema, no name resolution; it starts in
# well under a second.
#
# mariadbd refuses to run as root unless told --user=root. A test server
# needs no privilege, so when the test runs as root the data and run
# dirs belong to "nobody" and mariadbd is started with --user=nobody (it
# switches to that user early, before it opens its log), as Pg.pm runs
# PostgreSQL.
# root@localhost authenticates with unix_socket: only the OS user root
# (or, without root, the user running the test: --auth-root-socket-user)
# gets in over the socket, which sits in a 0700 dir anyway; TCP
# connections need a password: user sip has a real one, which the URL
# carries. Stopped (SIGTERM, waited for) when the test ends; T_LEAVE=1
# keeps the dir; the server's log is $m->log (DIR/run/error.log). Should
# the test die hard, its watchdog (Watchdog.pm) stops mariadbd's process
# group (SIGTERM; SIGKILL after 5 s) and removes the dir.

use strict;
use warnings;
use File::Temp ();
use POSIX qw(WNOHANG setpgid);
use Proxy ();
use Test::More ();
use Time::HiRes qw(time sleep);
use Watchdog ();

my $SERVER = '/usr/sbin/mariadbd';
my $INSTALL_DB = 'mariadb-install-db';
my $CLIENT = 'mariadb';
my @all;
END { $_->stop for grep { defined && $_->{owner} == $$ } @all }

sub binary { return -x $SERVER ? $SERVER : undef }

# _client_user - who we are to the server over the socket (unix_socket
# authentication: the OS user's own name)
sub _client_user { return $> == 0 ? 'root' : scalar getpwuid($>) }

# _run(@cmd) - run, stdin from /dev/null, stdout+stderr captured, no
# shell; (ok, output)
sub _run
{
    my (@cmd) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT);
        open(STDIN, '<', '/dev/null');
        chdir('/');
        exec(@cmd) or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close($fh);
    return ($? == 0, $out);
}

sub new
{
    my ($class, %opt) = @_;
    binary() && `which $INSTALL_DB $CLIENT 2>/dev/null` =~ /$CLIENT/
        or Test::More::BAIL_OUT('mariadb-server/-client not installed: '
                                . 'run scripts/deps test');
    my $dir = File::Temp::tempdir('sipstage-my-XXXXXXXX', TMPDIR => 1,
                                  CLEANUP => !$ENV{T_LEAVE});
    chmod(0755, $dir);
    Watchdog::dir($dir);
    my $self = bless { dir => $dir, port => Proxy::free_port_both(),
                       password => $opt{password} // 'pw-S3cret!x',
                       db => 'sipstage', user => 'sip', owner => $$,
                       up => 0 }, $class;
    push @all, $self;
    for my $d ("$dir/run", "$dir/run/tmp") {
        mkdir($d, 0700) or die "$d: $!";
        chown(scalar getpwnam('nobody'), -1, $d) if $> == 0;
    }
    $self->_cnf;
    my ($ok, $out) = _run($INSTALL_DB, "--defaults-file=$dir/my.cnf",
        ($> == 0 ? ('--user=nobody') : ()),
        '--auth-root-authentication-method=socket',
        '--auth-root-socket-user=' . _client_user(), '--skip-test-db');
    Test::More::BAIL_OUT("mariadb-install-db: $out") unless $ok;
    $self->start;
    my $pw = $self->{password};
    $pw =~ s/(['\\])/\\$1/g;
    $self->sql("CREATE DATABASE sipstage CHARACTER SET utf8mb4; "
               . "CREATE USER 'sip'\@'127.0.0.1' IDENTIFIED BY '$pw'; "
               . "GRANT ALL ON sipstage.* TO 'sip'\@'127.0.0.1'");
    return $self;
}

# _cnf - DIR/my.cnf: everything the server needs, nothing from /etc
sub _cnf
{
    my ($self) = @_;
    my $d = $self->{dir};
    Proxy::spew("$d/my.cnf", <<"CNF");
[mysqld]
datadir = $d/data
socket = $d/run/sock
pid-file = $d/run/pid
log-error = $d/run/error.log
tmpdir = $d/run/tmp
bind-address = 127.0.0.1
port = $self->{port}
skip-name-resolve
skip-log-bin
performance-schema = OFF
innodb-buffer-pool-size = 8M
innodb-log-file-size = 4M
innodb-log-buffer-size = 1M
innodb-flush-log-at-trx-commit = 0
innodb-doublewrite = 0
key-buffer-size = 1M
aria-pagecache-buffer-size = 8M
character-set-server = utf8mb4
max-connections = 64
CNF
}

sub dir { $_[0]{dir} }
sub port { $_[0]{port} }
sub password { $_[0]{password} }
sub pid { $_[0]{pid} }

# log - the server's error log so far
sub log { return Proxy::slurp("$_[0]{dir}/run/error.log") // '' }

# url([PORT]) - the proxy's [db] url; PORT for a URL that names another
sub url
{
    my ($self, $port) = @_;
    my $pw = $self->{password};
    $pw =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord($1))/ge;
    return "mysql://sip:$pw\@127.0.0.1:" . ($port // $self->{port})
           . "/sipstage";
}

# start - mariadbd in the background; back when it answers a query over
# the socket (60 s at most: the machine may be busy), else BAIL_OUT
sub start
{
    my ($self) = @_;
    return if $self->{up};
    my $d = $self->{dir};
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        setpgrp(0, 0);
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', "$d/server.out");
        open(STDERR, '>&', \*STDOUT);
        chdir('/');
        exec($SERVER, "--defaults-file=$d/my.cnf",
             ($> == 0 ? ('--user=nobody') : ())) or POSIX::_exit(127);
    }
    setpgid($pid, $pid);                # whichever of us runs first
    $self->{pid} = $pid;
    $self->{start} = Watchdog::start_time($pid) // 0;
    $self->{up} = 1;
    $self->{watch} = Watchdog::arm(pgrp => $pid, grace => 5,
                                   what => "mariadbd $d");
    my $deadline = time + 60;
    my $out = '';
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            $self->{up} = 0;
            last;
        }
        my $ok;
        ($ok, $out) = _run($CLIENT, '--no-defaults', '-S', "$d/run/sock",
                           '-u', _client_user(), '-e', 'SELECT 1');
        return if $ok;
        sleep 0.1;
    }
    my $log = $self->log . (Proxy::slurp("$d/server.out") // '');
    $self->stop;
    Test::More::BAIL_OUT("mariadbd did not start: $out\n$log");
}

# stop - SIGTERM (a clean shutdown), waited for; SIGKILL after 60 s.
# Also from a forked child of the test (t/740 stops a server from one),
# where mariadbd is not our child: waitpid() says -1 at once there, so
# the wait is for /proc to show it gone or a zombie (its parent reaps
# it), not for a waitpid() that can never succeed.
sub stop
{
    my ($self) = @_;
    return unless $self->{up};
    my $pid = $self->{pid};
    kill('TERM', $pid) if $self->_running;
    my $deadline = time + 60;
    while (time < $deadline) {
        my $w = waitpid($pid, WNOHANG);
        last if $w == $pid || ($w == -1 && !$self->_running);
        sleep 0.05;
    }
    if ($self->_running) {
        kill('KILL', $pid);
        waitpid($pid, 0);
    }
    $self->{up} = 0;
    Watchdog::disarm(delete $self->{watch});
}

# _running - the mariadbd we started is still there (not a zombie, not
# another process that got its pid)
sub _running
{
    my ($self) = @_;
    my $st = Watchdog::start_time($self->{pid});
    return defined $st && $st == $self->{start};
}

# sql(SQL [, DB]) - run SQL (one or more statements) as root over the
# socket; returns the client's batch output (tab-separated, no column
# names), dies with it on an error
sub sql
{
    my ($self, $sql, $db) = @_;
    my ($ok, $out) = _run($CLIENT, '--no-defaults', '-S',
        "$self->{dir}/run/sock", '-u', _client_user(), '--batch',
        '--skip-column-names', '--default-character-set=utf8mb4',
        ($db ? ('-D', $db) : ()), '-e', $sql);
    die "mariadb: $sql: $out" unless $ok;
    return $out;
}

# schema - etc/db/mysql.sql into the sipstage database
sub schema
{
    my ($self) = @_;
    my $sql = Proxy::slurp(Proxy::repo_root() . '/etc/db/mysql.sql')
        // die "etc/db/mysql.sql: $!";
    $self->sql($sql, 'sipstage');
}

1;
