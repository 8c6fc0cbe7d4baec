package Pg;
# A real PostgreSQL server for the DB tests, in a temp dir, on a loopback
# port of its own.
#
#   my $pg = Pg->new;                  # BAIL_OUT when it cannot start
#   $pg->url                           # postgres://sip:PW@127.0.0.1:PORT/sipstage
#   $pg->psql("INSERT ...")            # as the superuser; dies on error
#   $pg->schema                        # etc/db/postgres.sql
#   $pg->stop; $pg->start;             # same dir, same port
#   my $r = Pg->new(replica_of => $pg) # pg_basebackup -R: a streaming
#                                      # replica on another port
#
# The server refuses to run as root, so when the test runs as root the
# data dir belongs to "nobody" and every server program runs as nobody
# (runuser). Local socket connections (psql here) are trusted; TCP
# connections from 127.0.0.1 need the password (scram-sha-256), so the
# proxy's URL carries a real one. The server's log is $pg->dir/log;
# T_LEAVE=1 keeps the dir. Stopped (fast) when the test ends; should the
# test die hard, its watchdog (Watchdog.pm) stops the postmaster's
# process group (SIGINT, a fast shutdown; SIGKILL after 5 s) and
# removes the dir.

use strict;
use warnings;
use File::Temp ();
use IO::Socket::INET;
use Proxy ();
use Test::More ();
use Time::HiRes qw(time sleep);
use Watchdog ();

my $BIN = (sort { $b cmp $a } glob('/usr/lib/postgresql/*/bin'))[0];
my @all;
END { $_->stop for grep { defined } @all }

sub binary { return $BIN && -x "$BIN/postgres" ? $BIN : undef }

sub _as
{
    my @cmd = @_;
    return $> == 0 ? ('runuser', '-u', 'nobody', '--', @cmd) : @cmd;
}

sub _run
{
    my ($self, @cmd) = @_;
    my $out = `cd / && @{[ join(' ', map { _q($_) } _as(@cmd)) ]} 2>&1`;
    return ($? == 0, $out);
}

sub _q { my $s = shift; $s =~ s/'/'\\''/g; return "'$s'" }

sub new
{
    my ($class, %opt) = @_;
    binary() or Test::More::BAIL_OUT('postgresql not installed: '
                                     . 'run scripts/deps test');
    my $dir = File::Temp::tempdir('sipstage-pg-XXXXXXXX', TMPDIR => 1,
                                  CLEANUP => !$ENV{T_LEAVE});
    chmod(0755, $dir);
    Watchdog::dir($dir);
    my $self = bless { dir => $dir, port => Proxy::free_port_both(),
                       password => $opt{password} // 'pw-S3cret!x',
                       db => 'sipstage', user => 'sip' }, $class;
    push @all, $self;
    mkdir("$dir/sock");
    if ($> == 0) {
        my $uid = getpwnam('nobody');
        chown($uid, -1, $dir, "$dir/sock");
    }
    my ($ok, $out);
    if (my $p = $opt{replica_of}) {
        $self->{password} = $p->{password};
        ($ok, $out) = $self->_run("$BIN/pg_basebackup", '-h', "$p->{dir}/sock",
            '-p', $p->{port}, '-U', 'postgres', '-D', "$dir/data", '-R',
            '-X', 'stream', '-c', 'fast');
        Test::More::BAIL_OUT("pg_basebackup: $out") unless $ok;
    } else {
        open(my $pw, '>', "$dir/pwfile") or die "$dir/pwfile: $!";
        print $pw "postgres\n";
        close($pw);
        chown(scalar getpwnam('nobody'), -1, "$dir/pwfile") if $> == 0;
        ($ok, $out) = $self->_run("$BIN/initdb", '-D', "$dir/data",
            '-U', 'postgres', '--auth-local=trust',
            '--auth-host=scram-sha-256', "--pwfile=$dir/pwfile",
            '-E', 'UTF8', '--locale=C.UTF-8');
        Test::More::BAIL_OUT("initdb: $out") unless $ok;
        open(my $hba, '>>', "$dir/data/pg_hba.conf") or die;
        print $hba "local replication all trust\n";
        close($hba);
    }
    $self->start;
    unless ($opt{replica_of}) {
        my $pw = $self->{password};
        $pw =~ s/'/''/g;
        $self->psql("CREATE ROLE sip LOGIN PASSWORD '$pw'");
        $self->psql("CREATE DATABASE sipstage OWNER sip");
    }
    return $self;
}

sub dir { $_[0]{dir} }
sub port { $_[0]{port} }
sub password { $_[0]{password} }

# url([PORT]) - the proxy's [db] url; PORT for a URL that names another
# (a replica's, a dead one)
sub url
{
    my ($self, $port) = @_;
    my $pw = $self->{password};
    $pw =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord($1))/ge;
    return "postgres://sip:$pw\@127.0.0.1:" . ($port // $self->{port})
           . "/sipstage";
}

sub start
{
    my ($self) = @_;
    my $d = $self->{dir};
    my ($ok, $out) = $self->_run("$BIN/pg_ctl", '-D', "$d/data", '-l',
        "$d/log", '-w', '-t', '30', '-o',
        "-p $self->{port} -k $d/sock -c listen_addresses=127.0.0.1 "
        . "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        . "-c wal_level=replica -c max_wal_senders=4", 'start');
    Test::More::BAIL_OUT("pg_ctl start: $out\n" . _slurp("$d/log"))
        unless $ok;
    $self->{up} = 1;
    $self->_arm;
}

# _arm - the watchdog on the postmaster (pg_ctl started it in a session
# of its own: its group holds every backend), from its pid file
sub _arm
{
    my ($self) = @_;
    my ($pid) = (_slurp("$self->{dir}/data/postmaster.pid") // '')
        =~ /\A(\d+)\n/;
    return unless $pid;
    my $i = Proxy::proc_info($pid) or return;
    my $grp = $i->{pgrp} == $pid ? 'pgrp' : 'pid';
    $self->{watch} = Watchdog::arm($grp => $pid, sig => 'INT', grace => 5,
                                   what => "postgres $self->{dir}");
}

sub stop
{
    my ($self, $mode) = @_;
    return unless $self->{up};
    my ($ok) = $self->_run("$BIN/pg_ctl", '-D', "$self->{dir}/data", '-m',
                           $mode // 'fast', '-w', 'stop');
    $self->{up} = 0;
    # a postmaster that did not stop stays the watchdog's to stop
    Watchdog::disarm(delete $self->{watch}) if $ok;
}

# psql(SQL [, DB]) - run SQL as the superuser over the local socket;
# returns psql's unaligned output, dies with it on an error
sub psql
{
    my ($self, $sql, $db) = @_;
    my ($ok, $out) = $self->_run("$BIN/psql", '-X', '-q', '-A', '-t',
        '-v', 'ON_ERROR_STOP=1', '-h', "$self->{dir}/sock", '-p',
        $self->{port}, '-U', 'postgres', '-d', $db // 'postgres', '-c', $sql);
    die "psql: $sql: $out" unless $ok;
    return $out;
}

# schema - etc/db/postgres.sql into the sipstage database, owned by sip
sub schema
{
    my ($self) = @_;
    my $sql = _slurp('etc/db/postgres.sql');
    $self->psql("SET ROLE sip;\n$sql", 'sipstage');
}

sub _slurp { my $f = shift; open(my $h, '<', $f) or return ''; local $/; <$h> }

1;
