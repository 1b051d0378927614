# Claim hints under concurrency: producers enqueue jobs in transactions held open a few milliseconds, so
# they commit out of order: a job's key (run_at = its transaction's start) lands behind jobs committed
# before it, where claims may already start. Meanwhile workers claim and complete. (No job is written
# with an earlier run_at or a more urgent priority: such a write lowers the start and would hide a
# hint that had wrongly passed over a job.) Afterwards one worker drains the queue: if a
# hint had passed over a waiting job, the drain would stop with jobs left. Every job must have been
# claimed and completed exactly once. Then a job of a prepared transaction committed after a restart
# (below).
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
max_prepared_transactions = 2
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
	  FROM dlq._claim_hint(-(SELECT id FROM dlq.queue WHERE name = 'stress')) AS h}), 't', # its plain lane
	'every enqueue was counted, and no writer is left open');

# ---- a prepared transaction across a restart ----------------------------------------------------------
# A job enqueued by a transaction that is prepared (PREPARE TRANSACTION) and committed only after a
# server restart. The hints live in shared memory, so the restart forgets that the prepared transaction
# wrote to the queue; its job, invisible until COMMIT PREPARED, must not be passed over by claims made
# meanwhile, which move the queue's hint past what they see. No hint moves while a transaction older
# than the server's first claim is still running; afterwards hints work again.
$node->safe_psql('postgres', q{
	SELECT dlq.create_queue('q', max_attempts => 1);
	BEGIN;
	SELECT dlq.enqueue('q', 'prepared');
	PREPARE TRANSACTION 'p1';
});

# Fast (and then immediate) shutdown: the prepared transaction survives both.
$node->restart(mode => 'fast');

# One session, whose claims start at the queue's hint once it knows the queue: three jobs behind the
# prepared one, two claimed and completed while it is still prepared, then it commits.
my $claimed = $node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT dlq.enqueue('q', k) FROM unnest(ARRAY['b', 'c', 'd']) AS k) AS e;
	SELECT dlq.complete(job_id, 'w1') FROM dlq.claim('q', 'w1');
	SELECT dlq.complete(job_id, 'w1') FROM dlq.claim('q', 'w1');
	COMMIT PREPARED 'p1';
	SELECT string_agg(kind, ',' ORDER BY kind) FROM dlq.claim('q', 'w1', 10);
});
like($claimed, qr/^d,prepared$/m, 'the job committed after the restart is claimed by the same session');
is($node->safe_psql('postgres', q{SELECT count(*) FROM dlq.job WHERE lease_expires_at IS NULL}), '0',
	'no job is left waiting');

# Hints work again once the older transaction has ended: a claim moves the queue's hint.
my $hint = $node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT dlq.enqueue('q', k) FROM unnest(ARRAY['e', 'f']) AS k) AS e;
	SELECT dlq.complete(job_id, 'w2') FROM dlq.claim('q', 'w2');
	SELECT dlq.complete(job_id, 'w2') FROM dlq.claim('q', 'w2');
	SELECT h.job_id IS NOT NULL FROM dlq._claim_hint(-(SELECT id FROM dlq.queue WHERE name = 'q')) AS h; -- its plain lane
});
like($hint, qr/^t$/m, 'the hint moves again after the prepared transaction ended');

# The same across a crash (immediate shutdown) with the transaction still prepared.
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT dlq.enqueue('q', 'prepared2');
	PREPARE TRANSACTION 'p2';
});
$node->stop('immediate');
$node->start;
$claimed = $node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT dlq.enqueue('q', k) FROM unnest(ARRAY['g', 'h', 'i']) AS k) AS e;
	SELECT dlq.complete(job_id, 'w3') FROM dlq.claim('q', 'w3');
	SELECT dlq.complete(job_id, 'w3') FROM dlq.claim('q', 'w3');
	COMMIT PREPARED 'p2';
	SELECT string_agg(kind, ',' ORDER BY kind) FROM dlq.claim('q', 'w3', 10);
});
like($claimed, qr/^(e|f|g|h|i|,)*prepared2(,(e|f|g|h|i))*$/m, 'after a crash too');
is($node->safe_psql('postgres', q{SELECT count(*) FROM dlq.job WHERE lease_expires_at IS NULL}), '0',
	'no job is left waiting after the crash');

$node->stop;
done_testing();
