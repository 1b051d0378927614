# Cluster test: an autovacuum of dlq.job does not stop a compaction. While a horizon is held, such a
# vacuum removes nothing, yet it holds a lock on dlq.job for as long as it runs; dlq._compact_jobs
# cancels it (as a lock request would after deadlock_timeout, with every worker queued behind) rather
# than reporting 'busy' or waiting. The autovacuum is made slow (cost limit 1, 100 ms delay) so that it
# is still running when the compaction comes.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('compaction_autovacuum');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'dlq'
dlq.enabled = off
autovacuum = on
autovacuum_naptime = 1
# The lock request's own cancel of a blocking autovacuum (after deadlock_timeout) must not do the work.
deadlock_timeout = '60s'
});
$node->start;

sub sql { return $node->safe_psql('postgres', @_); }

sql(q{
	CREATE EXTENSION dlq;
	SELECT dlq.create_queue('c');
	SELECT count(*) FROM (SELECT dlq.enqueue('c', 'survivor', jsonb_build_object('s', g), priority => 1) FROM generate_series(1, 50) AS g) AS e;
	CREATE TABLE public.survivors AS SELECT * FROM dlq.job;
	ALTER TABLE dlq.job SET (autovacuum_vacuum_threshold = 100, autovacuum_vacuum_scale_factor = 0,
	                         autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1);
	SELECT count(*) FROM (SELECT dlq.enqueue('c', 'work', jsonb_build_object('n', g)) FROM generate_series(1, 10000) AS g) AS e;
	SELECT count(*) FROM dlq.claim('c', 'w', 10000) AS c WHERE dlq.complete(c.job_id, 'w');
});
is(sql(q{SELECT count(*) FROM dlq.job}), '50', 'only the survivors are live');

my $autovacuum = q{SELECT pid FROM pg_stat_activity
                    WHERE backend_type = 'autovacuum worker' AND query LIKE '%dlq.job%'};
$node->poll_query_until('postgres', "SELECT count(*) > 0 FROM ($autovacuum) AS a")
  or die 'no autovacuum of dlq.job started';
# Long enough that any other transaction holding a lock on dlq.job would count as busy.
sleep(2);
my $vacuum_pid = sql($autovacuum);
isnt($vacuum_pid, '', 'an autovacuum of dlq.job has been running for 2 s');

my $log = -s $node->logfile;
is(sql(q{SELECT outcome FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000)}), 'compacted',
	'the compaction is not refused for it');
like(slurp_file($node->logfile, $log), qr/ERROR:  canceling autovacuum task/, 'the autovacuum was cancelled');
is(sql(q{SELECT count(*) FROM (SELECT * FROM public.survivors EXCEPT ALL SELECT * FROM dlq.job) AS d}), '0',
	'the live jobs came through');
is(sql(q{SELECT count(*) FROM dlq.job}), '50', 'and nothing else');

done_testing();
