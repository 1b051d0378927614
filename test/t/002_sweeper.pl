# Cluster test of the background sweepers (issue 3): with dlq preloaded and a 1s interval, the
# launcher starts one sweeper per database of dlq.databases; the sweepers rescue jobs whose worker
# died, dead-letter them as STUCK_IN_PROGRESS after max attempts and retries past their recovery
# window as UNRECOVERED_ERROR, without anyone calling dlq.sweep(); they announce every dead letter with
# NOTIFY dlq_dead_letter, skip a database without the extension quietly, survive an immediate restart
# and a crash of their own, follow SIGHUP changes of dlq.sweep_interval and dlq.enabled, and let the
# server stop promptly.
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('sweeper');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'dlq'
dlq.sweep_interval = '1s'
dlq.databases = 'postgres'
max_worker_processes = 16
restart_after_crash = on
});
$node->start;

# ---- helpers -------------------------------------------------------------------------------------

sub sql { return $node->safe_psql('postgres', @_); }

# Polls $query on $db until it returns $expected, for at most $poll_limit seconds (the sweepers run
# every second, so this is ample even on a loaded machine, and a broken sweeper fails fast).
my $poll_limit = 60;

sub wait_until {
	my ($db, $query, $expected, $name) = @_;
	my $deadline = time + $poll_limit;
	my ($out, $err) = ('', '');
	while (1) {
		$node->psql($db, $query, stdout => \$out, stderr => \$err);
		return pass($name) if $out eq $expected && $err eq '';
		last if time > $deadline;
		usleep(100_000);
	}
	fail($name);
	diag("after ${poll_limit}s, $query\nreturned '$out' (stderr '$err'), expected '$expected'");
	return 0;
}

# pids of the running sweepers of a database, in order.
sub sweeper_pids {
	my ($db) = @_;
	my $pids = sql(
		qq{SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity
		    WHERE backend_type = 'dlq sweeper' AND datname = '$db'});
	return $pids;
}

sub wait_for_sweeper {
	my ($db, $name) = @_;
	wait_until('postgres',
		qq{SELECT count(*) = 1 FROM pg_stat_activity
		    WHERE backend_type = 'dlq sweeper' AND application_name = 'dlq sweeper' AND datname = '$db'},
		't', $name);
}

