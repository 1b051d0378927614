# Cluster test of the sweeper's vacuum-horizon warning: while a session idle in a transaction, a
# writer of another database or a prepared transaction keeps the oldest transaction horizon in place
# past dlq.vacuum_horizon_warning and dlq.job gains dead rows, the sweeper logs a WARNING naming the
# holder and what to do about it, once per threshold. An idle queue, a released horizon and
# dlq.vacuum_horizon_warning = 0 give none. A standby's query held through hot_standby_feedback is named
# by its walsender.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('vacuum_horizon');
# allows_streaming (for the standby below) also sets shared_buffers = 1MB and max_connections = 10 here:
# enough for the few sessions this test opens.
$node->init(allows_streaming => 1);
# autovacuum off: no autovacuum worker's transaction may be the oldest while the test reads the horizon.
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'dlq'
dlq.sweep_interval = '200ms'
dlq.databases = 'postgres'
dlq.vacuum_horizon_warning = '2s'
max_prepared_transactions = 2
autovacuum = off
});
$node->start;

sub sql { return $node->safe_psql('postgres', @_); }
sub log_offset { return -s $node->logfile; }
sub log_since { my ($offset) = @_; return slurp_file($node->logfile, $offset); }

my $warning = qr/WARNING:  dlq sweeper: vacuum cannot remove the rows of finished jobs in database "postgres": the oldest transaction horizon has not moved for \d+ (s|min|h)$/m;
my $dead_rows = q{SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'dlq.job'::regclass};

sql('CREATE EXTENSION dlq');
sql(q{SELECT dlq.create_queue('h')});

# The sweeper counts only the dead rows added after it first saw a horizon: a test lets it see the
# horizon (wait_for_a_sweep) before it finishes jobs.
# Finishes $n jobs: each leaves two dead rows in dlq.job (its enqueued and its claimed version). A
# session's statistics reach pg_stat_user_tables only after it has ended, so wait for them (its deletes:
# the dead row count may also fall, as pruning removes older dead rows that no horizon holds).
my $deleted = q{SELECT n_tup_del FROM pg_stat_user_tables WHERE relid = 'dlq.job'::regclass};
sub finish_jobs {
	my ($n) = @_;
	my $before = sql($deleted);
	sql(qq{SELECT count(*) FROM (SELECT dlq.enqueue('h', 'k') FROM generate_series(1, $n)) AS e});
	sql(qq{SELECT dlq.complete_many(ARRAY(SELECT job_id FROM dlq.claim('h', 'w', $n)), 'w')});
	$node->poll_query_until('postgres', "SELECT ($deleted) >= $before + $n")
	  or die "the statistics never showed the $n finished jobs";
	return;
}

# Returns once a whole sweep pass, vacuum-horizon check included, has run after this call.
sub wait_for_a_sweep {
	my $seq = sql('SELECT last_value FROM dlq.sweep_id_seq');
	$node->poll_query_until('postgres', "SELECT last_value >= $seq + 2 FROM dlq.sweep_id_seq")
	  or die 'the sweeper stopped sweeping';
	return;
}

# No warning appears in the 4 s (twice the threshold) after a full sweep pass.
sub no_warning_for_a_while {
	my ($name) = @_;
	wait_for_a_sweep();
	my $offset = log_offset();
	sleep 4;
	unlike(log_since($offset), $warning, $name);
	return;
}

# Waits (at most 60 s) for a warning after log offset $from; returns the log offset after it. On a
# timeout, shows what the sweeper would have seen.
sub wait_for_warning {
	my ($from) = @_;
	for (1 .. 600) {
		return log_offset() if log_since($from) =~ $warning;
		select(undef, undef, undef, 0.1);
	}
	fail('a warning appeared within 60 s');
	diag(sql(q{SELECT * FROM dlq.vacuum_blockers}));
	diag(sql(q{SELECT * FROM dlq._oldest_vacuum_blocker()}));
	diag(sql(q{SELECT pid, state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE backend_type = 'dlq sweeper'}));
	return log_offset();
}

# ---- a session idle in a transaction, but an idle queue: no warning --------------------------------

