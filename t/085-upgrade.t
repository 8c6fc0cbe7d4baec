#!/usr/bin/perl
# Live upgrade of one stage: the proxy runs from a private copy of the
# build (the shared build/ is never touched), the copy's sipd is replaced
# by one with another build id (the id stamped into a copy of the binary:
# same layout, like a rebuild that changed code or appended counters),
# and stage_restart of each sipd instance under steady UDP load loses no
# request; ps and version show the new build. A binary with another
# segment layout, or one that does not answer "--layout", is refused
# with 409 before anything stops: the old instance keeps its pid and
# keeps forwarding, and reload refuses it too.

use strict;
use warnings;
no warnings 'portable';                 # 64-bit hex layouts
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Copy qw(copy);
use POSIX ();
use Time::HiRes qw(sleep time);
use Proxy qw(slurp);
use Sip;

my $MARK = 'sipstage-build-id:';
my $NEWID = 'upgrade-test-2';

# a private build: bin/ and lib/ of the one under test
my $tmp = Proxy::make_tempdir();
my $src = Proxy::build_dir();
for my $d (qw(bin lib)) {
    mkdir("$tmp/$d") or die "$tmp/$d: $!";
    for my $f (glob("$src/$d/*")) {
        next unless -f $f;
        (my $n = $f) =~ s{.*/}{};
        copy($f, "$tmp/$d/$n") or die "$f: $!";
        chmod((stat($f))[2] & 07777, "$tmp/$d/$n");
    }
}
$ENV{SIPSTAGE_BUILD} = $tmp;
my $SIPD = "$tmp/bin/sipd";
my $orig = slurp($SIPD);

# install(CONTENT) - a new $SIPD by rename, as an installer does (the
# running processes keep their old inode)
sub install
{
    my ($content) = @_;
    Proxy::spew("$SIPD.new", $content);
    chmod(0755, "$SIPD.new") or die "$SIPD.new: $!";
    rename("$SIPD.new", $SIPD) or die "$SIPD: $!";
}

# stamped(ID) - the original sipd with another build id in its field
sub stamped
{
    my ($id) = @_;
    my $b = $orig;
    my $at = index($b, $MARK);
    die "no build id field in $SIPD" if $at < 0;
    my $off = $at + length($MARK);
    my $end = index($b, "\0", $off);
    substr($b, $off, length($id) + 1, "$id\0");
    substr($b, $off + length($id) + 1, $end - $off - length($id) - 1,
           "\0" x ($end - $off - length($id) - 1))
        if $end > $off + length($id) + 1;
    return $b;
}

my $p = Proxy->new(sipd => 2, children => 2);
my ($uac, $uas) = ($p->udp_socket, $p->udp_socket);
my %id0 = map { ("$_->{Type}/$_->{Instance}" => $_->{Build}) } $p->ps;
like($id0{'sipd/0'}, qr/^\S+$/, "ps: sipd/0 shows its build ($id0{'sipd/0'})");
is($id0{'sipd/1'}, $id0{'mid/0'}, 'ps: sipd/1 runs mid\'s build');
my $MIDID = $id0{'mid/0'};
my $was = `$SIPD --layout`;
like($was, qr/^layout 0x[0-9a-f]+ build \Q$MIDID\E$/,
     'sipd --layout: layout and build id');

install(stamped($NEWID));
like(`$SIPD --layout`, qr/^layout 0x[0-9a-f]+ build \Q$NEWID\E$/,
     'the new sipd: same layout, new build id');
my ($layout) = $was =~ /^layout (\S+)/;