# pid of the launcher: the child of the postmaster titled "dlq launcher" (a worker without a database
# connection is not in pg_stat_activity).
sub launcher_pid {
	open my $pidfile, '<', $node->data_dir . '/postmaster.pid' or die "no postmaster.pid: $!";
	chomp(my $postmaster = <$pidfile>);
	close $pidfile;
	for my $dir (glob '/proc/[0-9]*') {
		open my $cmdline, '<', "$dir/cmdline" or next;
		my $title = do { local $/; <$cmdline> } // '';
		close $cmdline;
		next unless $title =~ /dlq launcher/;
		open my $stat, '<', "$dir/stat" or next;
		my ($pid, $parent) = (<$stat> // '') =~ /^(\d+) \(.*\) \S (\d+)/;
		close $stat;
		return $pid if defined $parent && $parent == $postmaster;
	}
	return undef;
}

# Size of the server log, to look only at what comes after.
sub log_offset { return -s $node->logfile; }

# Starts a worker session that claims one job of $queue with $lease and then "processes" it (a long
# pg_sleep), as a worker would. Returns the session, its backend pid and the claimed job id.
sub start_worker {
	my ($db, $queue, $worker, $lease) = @_;
	my $bg = $node->background_psql($db);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	my $job = $bg->query_safe(
		"SELECT job_id FROM dlq.claim('$queue', '$worker', 1, '$lease')");
	$bg->query_until(qr/processing/, "\\echo processing\nSELECT pg_sleep(600);\n");
	return ($bg, $pid, $job);
}

# Kills a worker's backend in the middle of its job (pg_terminate_backend) and waits until it is gone.
sub kill_worker {
	my ($db, $bg, $pid) = @_;
	sql("SELECT pg_terminate_backend($pid)");
	$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid")
	  or die "worker backend $pid did not exit";
	# psql exits by itself once its connection is gone; quitting may then hit a closed pipe.
	eval { $bg->quit; };
	return;
}

# A job claimed with $lease by a client that then went away: nobody will complete it. Each gets a
# queue of its own (max_attempts 5 unless given), so the claim cannot pick an older rescued job.
my $abandoned = 0;

sub abandoned_job {
	my ($db, $lease, $max_attempts) = @_;
	my $queue = 'abandoned_' . ++$abandoned;
	$max_attempts //= 5;
	$node->safe_psql($db, "SELECT dlq.create_queue('$queue', max_attempts => $max_attempts)");
	my $job = $node->safe_psql($db, "SELECT dlq.enqueue('$queue', 'abandoned')");
	my $claimed = $node->safe_psql($db, "SELECT job_id FROM dlq.claim('$queue', 'gone', 1, '$lease')");
	die "claimed $claimed instead of $job" unless $claimed eq $job;
	return $job;
}

sub sweep_seq { my ($db) = @_; return $node->safe_psql($db, 'SELECT last_value FROM dlq.sweep_id_seq'); }

# ---- launcher and sweeper ------------------------------------------------------------------------

$node->wait_for_log(qr/dlq launcher started/);
my $children = `ps --ppid $node->{_pid} -o args=`;
like($children, qr/dlq launcher/, 'the launcher runs as a child of the postmaster');
wait_for_sweeper('postgres',
	"a sweeper for postgres appears in pg_stat_activity (backend_type and application_name 'dlq sweeper')");
is(sql(q{SELECT backend_type FROM pg_stat_activity WHERE application_name = 'dlq sweeper'}),
	'dlq sweeper', 'the sweeper names itself');

# ---- the extension created after the server started ----------------------------------------------

# The sweeper has been running without the extension: that must be quiet.
sleep 2;
ok(!$node->log_contains(qr/(ERROR|FATAL|WARNING):/), 'no error while the database lacks the extension')
  or diag(slurp_file($node->logfile));

sql('CREATE EXTENSION dlq');
sql(q{SELECT dlq.create_queue('stuck', max_attempts => 2)});
sql(q{SELECT dlq.create_queue('flaky', recovery_window => '2 seconds')});

my $first = abandoned_job('postgres', '1 second');
wait_until('postgres',
	qq{SELECT lease_expires_at IS NULL AND last_error = 'lease expired' FROM dlq.job WHERE id = $first},
	't', 'the sweeper serves the extension created after the server started');
# Look at the log only after this rescue's line.
my $offset = $node->wait_for_log(qr/dlq sweeper: database "postgres": rescued 1,/);

# Listen for dead-letter events from here on.
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN dlq_dead_letter');

# ---- a worker killed mid-job: rescued, then dead-lettered after max attempts --------------------

my $enqueued = sql(q{SELECT dlq.enqueue('stuck', 'abandoned')});
my ($bg, $pid, $job) = start_worker('postgres', 'stuck', 'worker-a', '2 seconds');
is($job, $enqueued, 'worker-a claimed the job') or BAIL_OUT('claim failed: nothing to test');
is(sql("SELECT worker || ':' || attempt FROM dlq.job WHERE id = $job"), 'worker-a:1', 'the job runs its attempt 1');
# Not claimed (a later priority than the rescued job, which queues at run_at = now()): must stay untouched.
sql("SELECT dlq.enqueue('stuck', 'filler', priority => 10)");
kill_worker('postgres', $bg, $pid);

wait_until('postgres',
	qq{SELECT lease_expires_at IS NULL AND attempt = 1 FROM dlq.job WHERE id = $job},
	't', 'the job of the killed worker is rescued without anyone calling sweep');
my $errors = decode_json(sql("SELECT errors FROM dlq.job WHERE id = $job"));
is(scalar(@$errors), 1, 'the lost lease is recorded as one attempt in the error history');
is($errors->[0]{error}, 'lease expired', 'the attempt ended with "lease expired"')
  or diag(explain $errors);
$offset = $node->wait_for_log(qr/dlq sweeper: database "postgres": rescued 1, dead-lettered 0 STUCK_IN_PROGRESS/,
	$offset);
pass('the sweeper logs the rescue with counts by reason');

($bg, $pid, my $again) = start_worker('postgres', 'stuck', 'worker-b', '2 seconds');
is($again, $job, 'the rescued job is claimed again');
kill_worker('postgres', $bg, $pid);
wait_until('postgres',
	qq{SELECT count(*) = 1 FROM dlq.dead_letter WHERE job_id = $job},
	't', 'after max attempts the job is dead-lettered without anyone calling sweep');
is( sql(
		qq{SELECT reason || '|' || detected_by || '|' || attempts || '|' || (metadata ? 'sweep_id')
		          || '|' || (metadata->>'last_worker') || '|' || last_error
		     FROM dlq.dead_letter WHERE job_id = $job}),
	'STUCK_IN_PROGRESS|sweep|2|true|worker-b|lease expired',
	'dead letter: STUCK_IN_PROGRESS, detected_by sweep, metadata with sweep_id and last_worker');
ok(sql(qq{SELECT (metadata->>'sweep_id')::bigint <= (SELECT last_value FROM dlq.sweep_id_seq)
            FROM dlq.dead_letter WHERE job_id = $job}) eq 't', 'the sweep_id is one the sweeper drew');
is(sql("SELECT count(*) FROM dlq.job WHERE id = $job"), '0', 'the dead job left dlq.job');
is(sql(q{SELECT count(*) FROM dlq.job j JOIN dlq.queue q ON q.id = j.queue_id
          WHERE q.name = 'stuck' AND j.attempt = 0 AND j.lease_expires_at IS NULL}),
	'1', 'the unclaimed job of the same queue is untouched');
$node->wait_for_log(qr/dlq sweeper: database "postgres": rescued 0, dead-lettered 1 STUCK_IN_PROGRESS/, $offset);
pass('the sweeper logs the dead-lettering');

# ---- a retry past its recovery window ------------------------------------------------------------

my $flaky = sql("SELECT dlq.enqueue('flaky', 'flaky')");
sql("SELECT job_id FROM dlq.claim('flaky', 'worker-c')");
is(sql(qq{SELECT dlq.fail($flaky, 'worker-c', 'upstream timeout', retry_in => '1 hour')}),
	'retrying', 'the failed job waits for a retry in an hour');
wait_until('postgres',
	qq{SELECT reason || '|' || detected_by || '|' || (metadata ? 'sweep_id') || '|' || last_error
	     FROM dlq.dead_letter WHERE job_id = $flaky},
	'UNRECOVERED_ERROR|sweep|true|upstream timeout',
	'a retry past its 2s recovery window is dead-lettered UNRECOVERED_ERROR by the sweeper');

# ---- NOTIFY dlq_dead_letter ------------------------------------------------------------------------

my %events;
my $deadline = time + 30;
while (time < $deadline && !($events{$job} && $events{$flaky})) {
	my $out = $listener->query('SELECT 1');
	while ($out =~ /Asynchronous notification "dlq_dead_letter" with payload "(.*)" received from server process with PID (\d+)\./g) {
		my $payload = decode_json($1);
		$events{ $payload->{job_id} } = $payload;
	}
	usleep(200_000) unless $events{$job} && $events{$flaky};
}
$listener->quit;
ok($events{$job}, 'NOTIFY dlq_dead_letter is delivered for the stuck job') or diag(explain \%events);
ok($events{$flaky}, 'NOTIFY dlq_dead_letter is delivered for the unrecovered retry');
my $dl_id = sql("SELECT id FROM dlq.dead_letter WHERE job_id = $job");
is_deeply(
	{ map { $_ => $events{$job}{$_} } qw(id queue kind reason detected_by) },
	{ id => $dl_id, queue => 'stuck', kind => 'abandoned', reason => 'STUCK_IN_PROGRESS', detected_by => 'sweep' },
	'the stuck payload carries id, queue, kind, reason, detected_by');
is_deeply(
	{ map { $_ => $events{$flaky}{$_} } qw(queue kind reason detected_by) },
	{ queue => 'flaky', kind => 'flaky', reason => 'UNRECOVERED_ERROR', detected_by => 'sweep' },
	'the unrecovered payload carries queue, kind, reason, detected_by');

# ---- a served database without the extension -----------------------------------------------------

sql('CREATE DATABASE other');
$offset = log_offset();
$node->append_conf('postgresql.conf', "dlq.databases = 'postgres, other'");
$node->reload;
wait_for_sweeper('other', 'a database added to dlq.databases by reload gets a sweeper');
my $other_pid = sweeper_pids('other');
sleep 3;    # three intervals without the extension
my $slice = slurp_file($node->logfile, $offset);
unlike($slice, qr/(ERROR|FATAL|WARNING):/, 'a database without the extension is skipped quietly');
is(sweeper_pids('other'), $other_pid, 'its sweeper keeps running while it waits for the extension');

$node->safe_psql('other', 'CREATE EXTENSION dlq');
my $other_job = abandoned_job('other', '1 second', 1);
wait_until('other',
	qq{SELECT reason || '|' || detected_by FROM dlq.dead_letter WHERE job_id = $other_job},
	'STUCK_IN_PROGRESS|sweep', 'the database is served once the extension is created there');

# ---- a sweeper that is terminated, and one that crashes ------------------------------------------

my $old = sweeper_pids('postgres');
sql("SELECT pg_terminate_backend($old)");
wait_until('postgres',
	qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'dlq sweeper' AND datname = 'postgres'
	     AND pid <> $old},
	't', 'the launcher restarts a sweeper that was terminated');

