package Dnsmasq;
# A dnsmasq with fixed records on 127.0.0.1, for the DNS tests.
#
#   my $bin = Dnsmasq::binary() or plan skip_all => ...;
#   my $pid = Dnsmasq::start($dir, $port, '--host-record=...', ...);
#   Dnsmasq::stop($pid);
#
#   my $port = Dnsmasq::serve('--host-record=...', ...);   # the usual case:
#   a temp dir and a port of its own, BAIL_OUT when it does not start,
#   stopped when the test ends; its [dns] config lines, for a proxy's
#   extra => { dns => [...] }, from Dnsmasq::dns_cfg($port [, LINES]).
#
# It runs in the foreground (a child of the test), answers only for
# *.test, logs queries to $dir/dnsmasq.log, and start() returns once its
# TCP socket accepts (undef, with a diagnostic, when it does not).
# Should the test die hard, its watchdog (Watchdog.pm) kills it (and
# removes serve()'s dir); stop() disarms that.

use strict;
use warnings;
use File::Temp ();
use IO::Socket::INET;
use POSIX qw(WNOHANG _exit);
use Proxy ();
use Test::More ();
use Time::HiRes qw(time sleep);
use Watchdog ();

my %watch;                              # pid -> watchdog token

sub binary
{
    my ($b) = grep { -x } qw(/usr/sbin/dnsmasq /usr/bin/dnsmasq
                             /usr/local/sbin/dnsmasq);
    return $b;
}

sub _log { my $f = shift; open(my $h, '<', $f) or return ''; local $/; <$h> }

sub start
{
    my ($dir, $port, @rec) = @_;
    my $log = "$dir/dnsmasq.log";
    my @argv = (binary(), '--keep-in-foreground', '--conf-file=/dev/null',
        '--no-resolv', '--no-hosts', "--port=$port",
        '--listen-address=127.0.0.1', '--bind-interfaces',
        "--pid-file=$dir/dnsmasq.pid", '--local-ttl=60', '--local=/test/',
        '--log-queries', '--log-facility=-', @rec);
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', $log);
        open(STDERR, '>&', \*STDOUT);
        exec(@argv) or _exit(127);
    }
    $watch{$pid} = Watchdog::arm(pid => $pid, what => "dnsmasq $port");
    my $deadline = time + 5;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            Test::More::diag("dnsmasq exited: " . _log($log));
            Watchdog::disarm(delete $watch{$pid});
            return undef;
        }
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        return $pid if $s;
        sleep 0.02;
    }
    kill('KILL', $pid);
    waitpid($pid, 0);
    Watchdog::disarm(delete $watch{$pid});
    Test::More::diag("dnsmasq did not listen on $port: " . _log($log));
    return undef;
}

sub stop
{
    my ($pid) = @_;
    return unless $pid;
    local $?;                           # from END: keep the test's status
    kill('TERM', $pid);
    waitpid($pid, 0);
    Watchdog::disarm(delete $watch{$pid});
}

my @served;                             # stopped at the end of the test
END { stop($_) for @served }

sub serve
{
    my (@rec) = @_;
    my $dir = File::Temp::tempdir('sipstage-dnsmasq-XXXXXXXX', TMPDIR => 1,
                                  CLEANUP => !$ENV{T_LEAVE});
    Watchdog::dir($dir);
    my $port = Proxy::free_port_both();   # dnsmasq binds UDP and TCP
    my $pid = start($dir, $port, @rec)
        or Test::More::BAIL_OUT('dnsmasq did not start');
    push @served, $pid;
    return $port;
}

# dns_cfg(PORT [, LINES]) - [dns] lines for a proxy using it: a short
# timeout and one try (a test waits on them), then LINES
sub dns_cfg
{
    my ($port, @more) = @_;
    return [ "servers = 127.0.0.1:$port", 'timeout_ms = 1000', 'tries = 1',
             @more ];
}

1;
