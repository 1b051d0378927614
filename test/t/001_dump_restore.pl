# pg_dump of a database that uses dlq keeps its queues, live jobs, dead letters, custom reasons and
# replay audit, and a restored copy goes on working: every extension table is registered with
# pg_extension_config_dump, built-in reasons are recreated by CREATE EXTENSION (and not dumped), and
# every sequence continues where it stopped.
#
# A source database is put through a realistic history (claims, completions, retries, retries
# exhausted, a permanent failure, a custom reason used by a manual dead letter, a sweep of a stuck job,
# reviews and replays), dumped in custom and plain format, restored into two new databases
# (pg_restore and psql), and each copy is compared with the source table by table.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump_restore');
$node->init;
# No background sweeper: the test alone decides what happens to the jobs.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'dlq'\ndlq.enabled = off\n");
$node->start;

# Runs SQL in a database and returns its unaligned output (dies on error): builds the source.
sub sql
{
	my ($db, $query) = @_;
	return $node->safe_psql($db, $query);
}

# Runs SQL in a restored database: returns its output, or the error text, so a broken restore fails
# the comparisons that follow instead of ending the test.
sub try_sql
{
	my ($db, $query) = @_;
	my ($rc, $out, $err) = $node->psql($db, $query, on_error_stop => 1);
	return $rc == 0 ? $out : "ERROR($rc): $err";
}

# ---- the source database -------------------------------------------------------------------------

$node->safe_psql('postgres', 'CREATE DATABASE src');
sql('src', 'CREATE EXTENSION dlq');

sql('src', q{
	SELECT dlq.create_queue('emails', max_attempts => 2, backoff_base => '1 second', backoff_max => '1 minute');
	SELECT dlq.create_queue('reports', lease => '5 minutes', recovery_window => '2 hours');
	SELECT dlq.create_queue('archive');
	SELECT dlq.pause_queue('archive');
	SELECT dlq.create_queue('stuck', max_attempts => 1);
});

# emails: five jobs; the fifth has a lower priority so it is claimed last.
my @emails = split /\n/, sql('src', q{
	SELECT dlq.enqueue('emails', 'send_email', jsonb_build_object('to', 'user' || n || '@example.com', 'n', n),
	                   priority => CASE WHEN n = 5 THEN 5 ELSE 0 END, tenant => 'acme', actor => 'signup')
	  FROM generate_series(1, 5) AS n ORDER BY n;
});
is(scalar(@emails), 5, 'five email jobs enqueued');

my $report = sql('src',
	q{SELECT dlq.enqueue('reports', 'build_report', '{"month": "2026-10"}', tenant => 'globex', dedup_key => 'report-2026-10')});
my $scheduled = sql('src',
	q{SELECT dlq.enqueue('reports', 'build_report', '{"month": "2026-11"}', run_at => now() + interval '1 day')});
my @batch = split /\n/, sql('src',
	q{SELECT dlq.enqueue_many('reports', '[{"kind": "export", "payload": {"rows": 10}}, {"kind": "export", "payload": {"rows": 20}, "priority": 1}]')});
is(scalar(@batch), 2, 'a batch of two report jobs enqueued');
my $archived = sql('src', q{SELECT dlq.enqueue('archive', 'compress', '{"path": "/tmp/x"}')});
my $stuck = sql('src', q{SELECT dlq.enqueue('stuck', 'hangs')});

# A worker claims four emails: completes one, fails one until it is dead-lettered, fails one
# permanently and keeps the fourth running.
is(sql('src', q{SELECT string_agg(job_id::text, ',' ORDER BY job_id) FROM dlq.claim('emails', 'w1', batch => 4)}),
	join(',', @emails[0 .. 3]), 'w1 claims the first four emails');
is(sql('src', "SELECT dlq.complete($emails[0], 'w1')"), 't', 'w1 completes the first email');
is(sql('src', "SELECT dlq.fail($emails[1], 'w1', 'smtp timeout', '{\"code\": 421}', retry_in => '0')"),
	'retrying', 'the second email fails once and is retried');
is(sql('src', q{SELECT string_agg(job_id::text, ',') FROM dlq.claim('emails', 'w1')}),
	$emails[1], 'w1 claims the retried email again');
