# Cluster test of the sweeper's compaction of dlq.job: while a REPEATABLE READ snapshot holds the
# transaction horizon, finished jobs leave dead rows that vacuum cannot remove; once
# dlq.compact_dead_rows of them have been added, the sweeper copies the live jobs into new storage and
# drops the old. Checked:
#  - none without a held horizon (vacuum can do the work);
#  - with one, compactions keep the dead rows bounded while jobs keep finishing, the jobs that were
#    live come through unchanged, and no job is lost or finished twice;
#  - the holder's old snapshot sees today's jobs afterwards, not an empty table;
#  - a holder that has read dlq.job (so holds a lock on it) makes the sweeper log why it does not
#    compact, once;
#  - a crash in the middle of a compaction leaves the old storage; a crash right after one keeps the
#    new storage and every job in it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('compaction');
$node->init;
# autovacuum off: the dead rows counted are the jobs' alone.
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'dlq'
dlq.sweep_interval = '300ms'
dlq.databases = 'postgres'
dlq.vacuum_horizon_warning = '3s'
dlq.compact_dead_rows = 3000
dlq.compact_max_live_rows = 5000
autovacuum = off
});
$node->start;

sub sql { return $node->safe_psql('postgres', @_); }
sub log_offset { return -s $node->logfile; }
sub log_since { my ($offset) = @_; return slurp_file($node->logfile, $offset); }

my $compacted = qr/LOG:  dlq sweeper: compacted dlq\.job in database "postgres": (\d+) live jobs copied, (\d+) dead row versions dropped, .+ before and .+ after, lock held \d+ ms$/m;
my $dead_rows = q{SELECT pg_stat_get_dead_tuples('dlq.job'::regclass)};

sql(q{
	CREATE EXTENSION dlq;
	SELECT dlq.create_queue('c', lease => '1 hour');
	CREATE TABLE public.done (job_id bigint PRIMARY KEY);
});

# Finishes $n jobs (each leaves two dead rows: its enqueued and its claimed version), recording each
# completion in public.done (a second completion of a job would break its primary key).
sub finish_jobs {
	my ($n) = @_;
	sql(qq{SELECT count(*) FROM (SELECT dlq.enqueue('c', 'work', jsonb_build_object('n', g)) FROM generate_series(1, $n) AS g) AS e});
	sql(qq{INSERT INTO public.done SELECT job_id FROM dlq.claim('c', 'w', $n) AS c WHERE dlq.complete(c.job_id, 'w')});
	return;
}

sub compactions_since { my ($offset) = @_; my @all = log_since($offset) =~ /$compacted/g; return @all / 2; }

# Waits (at most 90 s: a try that gave up pauses 60 s) until the log shows more than $count compactions
# after $offset.
sub wait_for_compaction {
	my ($offset, $count) = @_;
	for (1 .. 900) {
		return 1 if compactions_since($offset) > $count;
		select(undef, undef, undef, 0.1);
	}
	diag(sql(q{SELECT * FROM dlq._oldest_vacuum_blocker()}));
	return 0;
}

# Returns once a whole sweep pass, compaction check included, has run after this call.
sub wait_for_a_sweep {
	my $seq = sql('SELECT last_value FROM dlq.sweep_id_seq');
	$node->poll_query_until('postgres', "SELECT last_value >= $seq + 2 FROM dlq.sweep_id_seq")
	  or die 'the sweeper stopped sweeping';
	return;
}

# Jobs that stay live throughout: waiting ones and ones leased to a worker that is still at them.
sql(q{
	SELECT count(*) FROM (SELECT dlq.enqueue('c', 'survivor', jsonb_build_object('s', g), priority => 1)
	                        FROM generate_series(1, 100) AS g) AS e;
	SELECT count(*) FROM (SELECT dlq.enqueue('c', 'leased', '{}', priority => -1) FROM generate_series(1, 3)) AS e;
	SELECT count(*) FROM dlq.claim('c', 'keeper', 3);
	CREATE TABLE public.survivors AS SELECT * FROM dlq.job;
});

# ---- no held horizon: no compaction ----------------------------------------------------------------

my $start = log_offset();
finish_jobs(4000);
wait_for_a_sweep();
wait_for_a_sweep();
is(compactions_since($start), 0, 'no compaction while vacuum can remove the dead rows');

# ---- a held horizon: compactions keep the dead rows bounded -----------------------------------------

my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$holder->query_safe('SELECT count(*) FROM pg_class');
wait_for_a_sweep();    # the sweeper has seen the horizon before the dead rows come
my $size_before = sql(q{SELECT pg_total_relation_size('dlq.job')});

my $held = log_offset();
my $rounds = 4;
for my $round (1 .. $rounds) {
	my $seen = compactions_since($held);
	finish_jobs(3000);
	ok(wait_for_compaction($held, $seen), "round $round: a compaction follows 6,000 dead rows");
}
like(log_since($held), qr/DETAIL:  The oldest transaction horizon has not moved for \d+ s, so vacuum could not remove them\./,
	'the compaction says why it ran');
$node->poll_query_until('postgres', "SELECT ($dead_rows) < 3000")
  or diag('dead rows: ' . sql($dead_rows));