# A cancel between passes has nothing to cancel: the same sweeper goes on.
$old = sweeper_pids('postgres');
sql("SELECT pg_cancel_backend($old)");
my $after_cancel = abandoned_job('postgres', '1 second');
wait_until('postgres', qq{SELECT lease_expires_at IS NULL FROM dlq.job WHERE id = $after_cancel},
	't', 'after a cancel the sweeper still sweeps');
is(sweeper_pids('postgres'), $old, 'and it is the same process');

# A sweeper killed with SIGKILL makes the postmaster reinitialize (restart_after_crash); the launcher
# and its sweepers must come back on their own.
$old = sweeper_pids('postgres');
$offset = log_offset();
kill 'KILL', $old;
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
wait_until('postgres',
	qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'dlq sweeper' AND datname = 'postgres'
	     AND pid <> $old},
	't', 'after a crash of the sweeper the postmaster brings the sweepers back');
my $after_crash = abandoned_job('postgres', '1 second');
wait_until('postgres', qq{SELECT lease_expires_at IS NULL FROM dlq.job WHERE id = $after_crash},
	't', 'the sweeper works after the crash');

# ---- a launcher that exits ---------------------------------------------------------------------------

# The postmaster restarts the launcher (after 5 s); the sweepers the old one started were left running,
# and the new one started a second sweeper per database that no launcher could stop. It stops them now.
my %before = (postgres => sweeper_pids('postgres'), other => sweeper_pids('other'));
my $launcher = launcher_pid();
ok(defined $launcher, 'the launcher process is found');
$offset = log_offset();
kill 'TERM', $launcher;
$node->wait_for_log(qr/dlq launcher: stopped 2 sweeper\(s\) left by a previous launcher/, $offset);
pass('a new launcher stops the sweepers of the one before');
for my $db ('postgres', 'other') {
	wait_until('postgres',
		qq{SELECT count(*) = 1 AND bool_and(pid <> $before{$db}) FROM pg_stat_activity
		    WHERE backend_type = 'dlq sweeper' AND datname = '$db'},
		't', "then one sweeper serves $db, a new one");
}
sleep 2;
is(sql(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'dlq sweeper'}),
	'2', 'and it stays one per database');

