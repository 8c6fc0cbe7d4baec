#!/usr/bin/perl
# Live upgrade of one stage: the proxy runs from a private copy of the
# build (the shared build/ is never touched), the copy's sipd is replaced
# by one with another build id (the id stamped into a copy of the binary:
# same layout, like a rebuild that changed code or appended counters),
# and stage_restart of each sipd instance under steady UDP load loses no
# request; ps and version show the new build. A binary with another
# segment layout, or one that does not answer "--layout", is refused
# with 409 before anything stops: the old instance keeps its pid and
# keeps forwarding, and a reload that would restart sipd refuses it too
# (one that restarts only dnsd probes only dnsd). A crash restart onto a
# binary with another layout leaves the stage down with one error line
# instead of a loop of failed starts; stage_restart brings it back once
# the binary is fixed.

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
use Watchdog ();

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
    Watchdog::in_child();               # the test's death must show
    for (1 .. $N) {
        $uac->send(Sip::options('sip:bob@127.0.0.1:' . $uas->port,
                                $uac->port, "up$_"), $p->port);
        sleep 0.0025;
    }
    POSIX::_exit(0);
}
my $sender_w = Watchdog::arm(pid => $sender, what => 'OPTIONS sender');
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
Watchdog::disarm($sender_w);
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
my $base = slurp($p->cfg);
Proxy::spew($p->cfg, $base . "[route]\nrecord_route = 1\n");
($c, $why) = $p->mi('reload');
is($c, 409, 'another layout: a reload that restarts sipd: 409 too');
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

# a reload that restarts only dnsd probes only dnsd: taken
Proxy::spew($p->cfg, $base . "[dns]\nblacklist_s = 30\n");
my $lines;
($c, $why, $lines) = $p->mi('reload');
is($c, 200, 'another sipd layout: a dnsd-only reload is taken') or diag($why);
is_deeply($lines, [ 'Reload:: 1 stages restart one at a time',
                    'Stages:: dnsd', 'Changed:: [dns] blacklist_s' ],
          'another sipd layout: only dnsd restarts');
ok($p->wait_ps(sub { my ($d) = grep { $_->{Type} eq 'dnsd' } @_;
                     !grep { $_->{State} ne 'running' } @_
                     and $d->{PID} != $pid{'dnsd/0'} }, 15),
   'another sipd layout: dnsd back on the new file')
    or diag(Proxy::ps_text($p->{last_ps}));
is_deeply([ map { ($p->ps_of('sipd', $_))[0]{PID} } 0, 1 ],
          [ $pid{'sipd/0'}, $pid{'sipd/1'} ],
          'another sipd layout: both sipd untouched by it');

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

# -- a crash restart onto a binary with another layout: probed first,
# left down with one error instead of failing to attach in a loop; MI
# stage_restart brings it back once the binary fits again
install("#!/bin/sh\necho 'layout $bad build other-layout'\n");
my ($s0) = $p->ps_of('sipd', 0);
kill('KILL', $s0->{PID});
ok($p->wait_ps(sub { my ($s) = grep { $_->{Type} eq 'sipd'
                                      && $_->{Instance} == 0 } @_;
                     $s && $s->{State} eq 'down' }, 10),
   'crash onto another layout: ps shows sipd/0 down')
    or diag(Proxy::ps_text($p->{last_ps}));
my ($d0) = $p->ps_of('sipd', 0);
sleep 1.5;                              # a back-off loop restarts in 0.1 s
my ($d1) = $p->ps_of('sipd', 0);
is_deeply([ @$d1{qw(State PID Restarts)} ], [ 'down', 0, $d0->{Restarts} ],
          'crash onto another layout: it stays down, no restart loop');
my @err = $p->log =~ /^(.*sipd\/0: not started: .*)$/mg;
is(scalar @err, 1, 'crash onto another layout: one error line')
    or diag(join("\n", @err));
like($err[0] // '', qr/^mid\[\d+\]: error: .*sipd\/0: not started: sipd binary layout \Q$bad\E does not match the running segment \Q$layout\E: full restart needed; left down until MI stage_restart sipd\/0$/,
     'crash onto another layout: names the stage, both layouts, a full '
     . 'restart');
%ids = ();
for (1 .. 40) {
    my $id = 'down' . ++$seq;
    $uac->send(Sip::options('sip:bob@127.0.0.1:' . $uas->port, $uac->port,
                            $id), $p->port);
    $ids{$id} = 1;
}
$until = time + 5;
while (%ids && time < $until) {
    my ($m) = $uas->recv(0.2);
    delete $ids{$1} if defined $m && $m =~ /\r\nCall-ID: (\S+?)-\d+\@/;
}
is(scalar keys %ids, 0, 'crash onto another layout: sipd/1 takes every '
   . 'request meanwhile');
($c, $why) = $p->mi('stage_restart', 'sipd/0');
is($c, 409, 'still another layout: stage_restart 409, stays down');
is(($p->ps_of('sipd', 0))[0]{State}, 'down', '... and ps says down');
install($orig);
($c, $why, $lines) = $p->mi('stage_restart', 'sipd/0');
is($c, 200, 'binary fixed: stage_restart sipd/0 200') or diag($why);
like($lines->[0] // '', qr/^Process:: sipd\/0 PID=\d+ starting$/,
     'binary fixed: says it starts');
ok($p->wait_ps(sub { my ($s) = grep { $_->{Type} eq 'sipd'
                                      && $_->{Instance} == 0 } @_;
                     $s && $s->{State} eq 'running' && $s->{PID} > 0 }, 10),
   'binary fixed: sipd/0 running again')
    or diag(Proxy::ps_text($p->{last_ps}));
is(($p->ps_of('sipd', 0))[0]{Build}, $MIDID,
   'binary fixed: sipd/0 runs the original build');

$p->stop;
done_testing();
