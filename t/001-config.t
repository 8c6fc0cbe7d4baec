#!/usr/bin/perl
# Config checking: "mid -c -f FILE" accepts the default config and
# rejects bad ones with "FILE:LINE: [section] key: reason" on stderr and
# exit 1; a bad config given to a real start (-F) starts nothing.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Proxy qw(run_cmd free_ports repo_root bin proc_scan slurp);

my $mid = bin('mid');
-x $mid or BAIL_OUT("$mid not built (run make)");
my $root = repo_root();
my $dir = Proxy::make_tempdir();
my $port = free_ports(1);

my @crashes;
sub mid_run
{
    my (@args) = @_;
    my $r = run_cmd([$mid, @args], timeout => 10, cwd => $dir);
    push @crashes, "mid @args: " . Proxy::describe_status($r->{status})
        . "\n$r->{err}"
        if $r->{signal} || $r->{timed_out}
           || $r->{err} =~ /panic:|Sanitizer|runtime error:/;
    return $r;
}

sub write_cfg
{
    my ($name, @lines) = @_;
    my $f = "$dir/$name.cfg";
    Proxy::spew($f, join('', map { "$_\n" } @lines));
    return $f;
}

# the start of a good config; every test file below adds to it
my @base = (
    '# sipstage test config',               # 1
    '[core]',                               # 2
    "run_dir = $dir/run",                   # 3
    "pid_file = $dir/mid.pid",              # 4
    '[mi]',                                 # 5
    "fifo_name = $dir/fifo",                # 6
    '[net]',                                # 7
    "listen = udp:127.0.0.1:$port",         # 8
);

sub nothing_started
{
    my ($what, $cfg) = @_;
    ok(!-e "$dir/fifo", "$what: no FIFO created");
    ok(!-e "$dir/run" || !glob("$dir/run/*"), "$what: no run_dir files");
    my @p = proc_scan(sub { index($_[0]{cmdline}, $cfg) >= 0 });
    ok(!@p, "$what: no process left running")
        or diag(join("\n", map { "$_->{pid} $_->{cmdline}" } @p));
    kill('KILL', $_->{pid}) for @p;
}

# --- the default config and a generated good one are accepted ----------
{
    my $r = mid_run('-c', '-f', "$root/etc/sipstage.cfg");
    is($r->{exit}, 0, 'mid -c -f etc/sipstage.cfg exits 0')
        or diag("stderr: $r->{err}");
    ok(!$r->{timed_out}, 'mid -c returns at once');

    my $f = write_cfg('good', @base, '[stages]', 'sipd = 2', '[log]',
                      'debug = -3', '[route]', 'record_route = 1');
    $r = mid_run('-c', '-f', $f);
    is($r->{exit}, 0, 'mid -c on a good generated config exits 0')
        or diag("stderr: $r->{err}");
    nothing_started('mid -c (good config)', $f);

    # tcp is built: a tcp listen line beside the udp one is accepted
    $f = write_cfg('good_tcp', @base, "listen = tcp:127.0.0.1:$port");
    $r = mid_run('-c', '-f', $f);
    is($r->{exit}, 0, 'mid -c accepts a tcp listen line')
        or diag("stderr: $r->{err}");
}

# --- bad configs: exit 1, exact "FILE:LINE: [section] key:" prefix ------
my @bad = (
    # name, extra lines (after @base), expected prefix (FILE: omitted),
    # optional regex the message must also match
    [ 'unknown core key', [ '[core]', 'bogus_key = 1' ],
      '10: [core] bogus_key:' ],
    [ 'unknown net key', [ 'listn = udp:127.0.0.1:5060' ],
      '9: [net] listn:' ],
    [ 'port out of range', [ 'listen = udp:127.0.0.1:70000' ],
      '9: [net] listen:' ],
    [ 'port not a number', [ 'listen = udp:127.0.0.1:http' ],
      '9: [net] listen:' ],
    [ 'tcp listen twice',
      [ "listen = tcp:127.0.0.1:$port", "listen = tcp:127.0.0.1:$port" ],
      '10: [net] listen:', qr/duplicate "tcp:127\.0\.0\.1:\d+" \(first at line 9\)/ ],
    [ 'children not a number', [ '[core]', 'children = many' ],
      '10: [core] children:' ],
    [ 'debug out of range', [ '[log]', 'debug = 5' ],
      '10: [log] debug:' ],
    [ 'sipd processes out of range', [ '[stages]', 'sipd = 0' ],
      '10: [stages] sipd:' ],
    [ 'unknown section', [ '[nosuch]', 'x = 1' ], '9: [nosuch]' ],
);

for my $b (@bad) {
    my ($name, $extra, $prefix, $re) = @$b;
    (my $fn = $name) =~ s/\W+/_/g;
    my $f = write_cfg($fn, @base, @$extra);
    my $want = "$f:$prefix";
    my $r = mid_run('-c', '-f', $f);
    is($r->{exit}, 1, "$name: mid -c exits 1");
    like($r->{err}, qr/(?:^|: )\Q$want\E/m,
         "$name: stderr names \"$want\"")
        or diag("stderr: $r->{err}");
    like($r->{err}, $re, "$name: reason") if $re;
    nothing_started("$name (-c)", $f);
}

# a bad config given to a real start: same message, exit 1, nothing runs
{
    my $f = write_cfg('bad_start', @base, '[core]', 'bogus_key = 1');
    my $r = mid_run('-F', '-f', $f);
    ok(!$r->{timed_out}, 'mid -F with a bad config returns at once');
    is($r->{exit}, 1, 'mid -F with a bad config exits 1');
    like($r->{err}, qr/(?:^|: )\Q$f:10: [core] bogus_key:\E/m,
         'mid -F with a bad config names file:line: [section] key:')
        or diag("stderr: $r->{err}");
    nothing_started('mid -F (bad config)', $f);
}

# --- a missing file ------------------------------------------------------
{
    my $f = "$dir/does-not-exist.cfg";
    my $r = mid_run('-c', '-f', $f);
    is($r->{exit}, 1, 'missing file: mid -c exits 1');
    like($r->{err}, qr/\Q$f\E.*No such file or directory/,
         'missing file: stderr names the file and the reason')
        or diag("stderr: $r->{err}");
    $r = mid_run('-F', '-f', $f);
    is($r->{exit}, 1, 'missing file: mid -F exits 1');
    ok(!$r->{timed_out}, 'missing file: mid -F returns at once');
}

# --- no listen line at all is a whole-file error ------------------------
{
    my $f = write_cfg('no_listen', @base[0 .. 6]);
    my $r = mid_run('-c', '-f', $f);
    is($r->{exit}, 1, 'no listen line: mid -c exits 1');
    like($r->{err}, qr/\Q$f\E:/, 'no listen line: stderr names the file')
        or diag("stderr: $r->{err}");
}

ok(!@crashes, 'no mid run crashed, hung, panicked or tripped a sanitizer')
    or diag(join("\n", @crashes));
done_testing();