# ---- a dlq.databases the reload refuses ------------------------------------------------------------

$offset = log_offset();
$node->append_conf('postgresql.conf', "dlq.databases = 'postgres, other,'");
$node->reload;
$node->wait_for_log(qr/invalid value for parameter "dlq.databases"/, $offset);
is(sql('SHOW dlq.databases'), 'postgres, other', 'a dlq.databases with bad list syntax is refused at reload');
sleep 2;
is(sql(q{SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_stat_activity WHERE backend_type = 'dlq sweeper'}),
	'other,postgres', 'the sweepers go on under the old value');
$node->append_conf('postgresql.conf', "dlq.databases = 'postgres, other'");
$node->reload;

# ---- a database read-only by default ------------------------------------------------------------------

# Its applications may not write; its sweeper does (every pass failed: "cannot execute nextval() in a
# read-only transaction").
my $read_only_job = abandoned_job('other', '2 seconds');
sql(q{ALTER DATABASE other SET default_transaction_read_only = on});
my $other_sweeper = sweeper_pids('other');
sql("SELECT pg_terminate_backend($other_sweeper)");
wait_until('other', qq{SELECT lease_expires_at IS NULL FROM dlq.job WHERE id = $read_only_job},
	't', 'the sweeper of a database read-only by default still rescues its jobs');
sql(q{ALTER DATABASE other RESET default_transaction_read_only});

# ---- an error in one pass ----------------------------------------------------------------------------

