package DbdLoop;
# SUMMARY
#	DbdLoop - drive build/t/dbd_loop (dbd's engine on rings of its own)
# SYNOPSIS
#	my $l = DbdLoop->new(urls => [$pg->url], pool => 2, queue_max => 4,
#	                     timeout_ms => 2000);
#	$l->send('q', QID, QUERY, AGE_MS, VALUES...);
#	my $a = $l->answer(QID);     # {status, records, rows => [...], ...}
#	my $s = $l->status;          # [{url, state, role, conns, ...}, ...]
#	my $st = $l->stats;          # {'db:queries' => N, ...}
#	$l->wait_status(sub { $_[0][0]{state} eq 'up' }, 15);
#	$l->quit;                    # its exit status
# DESCRIPTION
#	Writes a config with the [db] keys given, starts the tool with
#	stdout read here and stderr (its log) in a file (log_text()), and
#	waits for "ready" (BAIL_OUT otherwise). Every read is bounded.
#	Should the test die hard, its watchdog (Watchdog.pm) kills the tool
#	(quit() disarms that).
#	See t/tools/dbd_loop.c for the commands and the output lines.

use strict;
use warnings;
use POSIX qw(_exit);
use Test::More ();
use Time::HiRes qw(time sleep);
use Proxy ();
use Watchdog ();

my $seq = 0;
my $dir;

sub new
{
    my ($class, %o) = @_;
    my $tool = Proxy::build_dir() . '/t/dbd_loop';
    my $lib = Proxy::build_dir() . '/lib';
    -x $tool or Test::More::BAIL_OUT("$tool not built (run make)");
    $dir //= Proxy::make_tempdir();
    my $name = 'loop' . ++$seq;
    my $cfg = "$dir/$name.cfg";
    Proxy::spew($cfg, join('', map { "$_\n" }
        '[net]', 'listen = udp:127.0.0.1:' . Proxy::free_ports(1),
        '[db]', (map { "url = $_" } @{ $o{urls} }),
        "pool = $o{pool}", "queue_max = $o{queue_max}",
        "timeout_ms = $o{timeout_ms}"));
    pipe(my $cr, my $pw) or die "pipe: $!";
    pipe(my $pr, my $cw) or die "pipe: $!";
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        open(STDIN, '<&', $cr);
        open(STDOUT, '>&', $cw);
        open(STDERR, '>>', "$dir/$name.log");
        exec($tool, $lib, $cfg) or _exit(127);
    }
    close($cr);
    close($cw);
    $pw->autoflush(1);
    my $self = bless { pid => $pid, in => $pw, out => $pr, buf => '',
                       log => "$dir/$name.log", held => [],
                       watch => Watchdog::arm(pid => $pid,
                                              what => "dbd_loop $name") },
                   $class;
    my $l = $self->line(10);
    Test::More::BAIL_OUT("dbd_loop did not start: " . ($l // 'no output')
                         . "\n" . (Proxy::slurp($self->{log}) // ''))
        unless defined $l && $l eq 'ready';
    return $self;
}

sub send { my $self = shift; print { $self->{in} } join("\t", @_) . "\n" }

# line(S) - the next output line, or undef after S seconds
sub line
{
    my ($self, $t) = @_;
    my $deadline = time + $t;
    while ($self->{buf} !~ /\n/) {
        my $left = $deadline - time;
        return undef if $left <= 0;
        my $rin = '';
        vec($rin, fileno($self->{out}), 1) = 1;
        next unless select($rin, undef, undef, $left) > 0;
        my $n = sysread($self->{out}, $self->{buf}, 65536,
                        length $self->{buf});
        return undef unless $n;
    }
    $self->{buf} =~ s/^([^\n]*)\n//;
    return $1;
}

# next_line(S) - a line held back by answer() first, else a new one
sub next_line
{
    my ($self, $t) = @_;
    return shift @{ $self->{held} } if @{ $self->{held} };
    return $self->line($t);
}

# answer(QID [, S]) - {status, records, rows => [..], ncols, seq_ok,
# max_rec, ms}; lines of other answers are kept for their turn
sub answer
{
    my ($self, $qid, $t) = @_;
    my $deadline = time + ($t // 10);
    my (@rows, @keep);
    my $a;
    my @old = @{ $self->{held} };
    $self->{held} = [];
    while (1) {
        my $l = @old ? shift @old : $self->line($deadline - time);
        last unless defined $l;
        if ($l =~ /^row $qid (.*)$/) {
            push @rows, $1;
        } elsif ($l =~ /^ans $qid (.*)$/) {
            $a = { map { split /=/, $_, 2 } split ' ', $1 };
            $a->{rows} = \@rows;
            last;
        } elsif ($l =~ /^error /) {
            Test::More::diag("dbd_loop: $l");
            push @keep, $l;
        } else {
            push @keep, $l;
        }
    }
    $self->{held} = [@keep, @old];
    return $a;
}

sub _listing
{
    my ($self, $cmd) = @_;
    $self->send($cmd);
    my (@l, @keep);
    while (defined(my $l = $self->line(10))) {
        last if $l eq 'end';
        if ($l =~ /^(url|reason|stat) /) { push @l, $l } else { push @keep, $l }
    }
    push @{ $self->{held} }, @keep;
    return @l;
}

# status() - [{url, state, role, conns, busy, queued, ..., reason}] by index
sub status
{
    my ($self) = @_;
    my @u;
    for ($self->_listing('status')) {
        if (/^url (\d+) (\S+) (.*)$/) {
            $u[$1] = { url => $2, map { split /=/, $_, 2 } split ' ', $3 };
        } elsif (/^reason (\d+) (.*)$/) {
            $u[$1]{reason} = $2;
        }
    }
    return \@u;
}

sub stats
{
    my ($self) = @_;
    return { map { /^stat (\S+) (\d+)$/ ? ($1, $2) : () }
             $self->_listing('stats') };
}

# wait_status(CODE, S) - poll status until CODE->($status) is true
sub wait_status
{
    my ($self, $pred, $t) = @_;
    my $deadline = time + ($t // 15);
    my $s;
    while (1) {
        $s = $self->status;
        return $s if $pred->($s);
        return undef if time > $deadline;
        sleep 0.1;
    }
}

sub quit
{
    my ($self) = @_;
    $self->send('quit');
    close($self->{in});
    my $deadline = time + 10;
    my $st = -1;
    while (time < $deadline) {
        if (waitpid($self->{pid}, POSIX::WNOHANG()) == $self->{pid}) {
            $st = $?;
            last;
        }
        sleep 0.05;
    }
    if ($st == -1) {
        kill('KILL', $self->{pid});
        waitpid($self->{pid}, 0);
    }
    Watchdog::disarm(delete $self->{watch});
    return $st;
}

sub log_text { Proxy::slurp($_[0]{log}) // '' }


1;
