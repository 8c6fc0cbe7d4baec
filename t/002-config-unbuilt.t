#!/usr/bin/perl
# Config keys whose feature is not built yet are refused by name, with
# FILE:LINE, rather than accepted and ignored: a proxy that silently
# skipped a feature would route calls wrongly. Modules that are built in
# (mi_fifo) or loaded on demand (proto_udp, proto_tcp) pass. The DB keys
# ([route] db_aliases, db_allow) are built now and accepted; [db] urls of
# two schemes are refused with FILE:LINE, the password never shown.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Proxy qw(run_cmd free_ports bin);

my $mid = bin('mid');
-x $mid or BAIL_OUT("$mid not built (run make)");
my $dir = Proxy::make_tempdir();
my $port = free_ports(1);

my @base = (
    '[core]',                               # 1
    "run_dir = $dir/run",                   # 2
    '[mi]',                                 # 3
    "fifo_name = $dir/fifo",                # 4
    '[net]',                                # 5
    "listen = udp:127.0.0.1:$port",         # 6
);

my @cases = (
    # name, extra lines (from line 7), exit, stderr (exact) or undef
    # dbd is built: the DB routing keys are accepted with a [db] url
    ['db_aliases', ['[db]', 'url = postgres://u:s3cret@127.0.0.1/x',
                    '[route]', '  db_aliases = 1'], 0, "CFG: config OK\n"],
    ['db_allow', ['[db]', 'url = postgres://u:s3cret@127.0.0.1/x',
                  '[route]', 'db_allow = 1', 'db_aliases = 1'], 0,
     "CFG: config OK\n"],
    # one scheme for every [db] url (dbd loads one backend)
    ['mixed schemes', ['[db]', 'url = postgres://u:s3cret@127.0.0.1/x',
                       'url = postgresql://u:s3cret@127.0.0.2/x',
                       'url = mysql://u:s3cret@127.0.0.3/x'], 1,
     "CFG:10: [db] url: URL 3 is mysql, the first is postgres: every url "
     . "must use one scheme\n"],
    ['mixed schemes, mysql first', ['[db]',
                       'url = mysql://u:s3cret@127.0.0.1/x',
                       'url = postgresql://u:s3cret@127.0.0.2/x'], 1,
     "CFG:9: [db] url: URL 2 is postgres, the first is mysql: every url "
     . "must use one scheme\n"],
    ['replicas, one scheme', ['[db]', 'url = mysql://u:s3cret@127.0.0.1/x',
                              'url = mysql://u:s3cret@127.0.0.2/x'], 0,
     "CFG: config OK\n"],
    ['unknown module', ['[modules]', 'load = mi_fifo', 'load = acc'], 1,
     "CFG:9: [modules] load: acc: not implemented (no loadable modules "
     . "exist yet)\n"],
    ['built-in modules', ['[modules]', 'load = mi_fifo', 'load = proto_udp'],
     0, undef],
    ['db url alone', ['[db]', 'url = postgres://u:s3cret@127.0.0.1/x'],
     0, undef],
);

for my $c (@cases) {
    my ($name, $extra, $exit, $err) = @$c;
    my $cfg = "$dir/$name.cfg";
    $cfg =~ s/ /_/g;
    Proxy::spew($cfg, join('', map { "$_\n" } @base, @$extra));
    my $r = run_cmd([$mid, '-c', '-f', $cfg], timeout => 10);
    is($r->{status} >> 8, $exit, "$name: exit $exit");
    if (defined $err) {
        (my $want = $err) =~ s/CFG/$cfg/;
        is($r->{err}, $want, "$name: exact error");
    }
    unlike($r->{err}, qr/s3cret/, "$name: the db password is never shown");
}

done_testing();
