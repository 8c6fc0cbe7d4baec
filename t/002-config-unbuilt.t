#!/usr/bin/perl
# Config keys whose feature is not built yet are refused by name, with
# FILE:LINE, rather than accepted and ignored: a proxy that silently
# skipped the alias lookup would route calls wrongly. Modules that are
# built in (mi_fifo) or loaded on demand (proto_udp, proto_tcp) pass.

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
    ['db_aliases', ['[db]', 'url = postgres://u:s3cret@127.0.0.1/x',
                    '[route]', '  db_aliases = 1'], 1,
     "CFG:10: [route] db_aliases: not implemented (dbd is not built yet)\n"],
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
