#!/usr/bin/perl
# make install: "make install DESTDIR=TMP PREFIX=/usr/local" puts the
# four daemons together in PREFIX/lib/sipstage/bin (mid execs the stages
# from its own directory), the transports in PREFIX/lib/sipstage/lib,
# sbin/sipstage-mid (a symlink to mid) and sbin/sipctl, the man pages,
# the bash completion, the systemd unit, the schema files in
# share/sipstage/db (which the installed sipctl db init runs), and
# DESTDIR/etc/sipstage/sipstage.cfg (run_dir /run/sipstage, the FIFO in
# it, [modules] path the installed lib dir), which a second install
# leaves alone. Then the
# INSTALLED mid runs on a config of the test's (loopback port, run_dir
# in a temp dir, [modules] path inside DESTDIR), its stages run from
# DESTDIR, it forwards a SIP OPTIONS, and the installed sipctl talks to
# it, and starts and stops one of its own. The man pages render without
# a warning; systemd-analyze verify accepts the unit (skipped, with the
# reason, where it cannot run).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use Proxy qw(run_cmd slurp);
use Sip;
use Watchdog ();

my $ROOT = Proxy::repo_root();
my $DEST = tempdir('sipstage-inst-XXXXXXXX', TMPDIR => 1,
                   CLEANUP => !$ENV{T_LEAVE});
Watchdog::dir($DEST);                   # also when the test dies hard
my $PFX = '/usr/local';
my $D = "$DEST$PFX";
my $LIB = "$D/lib/sipstage";

# the build the rest of the suite uses (make check: build-SAN)
my @build;
if (my $b = $ENV{SIPSTAGE_BUILD}) {
    @build = $b =~ m{^build-([a-z,]+)$} ? ("SAN=$1") : ("BUILD=$b");
}

sub install
{
    my $r = run_cmd([ 'make', '-s', '-C', $ROOT, 'install', "DESTDIR=$DEST",
                      "PREFIX=$PFX", @build ], timeout => 600);
    ok(!$r->{timed_out} && defined $r->{exit} && $r->{exit} == 0,
       'make install DESTDIR PREFIX=/usr/local: exit 0')
        or diag($r->{out} . $r->{err});
    return $r;
}

# --- what goes where -----------------------------------------------------
install();
for my $d (qw(mid netd sipd dnsd dbd)) {
    ok(-x "$LIB/bin/$d", "daemon $d in PREFIX/lib/sipstage/bin");
}
ok(-f "$LIB/lib/proto_$_.so", "transport proto_$_.so in PREFIX/lib/sipstage/lib")
    for qw(udp tcp);
is(readlink("$D/sbin/sipstage-mid"), '../lib/sipstage/bin/mid',
   'sbin/sipstage-mid: a relative symlink to mid');
ok(-x "$D/sbin/sipctl", 'sbin/sipctl');
like(slurp("$D/sbin/sipctl"), qr{^SIPCTL_CFG=/etc/sipstage/sipstage\.cfg\s}m,
     'installed sipctl defaults to /etc/sipstage/sipstage.cfg');
ok(-f "$D/share/man/man8/$_", "man page $_") for qw(mid.8 sipctl.8);
ok(-f "$D/share/man/man5/sipstage.cfg.5", 'man page sipstage.cfg.5');
ok(-f "$D/share/bash-completion/completions/sipctl", 'bash completion');
for my $f (qw(postgres.sql mysql.sql)) {
    is(slurp("$D/share/sipstage/db/$f"), slurp("$ROOT/etc/db/$f"),
       "schema $f in PREFIX/share/sipstage/db");
}
# the installed sipctl runs the installed schema: a stand-in psql first
# in PATH records the file it is given
{
    my $bin = "$DEST/fake-bin";
    mkdir($bin);
    Proxy::spew("$bin/psql", "#!/bin/sh\nprintf '%s\\n' \"\$@\" "
                . ">$DEST/psql.argv\n");
    chmod(0755, "$bin/psql");
    Proxy::spew("$DEST/db.cfg", "[db]\nurl = postgres://u\@127.0.0.1/d\n");
    local $ENV{PATH} = "$bin:$ENV{PATH}";
    my $r = run_cmd([ "$D/sbin/sipctl", '-f', "$DEST/db.cfg", 'db', 'init' ],
                    timeout => 20);
    is($r->{exit}, 0, 'installed sipctl db init (stand-in psql): exit 0')
        or diag($r->{out} . $r->{err});
    like(slurp("$DEST/psql.argv") // '',
         qr{^-f\n\Q$D\E/share/sipstage/db/postgres\.sql$}m,
         '... runs PREFIX/share/sipstage/db/postgres.sql');
}
my $unit = "$D/lib/systemd/system/sipstage.service";
ok(-f $unit, 'systemd unit in PREFIX/lib/systemd/system');

