# Claim hints under concurrency: producers enqueue jobs in transactions held open a few milliseconds, so
# they commit out of order: a job's key (run_at = its transaction's start) lands behind jobs committed
# before it, where claims may already start. Meanwhile workers claim and complete. (No job is written
# with an earlier run_at or a more urgent priority: such a write lowers the start and would hide a
# hint that had wrongly passed over a job.) Afterwards one worker drains the queue: if a
# hint had passed over a waiting job, the drain would stop with jobs left. Every job must have been
# claimed and completed exactly once.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hints');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'dlq'
dlq.enabled = off
max_connections = 30
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dlq;
	SELECT dlq.create_queue('stress', max_attempts => 1);
	CREATE TABLE public.enqueued (job_id bigint NOT NULL);
	CREATE TABLE public.completed (job_id bigint NOT NULL);
});

my $dir = PostgreSQL::Test::Utils::tempdir;
open(my $enqueue, '>', "$dir/enqueue.sql") or die;
print $enqueue q{
BEGIN;
INSERT INTO public.enqueued SELECT dlq.enqueue('stress', 'k');
SELECT pg_sleep(random() * 0.004);
COMMIT;
};
close($enqueue);
open(my $claim, '>', "$dir/claim.sql") or die;
print $claim q{
INSERT INTO public.completed
SELECT c.job_id FROM dlq.claim('stress', 'w' || :client_id, 3) AS c WHERE dlq.complete(c.job_id, 'w' || :client_id);
};
close($claim);
open(my $drain, '>', "$dir/drain.sql") or die;
print $drain q{
INSERT INTO public.completed
SELECT c.job_id FROM dlq.claim('stress', 'drain', 500) AS c WHERE dlq.complete(c.job_id, 'drain');
};
close($drain);

$node->command_ok(
	[ 'pgbench', '-n', '-c', '8', '-j', '2', '-T', '10', '-f', "$dir/enqueue.sql\@2", '-f', "$dir/claim.sql\@3",
	  '-d', 'postgres' ],
	'producers and workers ran');

# The drain, in one session so that its claims start where the hint says (a new session knows no queue
# id yet and reads from the queue's start): claim and complete until nothing is left to claim.
$node->command_ok(
	[ 'pgbench', '-n', '-c', '1', '-t', '2000', '-f', "$dir/drain.sql", '-d', 'postgres' ],
	'the drain ran');

my $enqueued = $node->safe_psql('postgres', q{SELECT count(*) FROM public.enqueued});
cmp_ok($enqueued, '>', 500, "the load enqueued enough jobs ($enqueued)");
is($node->safe_psql('postgres', q{SELECT count(*) FROM dlq.job}), '0', 'no job left waiting after the drain');
is($node->safe_psql('postgres', q{SELECT count(*) FROM dlq.dead_letter}), '0', 'nothing dead-lettered');
is($node->safe_psql('postgres', q{SELECT count(*) = count(DISTINCT job_id) FROM public.completed}), 't',
	'no job completed twice');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM public.enqueued AS e FULL JOIN public.completed AS c USING (job_id)
	 WHERE e.job_id IS NULL OR c.job_id IS NULL}), '0', 'the jobs completed are the jobs enqueued');
is($node->safe_psql('postgres', q{
	SELECT h.writes >= (SELECT count(*) FROM public.enqueued) AND h.open_writers = 0
	  FROM dlq._claim_hint((SELECT id FROM dlq.queue WHERE name = 'stress')) AS h}), 't',
	'every enqueue was counted, and no writer is left open');

$node->stop;
done_testing();