my $holder = $node->background_psql('postgres');
my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$holder->query_safe('SELECT 1');
is(sql(qq{SELECT holder || ' ' || state FROM dlq.vacuum_blockers WHERE pid = $holder_pid}),
	'session idle in transaction', 'the holder is listed in dlq.vacuum_blockers');
no_warning_for_a_while('no warning while nothing adds dead rows to dlq.job');

# ---- the same holder once the queue works: a warning naming it ------------------------------------

my $before = log_offset();
finish_jobs(1500);
my $first_warned = wait_for_warning($before);
my $log = log_since($before);
like($log,
	qr/DETAIL:  It is held by session pid $holder_pid \([^,]+, role \w+, idle in transaction, transaction started [^)]+\)\. dlq\.job has \d+ dead row versions, \d+ of them added since, \d+ \w+ in all\./,
	'the detail names the session, its state, and dlq.job\'s dead rows and size');
like($log,
	qr/HINT:  End that transaction, or SELECT pg_terminate_backend\($holder_pid\); idle_in_transaction_session_timeout ends idle ones\. See SELECT \* FROM dlq\.vacuum_blockers\./,
	'the hint says how to end it');
sql('VACUUM dlq.job');
cmp_ok(sql($dead_rows), '>=', 3000, 'a VACUUM meanwhile removes none of the dead rows');

# Once per threshold while it lasts: a second warning about 2 s after the first, none in between (a
# sweep runs every 200 ms). Checked on the log's timestamps, whatever the test process's own delays.
wait_for_warning($first_warned);
my @warned_at = map { /^\d{4}-\d\d-\d\d (\d\d):(\d\d):(\d\d\.\d+) /m ? $1 * 3600 + $2 * 60 + $3 : () }
  grep { $_ =~ $warning } split /\n/, log_since($before);
cmp_ok(scalar(@warned_at), '>=', 2, 'the warning repeats while the horizon is held');
my $shortest = 1e9;
for my $i (1 .. $#warned_at) {
	my $gap = $warned_at[$i] - $warned_at[$i - 1];
	$gap += 86400 if $gap < 0;    # past midnight
	$shortest = $gap if $gap < $shortest;
}
cmp_ok($shortest, '>=', 1.8, 'the warning repeats once per threshold (2 s), not every sweep');

# ---- released: no more warnings, and vacuum catches up ----------------------------------------------

$holder->query_safe('COMMIT');
is(sql(qq{SELECT count(*) FROM dlq.vacuum_blockers WHERE pid = $holder_pid}), '0', 'the holder is gone from the view');
no_warning_for_a_while('no warning once the horizon moves on');
sql('VACUUM (FREEZE) dlq.job');
is(sql($dead_rows), '0', 'vacuum removes the dead rows once the holder is gone');

# ---- a writer whose transaction id the snapshots of others keep: the writer is named ---------------

# The reader begins first (lower pid, earlier transaction) but takes its snapshot after the write, so
# its snapshot keeps the writer's transaction id: both hold the same horizon.
# A sweeper transaction running across the write would give the reader an older snapshot: try again.
my $writer = $node->background_psql('postgres');
my $writer_pid = $writer->query_safe('SELECT pg_backend_pid()');
for my $try (1 .. 50) {
	$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$writer->query_safe('BEGIN');
	$writer->query_safe('CREATE TEMP TABLE scratch (x integer)');
	$holder->query_safe('SELECT 1');
	last if sql(qq{SELECT r.backend_xmin = w.backend_xid FROM pg_stat_activity AS r, pg_stat_activity AS w
	                WHERE r.pid = $holder_pid AND w.pid = $writer_pid}) eq 't';
	$holder->query_safe('ROLLBACK');
	$writer->query_safe('ROLLBACK');
}
is(sql(qq{SELECT count(DISTINCT horizon::text) FROM dlq.vacuum_blockers WHERE pid IN ($holder_pid, $writer_pid)}),
	'1', 'reader and writer hold the same horizon');
