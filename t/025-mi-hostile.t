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
use POSIX qw(mkfifo);
use Time::HiRes qw(sleep time);
use Proxy;

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

$p->stop;
done_testing();