my $cfgf = "$DEST/etc/sipstage/sipstage.cfg";
my $cfg = slurp($cfgf) // '';
like($cfg, qr{^run_dir = /run/sipstage$}m, 'installed config: run_dir');
like($cfg, qr{^fifo_name = /run/sipstage/mi_fifo$}m,
     'installed config: fifo_name');
like($cfg, qr{^path = \Q$PFX\E/lib/sipstage/lib$}m,
     'installed config: [modules] path is the installed lib dir');
my $r = run_cmd([ "$LIB/bin/mid", '-c', '-f', $cfgf ], timeout => 10);
is($r->{exit}, 0, 'installed config: mid -c accepts it')
    or diag($r->{err});

# a second install keeps an operator's config
open(my $fh, '>>', $cfgf) or die "$cfgf: $!";
print $fh "# edited by the operator\n";
close($fh);
like(install()->{out}, qr/exists: left alone/, 'second install says so');
like(slurp($cfgf), qr/^# edited by the operator$/m,
     'second install: the config is not overwritten');

# --- the installed mid runs and forwards ----------------------------------
{
    local $ENV{SIPSTAGE_BUILD} = $LIB;  # Proxy runs $LIB/bin/mid
    my $p = Proxy->new(children => 1, debug => 3,
                       extra => { modules => [ "path = $LIB/lib" ] });
    my @ps = $p->ps;
    is(scalar(grep { $_->{State} eq 'running' } @ps), 4,
       'installed mid: four processes running');
    for my $r (grep { $_->{Type} ne 'mid' } @ps) {
        is(readlink("/proc/$r->{PID}/exe"), "$LIB/bin/$r->{Type}",
           "installed mid: $r->{Type} runs from DESTDIR");
    }
    is(readlink('/proc/' . $p->pid . '/exe'), "$LIB/bin/mid",
       'installed mid: mid itself runs from DESTDIR');
    like($p->log, qr{transport udp: loaded \Q$LIB\E/lib/proto_udp\.so},
         'netd loaded the installed transport');

    my $uac = $p->udp_socket;
    my $uas = $p->udp_socket;
    my ($U, $S, $P) = ($uac->port, $uas->port, $p->port);
    my $opt = Sip::msg("OPTIONS sip:bob\@127.0.0.1:$S SIP/2.0", [
        "Via: SIP/2.0/UDP 127.0.0.1:$U;branch=z9hG4bK-inst-1;rport",
        'Max-Forwards: 70',
        "From: <sip:alice\@127.0.0.1:$U>;tag=i1",
        "To: <sip:bob\@127.0.0.1:$S>",
        'Call-ID: install-1@127.0.0.1',
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
    ], '');
    $uac->send($opt, $P);
    my ($got) = $uas->recv(5);
    ok(defined $got, 'installed mid: the OPTIONS reached the UAS')
        or diag($p->log_tail(20));
    like($got // '', qr{^Via: SIP/2\.0/UDP 127\.0\.0\.1:$P;branch=z9hG4bK}m,
         'installed mid: forwarded with our Via on top');
    like($got // '', qr{^Max-Forwards: 69\r$}m, '... Max-Forwards 69');

    my $s = run_cmd([ "$D/sbin/sipctl", 'status', '-f', $p->cfg ],
                    timeout => 20);
    is($s->{exit}, 0, 'installed sipctl status: exit 0');
    like($s->{out}, qr/^running, pid ${\ $p->pid }$/m,
         'installed sipctl status: running, with mid\'s pid')
        or diag($s->{out} . $s->{err});
    $s = run_cmd([ "$D/sbin/sipctl", '--json', 'ps', '-f', $p->cfg ],
                 timeout => 20);
    my $ps = eval { decode_json($s->{out}) };
    is(ref $ps, 'ARRAY', 'installed sipctl ps --json: an array')
        or diag($@ . $s->{out} . $s->{err});
    is(scalar(@{ $ps || [] }), 4, '... of four processes');
    $s = run_cmd([ "$D/sbin/sipctl", 'stats', 'core:rcv_requests',
                   '-f', $p->cfg ], timeout => 20);
    like($s->{out}, qr/^core:rcv_requests [1-9]\d*$/m,
         'installed sipctl stats: the OPTIONS was counted')
        or diag($s->{out} . $s->{err});
    $p->stop;
}

# --- the installed sipctl starts the installed mid ------------------------
{
    my $p = Proxy->new(no_start => 1,
                       extra => { modules => [ "path = $LIB/lib" ] });
    local $ENV{SIPSTAGE_BIN};
    delete $ENV{SIPSTAGE_BIN};
    my $s = run_cmd([ "$D/sbin/sipctl", '-f', $p->cfg, 'start' ],
                    timeout => 30);
    is($s->{exit}, 0, 'installed sipctl start: exit 0')
        or diag($s->{out} . $s->{err} . (slurp($p->run_dir . '/sipstage.log') // ''));
    my ($pid) = (slurp($p->dir . '/mid.pid') // '') =~ /^(\d+)/;
    ok($pid, 'installed sipctl start: a pid file');
    is($pid && readlink("/proc/$pid/exe"), "$LIB/bin/mid",
       'installed sipctl start: ran the installed mid (SIPCTL_BIN)');
    $s = run_cmd([ "$D/sbin/sipctl", 'stop', '-f', $p->cfg ], timeout => 30);
    is($s->{exit}, 0, 'installed sipctl stop: exit 0');
    my $i = $pid && Proxy::proc_info($pid);   # a zombie until reaped
    ok(!$i || $i->{state} eq 'Z', 'installed sipctl stop: mid is gone');
}

# --- man pages -------------------------------------------------------------
for my $m ("man8/mid.8", "man8/sipctl.8", "man5/sipstage.cfg.5") {
    my $f = "$D/share/man/$m";
  SKIP: {
        skip('groff not installed', 2) unless -x '/usr/bin/groff';
        my $g = run_cmd([ 'groff', '-man', '-Tutf8', '-ww', '-z', $f ],
                        timeout => 20);
        is($g->{exit}, 0, "$m: groff -man renders it");
        is($g->{err}, '', "$m: without a warning");
    }
  SKIP: {
        skip('man not installed', 1) unless -x '/usr/bin/man';
        my $g = run_cmd([ 'man', '-l', $f ], timeout => 20);
        my ($name) = $m =~ m{/([^/]+)\.\d$};
        like($g->{out}, qr/NAME\s+\Q$name\E/,
             "$m: man -l shows its NAME section");
    }
}

# --- the systemd unit ------------------------------------------------------
SKIP: {
    my $sa = '/usr/bin/systemd-analyze';
    skip('systemd-analyze not installed', 2) unless -x $sa;
    my $dir = tempdir('sipstage-unit-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    Watchdog::dir($dir);
    # a unit known to be good: does verify work at all here?
    Proxy::spew("$dir/probe.service",
                "[Service]\nType=oneshot\nExecStart=/bin/true\n");
    my $v = run_cmd([ $sa, 'verify', '--man=no', "$dir/probe.service" ],
                    timeout => 30);
    skip("systemd-analyze verify does not work here: "
         . ($v->{err} =~ s/\n.*//sr), 2) if $v->{exit} // 1;
    # the installed unit, its paths moved into DESTDIR (verify wants
    # the executables to exist)
    my $u = slurp($unit);
    like($u, qr{^ExecStart=\Q$PFX\E/lib/sipstage/bin/mid -d -f /etc/sipstage/sipstage\.cfg}m,
         'unit: ExecStart runs the installed mid on /etc/sipstage');
    $u =~ s{\Q$PFX\E/}{$D/}g;
    Proxy::spew("$dir/sipstage.service", $u);
    $v = run_cmd([ $sa, 'verify', '--man=no', "$dir/sipstage.service" ],
                 timeout => 30);
    ok(($v->{exit} // 1) == 0 && $v->{err} !~ /sipstage\.service/,
       'systemd-analyze verify: the unit is clean')
        or diag($v->{out} . $v->{err});
}

done_testing();