# -- under steady load, restart each sipd onto the new binary
my $seq = 0;
my $N = 1200;
my $sender = fork() // die "fork: $!";
if (!$sender) {                         # 1200 OPTIONS, one per 2.5 ms
    for (1 .. $N) {
        $uac->send(Sip::options('sip:bob@127.0.0.1:' . $uas->port,
                                $uac->port, "up$_"), $p->port);
        sleep 0.0025;
    }
    POSIX::_exit(0);
}
my (%seen, @codes);
my $pump = sub {                        # read the UAS while we wait
    my ($t) = @_;
    my $until = time + $t;
    while (time < $until) {
        my ($m) = $uas->recv(0.01);
        $seen{$1} = 1 if defined $m && $m =~ /\r\nCall-ID: (up\d+)-/;
    }
};
$pump->(0.5);
for my $i (0, 1) {
    my ($old) = $p->ps_of('sipd', $i);
    my ($c, $why) = $p->mi('stage_restart', "sipd/$i");
    push @codes, $c // 'none';
    diag("stage_restart sipd/$i: $c $why") unless ($c // 0) == 200;
    my $until = time + 10;
    while (time < $until) {
        $pump->(0.1);
        my ($s) = $p->ps_of('sipd', $i);
        last if $s && $s->{PID} != $old->{PID} && $s->{State} eq 'running';
    }
    $pump->(0.3);
}
$pump->(0.1) while waitpid($sender, POSIX::WNOHANG()) == 0;
$pump->(1.5);
is_deeply(\@codes, [200, 200], 'stage_restart sipd/0 and sipd/1: 200');
my @lost = grep { !$seen{"up$_"} } 1 .. $N;
is(scalar(@lost), 0, "under load: all $N requests forwarded across both "
   . 'restarts') or diag("lost: @lost[0 .. ($#lost < 9 ? $#lost : 9)]");
my %ps = map { ("$_->{Type}/$_->{Instance}" => $_) } $p->ps;
is_deeply([ map { $ps{$_}{Build} } qw(sipd/0 sipd/1) ], [ $NEWID, $NEWID ],
          'ps: both sipd run the new build');
is_deeply([ map { $ps{$_}{Build} } qw(mid/0 netd/0 dnsd/0) ],
          [ ($id0{'mid/0'}) x 3 ], 'ps: mid, netd and dnsd kept theirs');
my (undef, undef, $ver) = $p->mi('version');
ok((grep { $_ eq "Build:: sipd/1 $NEWID" } @$ver)
   && (grep { $_ eq "Build:: mid $id0{'mid/0'}" } @$ver),
   'version: mid\'s build and each stage\'s') or diag(join("\n", @$ver));

# -- a binary with another layout: refused, nothing stops
my $bad = sprintf('0x%x', hex($layout) ^ (1 << 48));
install("#!/bin/sh\necho 'layout $bad build other-layout'\n");
my %pid = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
my ($c, $why) = $p->mi('stage_restart', 'sipd/0');
is($c, 409, 'another layout: stage_restart 409');
is($why, "sipd binary layout $bad does not match the running segment "
   . "$layout: full restart needed", 'another layout: says why');
($c, $why) = $p->mi('reload');
is($c, 409, 'another layout: reload 409 too');
like($why // '', qr/^sipd binary layout $bad does not match/,
     'another layout: reload says why');
sleep 0.5;
my %pid2 = map { ("$_->{Type}/$_->{Instance}" => $_->{PID}) } $p->ps;
is_deeply(\%pid2, \%pid, 'another layout: every pid unchanged');
my %ids;
for (1 .. 40) {
    my $id = 'bad' . ++$seq;
    $uac->send(Sip::options('sip:bob@127.0.0.1:' . $uas->port, $uac->port,
                            $id), $p->port);
    $ids{$id} = 1;
}
my $until = time + 5;
while (%ids && time < $until) {
    my ($m) = $uas->recv(0.2);
    delete $ids{$1} if defined $m && $m =~ /\r\nCall-ID: (\S+?)-\d+\@/;
}
is(scalar keys %ids, 0, 'another layout: the old sipd still forwards');

# -- a binary that does not answer: refused within the bound
install("#!/bin/sh\nexec sleep 30\n");
my $t0 = time;
($c, $why) = $p->mi('stage_restart', 'sipd/1');
my $took = time - $t0;
is($c, 409, 'no answer: stage_restart 409');
like($why // '', qr/^sipd binary did not tell its layout within 2000 ms/,
     'no answer: says why');
ok($took < 4, sprintf('no answer: refused in %.1f s', $took));
is(($p->ps_of('sipd', 1))[0]{PID}, $pid{'sipd/1'},
   'no answer: sipd/1 keeps its pid');

install($orig);
$p->stop;
done_testing();
