#!/usr/bin/perl
# The FIFO MI against hostile or broken clients: mid writes replies only
# into FIFOs that belong in its directory, keeps a bounded number of
# replies pending whoever never reads them, and finds the next request
# after garbage or an oversized one. mid stays up and answers throughout.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Errno qw(EAGAIN);
use Fcntl qw(O_RDONLY O_RDWR O_WRONLY O_NONBLOCK);
use File::Temp qw(tempdir);
use Watchdog;
use POSIX qw(mkfifo);
use Time::HiRes qw(sleep time);
use Proxy;
use Sip;

my $p = Proxy->new(sipd => 1, children => 1);
my $dir = $p->dir;

# nonblocking read of whatever a FIFO holds now ('' when empty)
sub drain
{
    my ($fh) = @_;
    my ($buf, $all) = ('', '');
    while (1) {
        my $n = sysread($fh, $buf, 65536);
        last unless defined $n && $n > 0;
        $all .= $buf;
    }
    return $all;
}

# write a raw request to the server FIFO (no reply FIFO of ours)
sub send_raw
{
    my ($bytes) = @_;
    $p->mi_raw($bytes, undef, 5);
}

sub answers
{
    my ($what) = @_;
    ok($p->alive, "$what: mid alive");
    my ($code) = $p->mi('uptime');
    is($code, 200, "$what: uptime still answered");
}

# --- a reply name that is a hard link to a FIFO elsewhere ---------------
{
    my $out = tempdir('sipstage-out-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    Watchdog::dir($out);                 # removed if the test dies
    mkfifo("$out/victim", 0600) or die "mkfifo: $!";
    link("$out/victim", "$dir/linked_reply") or die "link: $!";
    # a reader on the victim, so a write would not fail with ENXIO
    sysopen(my $victim, "$out/victim", O_RDONLY | O_NONBLOCK)
        or die "open victim: $!";
    send_raw(":version:linked_reply\n\n");
    sleep 0.5;
    is(drain($victim), '', 'hard-linked reply FIFO: nothing written to it');
    like($p->log, qr/fifo reply \S*linked_reply: a hard link.*refused/,
         'hard-linked reply FIFO: refusal logged');
    answers('hard-linked reply FIFO');
    close($victim);
    unlink("$dir/linked_reply");
}

# --- a client that never reads its replies --------------------------------
sub nfds
{
    opendir(my $d, "/proc/$_[0]/fd") or return -1;
    return scalar(grep { !/^\.\.?$/ } readdir($d));
}

# a reply FIFO held open (read-write: never end-of-file) and filled, so
# that every reply mid writes to it waits
sub stuck_fifo
{
    my ($name) = @_;
    my $path = "$dir/$name";
    unlink($path);
    mkfifo($path, 0600) or die "mkfifo $path: $!";
    sysopen(my $fh, $path, O_RDWR | O_NONBLOCK) or die "open $path: $!";
    my $junk = 'x' x 65536;
    1 while (syswrite($fh, $junk) // 0) > 0;
    return [ $fh, $path ];
}

{
    my $mid = $p->pid;
    my $fd0 = nfds($mid);
    my @stuck = (stuck_fifo('stuck_reply'));
    send_raw(":uptime:stuck_reply\n\n" x 300);
    answers('300 requests to one unread reply FIFO');   # all parsed by now
    my $n = nfds($mid);
    cmp_ok($n, '<=', $fd0 + 8 + 4,
           "one unread reply FIFO: mid holds at most 8 replies for it"
           . " ($fd0 fds before, $n after)");
    like($p->log, qr/fifo reply \S*stuck_reply: client does not read: reply dropped/,
         'one unread reply FIFO: the dropped replies are logged');

    sleep 1.1;                          # a new window of log_warn_rl()
    push @stuck, map { stuck_fifo("stuck_$_") } 1 .. 20;
    send_raw(join('', map { ":uptime:stuck_$_\n\n" x 6 } 1 .. 20));
    answers('120 requests to 20 unread reply FIFOs');
    $n = nfds($mid);
    cmp_ok($n, '<=', $fd0 + 64 + 4,
           "20 unread reply FIFOs: at most 64 replies pending in all"
           . " ($fd0 fds before, $n after)");
    like($p->log, qr/too many replies pending: reply dropped/,
         '20 unread reply FIFOs: the dropped replies are logged');

    # the readers go away: mid lets go of every pending reply
    for (@stuck) { close($_->[0]); unlink($_->[1]) }
    my $deadline = time + 5;
    sleep 0.05 while nfds($mid) > $fd0 + 4 && time < $deadline;
    cmp_ok(nfds($mid), '<=', $fd0 + 4, 'readers gone: the descriptors are freed');
    answers('after the unread reply FIFOs');
}

# --- garbage and oversized requests do not eat the next request ----------
# a FIFO the test reads (non-blocking) for replies mid should or should
# not write
sub reader
{
    my ($name) = @_;
    my $path = "$dir/$name";
    unlink($path);
    mkfifo($path, 0600) or die "mkfifo $path: $!";
    sysopen(my $fh, $path, O_RDONLY | O_NONBLOCK) or die "open $path: $!";
    return $fh;
}

sub reply_to
{
    my ($what, $bytes, $name) = @_;
    my $raw = $p->mi_raw($bytes, $name, 5) // '';
    like($raw, qr/\A200 OK\n/, "$what: the request after it is answered")
        or diag("got: " . Sip::show($raw));
}

{
    reply_to('a garbage line', "this is not a request\n:uptime:g1\n\n", 'g1');
    reply_to('binary garbage lines',
             "\x00\xff\xfe\n\x01:\x02\n\r\n:uptime:g2\n\n", 'g2');
    reply_to('a garbage line longer than the buffer',
             ('Z' x 20000) . "\n:uptime:g3\n\n", 'g3');
    reply_to('a CRLF request before an LF one',
             ":version:g4a\r\n\r\n:uptime:g4\n\n", 'g4');

    # an oversized request whose arguments look like requests: 15 bytes
    # of request line and 14 per argument put one at the 8191st byte,
    # where mid used to cut and start parsing again
    my $leak = reader('leak');
    my $big = reader('big_r');
    reply_to('an oversized request',
             ":version:big_r\n" . (":version:leak\n" x 1000) . "\n"
             . ":uptime:g5\n\n", 'g5');
    sleep 0.3;
    is(drain($leak), '', 'oversized request: its arguments are not run');
    like(drain($big), qr/\A400 Request too long\n\n\z/,
         'oversized request: its client gets 400 Request too long');
    reply_to('an oversized request without a reply name',
             "::\n" . ('A' x 20000) . "\n\n:uptime:g6\n\n", 'g6');
    answers('garbage and oversized requests');
    close($_) for $leak, $big;
}

$p->stop;
done_testing();