is(sql('src', "SELECT dlq.fail($emails[1], 'w1', 'smtp timeout', '{\"code\": 421}')"),
	'dead_lettered', 'its second failure exhausts its attempts');
is(sql('src', "SELECT dlq.fail($emails[2], 'w1', 'mailbox does not exist', retryable => false)"),
	'dead_lettered', 'the third email fails permanently');

# An operator registers a custom reason and dead-letters a report job with it.
sql('src', q{SELECT dlq.register_reason('BAD_PAYLOAD', 'Payload failed validation', 'terminal', 'set by the dump test')});
my $manual_dl = sql('src', "SELECT dlq.dead_letter($batch[0], 'BAD_PAYLOAD', 'operator moved it')");

# A job whose worker vanished is dead-lettered by a sweep (the sweep id is recorded in its metadata).
sql('src', q{SELECT count(*) FROM dlq.claim('stuck', 'w9', lease => '10 milliseconds')});
$node->poll_query_until('src', "SELECT lease_expires_at < now() FROM dlq.job WHERE id = $stuck")
  or die 'the lease of the stuck job never expired';
is(sql('src', q{SELECT count FROM dlq.sweep('stuck') WHERE outcome = 'STUCK_IN_PROGRESS'}), '1',
	'a sweep dead-letters the stuck job');

my %dl = map { split /\|/ } split /\n/, sql('src', 'SELECT job_id, id FROM dlq.dead_letter ORDER BY id');
is(scalar(keys %dl), 4, 'four dead letters in the source');
is(sql('src', 'SELECT string_agg(reason, \',\' ORDER BY id) FROM dlq.dead_letter'),
	'RETRIES_EXHAUSTED,PERMANENT_FAILURE,BAD_PAYLOAD,STUCK_IN_PROGRESS', 'dead letter reasons in the source');

is(sql('src', "SELECT dlq.mark_reviewed(ARRAY[$dl{$emails[2]}, $manual_dl], 'checked before the dump')"),
	'2', 'two dead letters marked reviewed');

# Replay the exhausted email; a second replay of it is skipped while the first is live.
my $replayed_job = sql('src',
	"SELECT job_ids[1] FROM dlq.reprocess(ARRAY[$dl{$emails[1]}], 'smtp relay fixed')");
ok($replayed_job > 0, 'the exhausted email is replayed as a new job');
is(sql('src', "SELECT requeued || '/' || skipped FROM dlq.reprocess(ARRAY[$dl{$emails[1]}, 999], 'again')"),
	'0/2', 'a second replay skips the live replay and a missing id');

# ---- dump and restore -----------------------------------------------------------------------------

my $dir = PostgreSQL::Test::Utils::tempdir;
$node->command_ok([ 'pg_dump', '--format=custom', "--file=$dir/src.dump", '--dbname=src' ],
	'pg_dump (custom format) succeeds');
$node->command_ok([ 'pg_dump', '--format=plain', "--file=$dir/src.sql", '--dbname=src' ],
	'pg_dump (plain format) succeeds');

my $plain = slurp_file("$dir/src.sql");
like($plain, qr/^BAD_PAYLOAD\t/m, 'the dump holds the custom reason');
unlike($plain, qr/^(RETRIES_EXHAUSTED|PERMANENT_FAILURE|STUCK_IN_PROGRESS|UNRECOVERED_ERROR|MANUAL)\t[^\t]*\t/m,
	'the dump holds no built-in reason row (CREATE EXTENSION recreates them)');

# pg_restore goes on after an error (and then exits non-zero), so the comparisons below show what a
# failed item lost; the psql restore stops at the first error.
$node->command_ok([ 'createdb', 'dst_restore' ], 'createdb dst_restore');
$node->command_checks_all(
	[ 'pg_restore', '--dbname=dst_restore', "$dir/src.dump" ],
	0, [qr/^$/], [qr/^$/], 'pg_restore of the custom dump');
$node->command_ok([ 'createdb', 'dst_psql' ], 'createdb dst_psql');
$node->command_checks_all(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--dbname=dst_psql', "--file=$dir/src.sql" ],
	0, [qr/.*/s], [qr/^$/], 'psql restore of the plain dump');