# Fault injection: a trigger makes every rescue fail until it is dropped.
sql(q{CREATE FUNCTION public.break_sweep() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected sweep failure'; END $$});
sql(q{CREATE TRIGGER break_sweep BEFORE UPDATE ON dlq.job FOR EACH ROW
      WHEN (NEW.last_error = 'lease expired') EXECUTE FUNCTION public.break_sweep()});
$old = sweeper_pids('postgres');
$offset = log_offset();
my $faulty = abandoned_job('postgres', '1 second');
$offset = $node->wait_for_log(qr/\[$old\] ERROR:  injected sweep failure/, $offset);
$node->wait_for_log(qr/\[$old\] ERROR:  injected sweep failure/, $offset);
pass('a failing pass is logged, and the next interval tries again');
is(sweeper_pids('postgres'), $old, 'the sweeper survives the failing passes');
sql('DROP TRIGGER break_sweep ON dlq.job');
wait_until('postgres', qq{SELECT lease_expires_at IS NULL FROM dlq.job WHERE id = $faulty},
	't', 'once the fault is gone the same sweeper rescues the job');
is(sweeper_pids('postgres'), $old, 'no new sweeper was needed');

# ---- immediate restart -----------------------------------------------------------------------------

$old = sweeper_pids('postgres');
# A job claimed just before the crash whose lease expires after it.
my $before_crash = abandoned_job('postgres', '3 seconds');
$node->stop('immediate');
$node->start;
wait_for_sweeper('postgres', 'the sweeper comes back after an immediate restart');
wait_for_sweeper('other', 'the sweeper of the other database comes back too');
isnt(sweeper_pids('postgres'), $old, 'it is a new sweeper process');
wait_until('postgres', qq{SELECT lease_expires_at IS NULL FROM dlq.job WHERE id = $before_crash},
	't', 'the job claimed before the crash is rescued after it');
my $after_restart = abandoned_job('postgres', '1 second');
wait_until('postgres', qq{SELECT lease_expires_at IS NULL FROM dlq.job WHERE id = $after_restart},
	't', 'the sweeper keeps working after the restart');

# ---- SIGHUP change of dlq.sweep_interval ----------------------------------------------------------

$node->append_conf('postgresql.conf', "dlq.sweep_interval = '1h'");
$node->reload;
wait_until('postgres', 'SHOW dlq.sweep_interval', '1h', 'the reload sets the interval to 1h');
sleep 2;    # a pass in progress when the reload came may still finish
my $seq = sweep_seq('postgres');
my $slow = abandoned_job('postgres', '1 second');
sleep 4;
is(sql("SELECT (lease_expires_at < now()) || '|' || attempt FROM dlq.job WHERE id = $slow"),
	'true|1', 'with a 1h interval an expired lease is not swept within 4 seconds');
is(sweep_seq('postgres'), $seq, 'no sweep ran meanwhile');

$node->append_conf('postgresql.conf', "dlq.sweep_interval = '1s'");
$node->reload;
wait_until('postgres', qq{SELECT lease_expires_at IS NULL FROM dlq.job WHERE id = $slow},
	't', 'back to 1s by reload, the expired lease is swept');

# ---- dlq.enabled ------------------------------------------------------------------------------------

$node->append_conf('postgresql.conf', 'dlq.enabled = off');
$node->reload;
wait_until('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'dlq sweeper'},
	'0', 'dlq.enabled = off stops the sweepers');
my $disabled = abandoned_job('postgres', '1 second');
$seq = sweep_seq('postgres');
sleep 3;
is(sql("SELECT (lease_expires_at < now())::text FROM dlq.job WHERE id = $disabled"),
	'true', 'nothing is swept while disabled');
is(sweep_seq('postgres'), $seq, 'no sweep ran while disabled');
is(sql(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'dlq sweeper'}),
	'0', 'no sweeper comes back while disabled');

$node->append_conf('postgresql.conf', 'dlq.enabled = on');
$node->reload;
wait_for_sweeper('postgres', 'dlq.enabled = on starts the sweeper of postgres again');
wait_for_sweeper('other', 'and the sweeper of the other database');
wait_until('postgres', qq{SELECT lease_expires_at IS NULL FROM dlq.job WHERE id = $disabled},
	't', 'enabled again, the sweeper rescues what waited');

# ---- prompt shutdown --------------------------------------------------------------------------------

my $t0 = time;
$node->stop('fast');
my $elapsed = time - $t0;
cmp_ok($elapsed, '<', 10, 'fast shutdown completes within 10 seconds with sweepers running');
note(sprintf('fast shutdown took %.2fs', $elapsed));

done_testing();
