#!/usr/bin/perl
# [db] url twice: a PostgreSQL primary, then its streaming replica
# (Pg->new(replica_of => ...): pg_basebackup -R on another loopback
# port). A steady load of INVITEs that need an alias lookup runs through
# the proxy; the primary is stopped in the middle of it. Every INVITE is
# answered (aliased, or 503 with Retry-After while dbd moves over), and
# lookups go on from the replica: every INVITE sent a few seconds after
# the stop is aliased, with the row the replica holds. db:failovers
# counts the move.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(sleep time);
use DbSip;
use Pg;
use Proxy;
use Sip;

my $pg = Pg->new;
$pg->schema;
my ($uac, $uas) = map { Proxy::UDP->new } 1 .. 2;
my $UAS = '127.0.0.1:' . $uas->port;
$pg->psql("INSERT INTO dbaliases (alias_username, alias_domain, username, "
          . "domain) VALUES ('bob', 'example.com', 'robert', '$UAS')",
          'sipstage');
my $rep = Pg->new(replica_of => $pg);
{
    my $t = time;
    my $n = '';
    while (time < $t + 20) {
        $n = eval { $rep->psql('SELECT count(*) FROM dbaliases',
                               'sipstage') } // '';
        last if $n =~ /^1$/;
        sleep 0.2;
    }
    is($n, "1\n", 'the replica holds the row');
    is($rep->psql('SELECT pg_is_in_recovery()'), "t\n",
       'the replica is a replica (in recovery)');
}

my $p = Proxy->new(sipd => 1, children => 2, extra => {
    db => [ 'url = ' . $pg->url, 'url = ' . $rep->url, 'timeout_ms = 1000' ],
    route => [ 'db_aliases = 1' ] });
my @load = (port => $p->port, uas => $uas,
            alias => [ $uac, 'sip:bob@example.com' ]);

sub aliased
{
    my ($r) = @_;
    return ($r->{what} // '') eq 'fwd'
           && DbSip::ruri($r->{bytes}) eq "sip:robert\@$UAS";
}

{
    my $ok;
    my $t = time;
    while (!$ok && time < $t + 20) {
        my $r = DbSip::traffic(@load, rate => 5, secs => 1);
        $ok = grep { aliased($_) } @$r;
    }
    ok($ok, 'lookups served (from the primary)');
}
my $f0 = $p->stat('db:failovers');
my ($stopper, $stopping_at, $stopped_at);
my $recs = DbSip::traffic(@load, rate => 20, secs => 10, at => [
    [ 2, sub { $stopping_at = time;
               $stopper = fork // die "fork: $!";
               if (!$stopper) { $pg->stop; _exit(0) } } ],
    [ 2.2, sub { waitpid($stopper, 0); $stopped_at = time;
                 $pg->{up} = 0 } ],
]);
my @a = @$recs;
my @before = grep { $_->{t} < $stopping_at } @a;
ok(@before >= 20 && !grep({ !aliased($_) } @before),
   'before the stop: every INVITE aliased (' . scalar(@before) . ')');
is(scalar(grep { !$_->{done} } @a), 0, 'every INVITE answered');
my @bad = grep { !aliased($_) && !($_->{line} // '') =~ /^SIP\/2\.0 503 /
                 } @a;
ok(!@bad, 'each aliased, or 503 while dbd moves over')
    or diag(join("\n", map { $_->{line} // 'none' } @bad));
my @u = grep { !aliased($_) } @a;
ok(!grep({ $_->{bytes} !~ /\r\nRetry-After: \d+\r\n/ } @u),
   'every 503 has Retry-After');
my @after = grep { $_->{t} > $stopped_at + 3 } @a;
ok(@after >= 40 && !grep({ !aliased($_) } @after),
   'from 3 s after the primary stopped: every INVITE aliased from the '
   . 'replica (' . scalar(@after) . ')')
    or diag(join("\n", map { sprintf('%.2f ', $_->{t} - $stopped_at)
                             . ($_->{line} // 'none') }
                       grep { !aliased($_) } @after));
diag(scalar(@u) . ' of ' . scalar(@a) . ' INVITEs answered 503 during the '
     . 'move');
ok($p->stat('db:failovers') > $f0, 'db:failovers counts the move');
$p->stop;
unlike($p->log, qr/\Q${\ $pg->password }\E/, 'no DB password in the log');

done_testing();