cmp_ok(sql($dead_rows), '<', 3000, "dead rows stay below dlq.compact_dead_rows although $rounds x 6,000 were made");
cmp_ok(sql(q{SELECT pg_total_relation_size('dlq.job')}), '<=', $size_before, 'dlq.job is no larger than before the rounds');
is(sql(q{SELECT count(*) FROM (SELECT * FROM public.survivors EXCEPT ALL SELECT * FROM dlq.job) AS d}), '0',
	'every job that stayed live came through unchanged');
is(sql(q{SELECT count(*) FROM dlq.job}), '103', 'and nothing else is live');
is(sql(q{SELECT (SELECT last_value FROM dlq.job_id_seq) = (SELECT count(*) FROM public.done) + (SELECT count(*) FROM dlq.job)}),
	't', 'every job enqueued is either done (once) or live');

# The holder's snapshot predates the compactions: it sees the jobs as they are, not an empty table.
is($holder->query_safe('SELECT count(*) FROM dlq.job'), '103', "the holder's old snapshot sees the live jobs");

# ---- the holder now holds a lock on dlq.job: no compaction, and the sweeper says why, once ----------

my $locked = log_offset();
finish_jobs(3000);
$node->poll_query_until('postgres', q{SELECT count(*) > 0 FROM dlq.vacuum_blockers})
  or die 'the holder is gone';
for (1 .. 600) {
	last if log_since($locked) =~ /did not compact/;
	select(undef, undef, undef, 0.1);
}
like(log_since($locked),
	qr/LOG:  dlq sweeper: did not compact dlq\.job in database "postgres": a transaction has held a lock on dlq\.job for a while \(busy\)\n.*DETAIL:  The oldest transaction horizon has not moved for \d+ s\. The sweeper tries again next pass\./,
	'a holder that has read dlq.job stops compaction, and the log says why');
finish_jobs(3000);
wait_for_a_sweep();
is(compactions_since($locked), 0, 'no compaction meanwhile');
my @busy = log_since($locked) =~ /did not compact/g;
is(scalar(@busy), 1, 'the reason is logged once');
# The warning (dlq.vacuum_horizon_warning = 3 s) still comes while the horizon is held.
for (1 .. 600) {
	last if log_since($held) =~ /Compactions of dlq\.job meanwhile: $rounds /;
	select(undef, undef, undef, 0.1);
}
like(log_since($held), qr/DETAIL:  It is held by session pid \d+ .* Compactions of dlq\.job meanwhile: $rounds \(dlq\.compact_dead_rows\)\./,
	'the vacuum-horizon warning counts the compactions');
$holder->query_safe('COMMIT');
$holder->quit;

# ---- crashes ----------------------------------------------------------------------------------------

# In the middle: the compaction's transaction is open when the server dies; the old storage stays.
# (The sequence skips ahead in a crash: the jobs enqueued are counted before.)
my $enqueued = sql(q{SELECT last_value FROM dlq.job_id_seq});
my $filenode = sql(q{SELECT pg_relation_filenode('dlq.job')});
my $live = sql(q{SELECT count(*) FROM dlq.job});
my $crasher = $node->background_psql('postgres', on_error_stop => 0);
$crasher->query_safe('BEGIN');
is($crasher->query_safe('SELECT outcome FROM dlq._compact_jobs(max_live_rows => 5000, lock_timeout_ms => 10000)'), 'compacted',
	'a compaction runs in an open transaction');
$node->stop('immediate');
$crasher->quit;
$node->start;
is(sql(q{SELECT pg_relation_filenode('dlq.job')}), $filenode, 'after a crash mid-compaction the old storage is kept');
is(sql(q{SELECT count(*) FROM dlq.job}), $live, 'with every job');

# Right after: the new storage and its frozen copies are recovered from the WAL.
is(sql(q{SELECT outcome FROM dlq._compact_jobs(max_live_rows => 5000, lock_timeout_ms => 10000)}), 'compacted', 'a compaction commits');
my $after = sql(q{SELECT pg_relation_filenode('dlq.job')});
$node->stop('immediate');
$node->start;
is(sql(q{SELECT pg_relation_filenode('dlq.job')}), $after, 'after a crash right after it the new storage is kept');
is(sql(q{SELECT count(*) FROM (SELECT * FROM public.survivors EXCEPT ALL SELECT * FROM dlq.job) AS d}), '0',
	'with every job unchanged');
is(sql(q{SELECT count(*) FROM public.done JOIN dlq.job ON id = job_id}), '0', 'and none that was done');
sql(q{SELECT dlq.complete_many(ARRAY(SELECT id FROM dlq.job WHERE worker = 'keeper'), 'keeper')});
sql(q{INSERT INTO public.done SELECT job_id FROM dlq.claim('c', 'w', 1000) AS c WHERE dlq.complete(c.job_id, 'w')});
is(sql(q{SELECT count(*) FROM dlq.job}), '0', 'the queue drains');
is(sql(qq{SELECT count(*) FROM generate_series(1, $enqueued) AS g
           WHERE g NOT IN (SELECT job_id & 17592186044415 FROM public.done)}), '3', # job numbers 1 .. n
	'every job enqueued was done, once (the 3 leased ones by their keeper)');
is(sql(q{SELECT count(*) FROM public.done}), $enqueued - 3, 'and nothing else');

$node->stop;
done_testing();