# ---- compare --------------------------------------------------------------------------------------

my %same = (
	'extension version' => q{SELECT extversion FROM pg_extension WHERE extname = 'dlq'},
	'queues' => 'SELECT * FROM dlq.queue ORDER BY id',
	'queues view' => 'SELECT * FROM dlq.queues ORDER BY queue',
	'queue stats' => q{SELECT queue, available, scheduled, running, dead_letters, unreviewed FROM dlq.queue_stats ORDER BY queue},
	'job rows' => 'SELECT * FROM dlq.job ORDER BY id',
	'dead letter rows' => 'SELECT * FROM dlq.dead_letter ORDER BY id',
	'dead letters view' => 'SELECT * FROM dlq.dead_letters ORDER BY id',
	'replay rows' => 'SELECT * FROM dlq.replay ORDER BY id',
	'replays view' => 'SELECT * FROM dlq.replays ORDER BY replay_id',
	'replay item rows' => 'SELECT * FROM dlq.replay_item ORDER BY replay_id, dead_letter_id',
	'custom reason rows' => 'SELECT * FROM dlq.reason WHERE NOT builtin ORDER BY code',
	'reason registry' => 'SELECT code, label, severity, description, builtin FROM dlq.reasons ORDER BY code',
);

my %source = map { $_ => sql('src', $same{$_}) } keys %same;
# Guard against comparing empty tables: the history above must have left rows everywhere.
for my $table (qw(job dead_letter replay replay_item queue))
{
	ok(sql('src', "SELECT count(*) > 0 FROM dlq.$table") eq 't', "the source has rows in dlq.$table");
}

my @sequences = split /\n/, sql('src',
	q{SELECT c.relname FROM pg_class AS c WHERE c.relkind = 'S' AND c.relnamespace = 'dlq'::regnamespace ORDER BY 1});

