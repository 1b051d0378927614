# Cluster test of the sweeper's vacuum-horizon warning: while a session idle in a REPEATABLE READ
# transaction, or a prepared transaction, keeps the oldest transaction horizon in place past
# dlq.vacuum_horizon_warning and dlq.job has dead rows, the sweeper logs a WARNING naming the holder
# and what to do about it, once per threshold; an idle queue (few dead rows), a released horizon and
# dlq.vacuum_horizon_warning = 0 give none.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('vacuum_horizon');
$node->init;
# autovacuum off: no autovacuum worker's snapshot may be the oldest horizon while the test reads it.
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

sql('CREATE EXTENSION dlq');
sql(q{SELECT dlq.create_queue('h')});

# Dead rows in dlq.job: each finished job leaves its enqueued and its claimed version. The statistics
# reach pg_stat_user_tables when the session ends.
sub finish_jobs {
	my ($n) = @_;
	sql(qq{SELECT count(*) FROM (SELECT dlq.enqueue('h', 'k') FROM generate_series(1, $n)) AS e});
	sql(qq{SELECT dlq.complete_many(ARRAY(SELECT job_id FROM dlq.claim('h', 'w', $n)), 'w')});
	return;
}

# ---- a session idle in a transaction, but an idle queue: no warning --------------------------------

my $holder = $node->background_psql('postgres');
my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$holder->query_safe('SELECT 1');
is(sql(qq{SELECT holder || ' ' || state FROM dlq.vacuum_blockers WHERE pid = $holder_pid}),
	'session idle in transaction', 'the holder is listed in dlq.vacuum_blockers');

my $offset = log_offset();
sleep 4;
unlike(log_since($offset), $warning, 'no warning while dlq.job has almost no dead rows');

# ---- the same holder once the queue has worked: a warning naming it ------------------------------

finish_jobs(1500);
cmp_ok(sql(q{SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'dlq.job'::regclass}),
	'>=', 1000, 'finished jobs left dead rows that vacuum may not remove');
my $before = $offset;
my $first_warned = $node->wait_for_log($warning, $before);
my $log = log_since($before);
like($log,
	qr/DETAIL:  It is held by session pid $holder_pid \([^,]+, role \w+, idle in transaction, transaction started [^)]+\)\. dlq\.job has \d+ dead row versions, \d+ \w+ in all\./,
	'the detail names the session, its state, and dlq.job\'s dead rows and size');
like($log,
	qr/HINT:  End that transaction, or SELECT pg_terminate_backend\($holder_pid\); idle_in_transaction_session_timeout ends idle ones\. See SELECT \* FROM dlq\.vacuum_blockers\./,
	'the hint says how to end it');
sql('VACUUM dlq.job');
my $dead_after = sql(q{SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'dlq.job'::regclass});
cmp_ok($dead_after, '>=', 1000, 'a VACUUM meanwhile removes none of them');

# Once per threshold while it lasts: a second warning about 2 s after the first, and none in between
# (a sweep runs every 200 ms).
$node->wait_for_log($warning, $first_warned);
usleep(1_500_000);
my $warnings = () = log_since($before) =~ /$warning/g;
cmp_ok($warnings, '<=', 3, 'the warning repeats once per threshold, not every sweep');

# ---- released: no more warnings, and vacuum catches up ----------------------------------------------

$holder->query_safe('COMMIT');
is(sql(qq{SELECT count(*) FROM dlq.vacuum_blockers WHERE pid = $holder_pid}), '0', 'the holder is gone from the view');
usleep(500_000);    # a sweep in flight may still have seen it
$offset = log_offset();
sleep 4;
unlike(log_since($offset), $warning, 'no warning once the horizon moves on');
sql('VACUUM dlq.job');
is(sql(q{SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'dlq.job'::regclass}), '0',
	'vacuum removes the dead rows once the holder is gone');

# ---- a prepared transaction ------------------------------------------------------------------------

$before = log_offset();
sql(q{BEGIN; CREATE TABLE prepared_scratch (x integer); PREPARE TRANSACTION 'forgotten'});
is(sql(q{SELECT holder || ' ' || name FROM dlq.vacuum_blockers LIMIT 1}), 'prepared transaction forgotten',
	'the prepared transaction is the oldest holder');
finish_jobs(1500);
$node->wait_for_log($warning, $before);
$log = log_since($before);
like($log, qr/DETAIL:  It is held by prepared transaction 'forgotten' \(role \w+, prepared [^)]+\)\./,
	'a prepared transaction is named by its gid');
like($log, qr/HINT:  COMMIT PREPARED 'forgotten' or ROLLBACK PREPARED 'forgotten'\./,
	'the hint says how to finish it');
sql(q{ROLLBACK PREPARED 'forgotten'});

# ---- dlq.vacuum_horizon_warning = 0: never -----------------------------------------------------------

sql(q{ALTER SYSTEM SET dlq.vacuum_horizon_warning = 0});
sql(q{SELECT pg_reload_conf()});
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$holder->query_safe('SELECT 1');
finish_jobs(1500);
usleep(500_000);
$offset = log_offset();
sleep 4;
unlike(log_since($offset), $warning, 'dlq.vacuum_horizon_warning = 0 turns the warning off');
$holder->query_safe('COMMIT');
$holder->quit;

ok(!$node->log_contains(qr/ERROR:  |dlq sweeper: reading the vacuum horizon failed/), 'the check itself never failed')
  or diag(slurp_file($node->logfile));

$node->stop;
done_testing();
