# A job enqueued by a transaction that is prepared (PREPARE TRANSACTION) and committed only after a
# server restart. The claim hints live in shared memory, so the restart forgets that the prepared
# transaction wrote to the queue; its job, invisible until COMMIT PREPARED, must not be passed over by
# claims made meanwhile, which move the queue's hint past what they see. No hint moves while a
# transaction older than the server's first claim is still running; afterwards hints work again.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('prepared');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'dlq'
dlq.enabled = off
max_prepared_transactions = 2
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dlq;
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
	SELECT h.job_id IS NOT NULL FROM dlq._claim_hint((SELECT id FROM dlq.queue WHERE name = 'q')) AS h;
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