for my $db (qw(dst_restore dst_psql))
{
	for my $what (sort keys %same)
	{
		is(try_sql($db, $same{$what}), $source{$what}, "$db: $what equal to the source");
	}

	is(try_sql($db, q{SELECT count(*) FROM dlq.reason WHERE code = 'BAD_PAYLOAD'}), '1',
		"$db: the custom reason is present exactly once");
	is(try_sql($db, q{SELECT string_agg(code || ':' || n, ',' ORDER BY code) FROM
	               (SELECT r.code, count(*) AS n FROM dlq.reason AS r WHERE r.builtin GROUP BY r.code) AS x}),
		'MANUAL:1,PERMANENT_FAILURE:1,RETRIES_EXHAUSTED:1,STUCK_IN_PROGRESS:1,UNRECOVERED_ERROR:1',
		"$db: each built-in reason is present once");
	is(try_sql($db, q{SELECT count(*) FROM dlq.reason AS r WHERE r.builtin
	               AND NOT EXISTS (SELECT 1 FROM dlq._builtin_reasons() AS b WHERE b.code = r.code)}),
		'0', "$db: every built-in row comes from the core's registry");

	# Each sequence continues after its highest restored value.
	for my $seq (@sequences)
	{
		is(try_sql($db, "SELECT last_value FROM dlq.$seq") . '/' . try_sql($db, "SELECT is_called FROM dlq.$seq"),
			sql('src', "SELECT last_value FROM dlq.$seq") . '/' . sql('src', "SELECT is_called FROM dlq.$seq"),
			"$db: sequence dlq.$seq continues where the source stopped");
	}

	# ---- the restored database works ----

	# The highest job number the source used (an id's low 44 bits, src/core/job_id.hpp; taken from the
	# source, so a restore that lost rows cannot pass).
	my $max_job = sql('src', q{
		SELECT max(id & 17592186044415) FROM (
			SELECT id FROM dlq.job UNION ALL SELECT job_id FROM dlq.dead_letter
			UNION ALL SELECT unnest(job_ids) FROM dlq.replay UNION ALL SELECT job_id FROM dlq.replay_item) AS x});
	my $new_job = try_sql($db, q{SELECT dlq.enqueue('emails', 'send_email', '{"to": "new@example.com"}')});
	cmp_ok(try_sql($db, "SELECT ${new_job}::bigint & 17592186044415"), '>', $max_job,
		"$db: a new enqueue gets a job number greater than every restored job's");

	is(try_sql($db, q{SELECT dlq.enqueue('reports', 'build_report', dedup_key => 'report-2026-10')}), $report,
		"$db: a dedup_key of a restored live job returns that job");

	# The restored replay is still recognised as live: replaying its dead letter again is skipped.
	is(try_sql($db, "SELECT requeued || '/' || skipped FROM dlq.reprocess(ARRAY[$dl{$emails[1]}], 'after restore')"),
		'0/1', "$db: a dead letter whose restored replay is live is skipped");

	# Claims: the replayed email, the waiting fifth email and the new one; never w1's running job.
	is(try_sql($db, q{SELECT string_agg(job_id || ':' || attempt, ',' ORDER BY job_id) FROM dlq.claim('emails', 'w2', batch => 10)}),
		join(',', map { "$_:1" } sort { $a <=> $b } ($emails[4], $replayed_job, $new_job)),
		"$db: claim returns the available emails and not the running one");
	is(try_sql($db, q{SELECT count(*) FROM dlq.claim('archive', 'w2')}), '0', "$db: the paused queue stays paused");
	is(try_sql($db, "SELECT dlq.complete($emails[3], 'w1')"), 't', "$db: the restored lease of w1 still completes");
	is(try_sql($db, "SELECT dlq.complete($emails[4], 'w1')"), 'f', "$db: w1 cannot complete w2's job");
	is(try_sql($db, "SELECT dlq.complete_many(ARRAY[$emails[4], $replayed_job, $new_job], 'w2')"), '3',
		"$db: w2 completes its three jobs");

	my $max_dl = sql('src', 'SELECT max(id) FROM dlq.dead_letter');
	my $new_dl = try_sql($db, "SELECT dlq.dead_letter($report, 'BAD_PAYLOAD', 'after restore')");
	cmp_ok($new_dl, '>', $max_dl, "$db: a new dead letter (custom reason) gets an id greater than every restored one");
	my $max_replay = sql('src', 'SELECT max(id) FROM dlq.replay');
	my $new_replay = try_sql($db, "SELECT replay_id FROM dlq.reprocess(ARRAY[$new_dl], 'restored database works')");
	cmp_ok($new_replay, '>', $max_replay, "$db: a new replay gets an id greater than every restored one");

	# A sweep in the restored database must not reuse a sweep id recorded in a restored dead letter.
	my $max_sweep = sql('src', q{SELECT max((metadata->>'sweep_id')::bigint) FROM dlq.dead_letter});
	my $stuck2 = try_sql($db, q{SELECT dlq.enqueue('stuck', 'hangs')});
	is(try_sql($db, q{SELECT count(*) FROM dlq.claim('stuck', 'w9', lease => '10 milliseconds')}), '1',
		"$db: a worker claims a job with a short lease");
	ok($stuck2 =~ /^\d+$/
		  && $node->poll_query_until($db, "SELECT lease_expires_at < now() FROM dlq.job WHERE id = $stuck2"),
		"$db: the short lease expires");
	is(try_sql($db, q{SELECT count FROM dlq.sweep('stuck') WHERE outcome = 'STUCK_IN_PROGRESS'}), '1',
		"$db: a sweep dead-letters the stuck job");
	my $new_sweep = try_sql($db, "SELECT metadata->>'sweep_id' FROM dlq.dead_letter WHERE job_id = $stuck2");
	cmp_ok($new_sweep, '>', $max_sweep, "$db: the new sweep id is greater than the sweep ids of restored dead letters");

	my ($rc, $out, $err) = $node->psql($db, q{SELECT dlq.register_reason('BAD_PAYLOAD', 'again')});
	like($err, qr/reason "BAD_PAYLOAD" already exists/, "$db: registering the restored custom reason again fails");

	is(try_sql($db, q{SELECT queue || ':' || available || '/' || running || '/' || dead_letters || '/' || unreviewed
	               FROM dlq.queue_stats WHERE queue = 'emails'}),
		'emails:0/0/2/0', "$db: queue stats after the restored database has been worked");
}

$node->stop;
done_testing();