$before = log_offset();
wait_for_a_sweep();
finish_jobs(1500);
wait_for_warning($before);
like(log_since($before), qr/DETAIL:  It is held by session pid $writer_pid \(/,
	'the warning names the writer, not the reader whose snapshot keeps its transaction id');
$holder->query_safe('COMMIT');
$writer->query_safe('COMMIT');

# ---- a writer in another database -------------------------------------------------------------------

sql('CREATE DATABASE elsewhere');
my $elsewhere = $node->background_psql('elsewhere');
my $elsewhere_pid = $elsewhere->query_safe('SELECT pg_backend_pid()');
$elsewhere->query_safe('BEGIN');
$elsewhere->query_safe('CREATE TEMP TABLE scratch (x integer)');
$before = log_offset();
wait_for_a_sweep();
finish_jobs(1500);
wait_for_warning($before);
like(log_since($before), qr/DETAIL:  It is held by session pid $elsewhere_pid of database elsewhere \(/,
	'a writer of another database is named, with its database');
$elsewhere->query_safe('COMMIT');
$elsewhere->quit;

# ---- a prepared transaction ------------------------------------------------------------------------

sql(q{BEGIN; CREATE TABLE prepared_scratch (x integer); PREPARE TRANSACTION 'forgotten'});
is(sql(q{SELECT name || ' ' || owns_horizon FROM dlq.vacuum_blockers WHERE holder = 'prepared transaction'}),
	'forgotten true', 'the prepared transaction is listed, as the owner of its transaction id');
$before = log_offset();
wait_for_a_sweep();
finish_jobs(1500);
wait_for_warning($before);
$log = log_since($before);
like($log, qr/DETAIL:  It is held by prepared transaction 'forgotten' \(role \w+, prepared [^)]+\)\./,
	'a prepared transaction is named by its gid');
like($log, qr/HINT:  COMMIT PREPARED 'forgotten' or ROLLBACK PREPARED 'forgotten'\./,
	'the hint says how to finish it');
sql(q{ROLLBACK PREPARED 'forgotten'});

# ---- a standby's query, through hot_standby_feedback ------------------------------------------------

$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "hot_standby_feedback = on\nwal_receiver_status_interval = 1s\n");
$standby->start;
$node->wait_for_catchup($standby);
my $standby_reader = $standby->background_psql('postgres');
$standby_reader->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$standby_reader->query_safe('SELECT count(*) FROM dlq.job');
my $reader_xmin = $standby->safe_psql('postgres',
	q{SELECT backend_xmin FROM pg_stat_activity WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid()});
$node->poll_query_until('postgres',
	qq{SELECT count(*) = 1 FROM dlq.vacuum_blockers WHERE holder = 'session' AND database IS NULL
	                                                   AND horizon = '$reader_xmin'})
  or die 'the walsender never showed the standby\'s xmin';
pass('the walsender of the standby is listed with the standby query\'s xmin');
$before = log_offset();
wait_for_a_sweep();
finish_jobs(1500);
wait_for_warning($before);
$log = log_since($before);
like($log, qr/DETAIL:  It is held by the walsender pid \d+ of standby standby \(role \w+\)\./,
	'the warning names the standby\'s walsender');
like($log, qr/HINT:  A standby holds it through hot_standby_feedback: end the long query there, or turn hot_standby_feedback off\./,
	'the hint points at the standby');
$standby_reader->query_safe('COMMIT');
$standby_reader->quit;
$standby->stop;

# ---- dlq.vacuum_horizon_warning = 0: never -----------------------------------------------------------

sql(q{ALTER SYSTEM SET dlq.vacuum_horizon_warning = 0});
sql(q{SELECT pg_reload_conf()});
wait_for_a_sweep();
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$holder->query_safe('SELECT 1');
finish_jobs(1500);
no_warning_for_a_while('dlq.vacuum_horizon_warning = 0 turns the warning off');
$holder->query_safe('COMMIT');
$holder->quit;
$writer->quit;

ok(!$node->log_contains(qr/ERROR:  /), 'the check itself never failed')
  or diag(slurp_file($node->logfile));

$node->stop;
done_testing();
