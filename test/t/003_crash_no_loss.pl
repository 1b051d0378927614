# Load-and-crash test (issue 3): producers enqueue and workers claim and complete jobs while some
# workers are killed mid-job and the server is stopped with mode immediate in the middle; the
# background sweeper rescues and dead-letters what the dead workers left behind, and the rest is
# drained. At the end every enqueued job must be in exactly one place -- completed (as recorded by the
# client once dlq.complete returned true), live, or dead-lettered -- none lost, none duplicated.
#
# Producers and workers are separate psql processes (true concurrency on the server), each writing a
# client-side log to a file of its own: a line before and after every enqueue and complete, so a call
# whose answer was lost in a crash is known to be "in doubt" rather than silently miscounted. The
# files live outside the server and survive its crash.
use strict;
use warnings;

use POSIX qw(WNOHANG);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# Shape of the load. Small enough to finish well within 90 s on a loaded 2-core machine.
my $producers = 3;
my $jobs_per_producer = 120;
my $workers = 4;
my $crash_after = 4.0;     # seconds into the load
my $max_kills = 30;
my $min_kills = 8;         # kills continue into the drain until this many
my $kill_every = 0.25;     # seconds between two kills
my $load_limit = 40;       # seconds for producers to finish
my $drain_limit = 45;      # seconds for the queue to drain afterwards

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'dlq'
dlq.sweep_interval = '1s'
dlq.databases = 'postgres'
max_connections = 40
log_statement = none
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dlq;
	SELECT dlq.create_queue('load', max_attempts => 2, lease => '2 seconds');
	CREATE TABLE public.load_control (stop boolean NOT NULL);
	INSERT INTO public.load_control VALUES (false);
});

my $dir = PostgreSQL::Test::Utils::tempdir;
my $t0 = time;
my $log_start = -s $node->logfile;

# ---- client scripts --------------------------------------------------------------------------------

# A worker: claim one job; if there is one, "process" it and complete it, logging before and after;
# otherwise wait a little. Stops when load_control.stop is set and it holds nothing.
my $iteration = q{
SELECT coalesce(c.job_id, 0) AS job_id, coalesce(c.payload->>'p', '-') AS p, coalesce(c.payload->>'n', '-') AS n,
       c.job_id IS NOT NULL AS got, c.job_id IS NULL AND (SELECT stop FROM public.load_control) AS stop
  FROM (SELECT 1) AS one LEFT JOIN dlq.claim('load', :'w') AS c ON true \gset
\if :stop
\q
\endif
\if :got
\qecho claimed :job_id :p :n
SELECT pg_sleep(0.1) \gset
\qecho completing :job_id
SELECT dlq.complete(:job_id, :'w') AS ok \gset
\qecho completed :job_id :ok :p :n
\else
SELECT pg_sleep(0.2) \gset
\endif
};
my $worker_script = "$dir/worker.sql";
PostgreSQL::Test::Utils::append_to_file($worker_script, $iteration x 1500);

# A producer enqueues jobs $from..$to with its name and the number in the payload. Every fourth job
# gets a single attempt (the queue allows two), so a kill on it is final. Jobs 6k+3 .. 6k+5 go in one
# dlq.enqueue_many call (one transaction: all three or none), the others one dlq.enqueue each.
sub producer_script {
	my ($name, $from, $to) = @_;
	my $file = "$dir/$name.sql";
	my $sql = '';
	my $n = $from;
	while ($n <= $to) {
		if ($n % 6 == 3 && $n + 2 <= $to) {
			my @batch = ($n .. $n + 2);
			my $elements = join(', ',
				map {
					"jsonb_build_object('kind', 'crash-test', 'payload', jsonb_build_object('p', '$name', 'n', $_)"
					  . ($_ % 4 == 0 ? ", 'max_attempts', 1" : '') . ')'
				} @batch);
			$sql .= join('', map { "\\qecho enqueuing $name $_\n" } @batch)
			  . "SELECT string_agg(e.id::text, ' ' ORDER BY e.ord) AS ids"
			  . " FROM dlq.enqueue_many('load', jsonb_build_array($elements)) WITH ORDINALITY AS e(id, ord) \\gset\n"
			  . "\\qecho enqueued_many $name $n :ids\n"
			  . "SELECT pg_sleep(0.18) \\gset\n";
			$n += 3;
			next;
		}
		my $attempts = $n % 4 == 0 ? ', max_attempts => 1' : '';
		$sql .= "\\qecho enqueuing $name $n\n"
		  . "SELECT dlq.enqueue('load', 'crash-test', jsonb_build_object('p', '$name', 'n', $n)$attempts) AS id \\gset\n"
		  . "\\qecho enqueued :id $name $n\n"
		  . "SELECT pg_sleep(0.06) \\gset\n";
		$n++;
	}
	PostgreSQL::Test::Utils::append_to_file($file, $sql);
	return $file;
}

# ---- client processes ------------------------------------------------------------------------------

my %procs;        # pid => { role, base, name, out }
my %incarnation;  # base name => count
my @outputs;      # every client log file, in start order
my %started;      # producer base => jobs it started (from its logs)
my $unexpected_exits = 0;

sub spawn {
	my ($role, $base, $script) = @_;
	my $name = $base . '.' . ++$incarnation{$base};
	my $out = "$dir/$name.out";
	push @outputs, $out;
	my $pid = fork();
	die "fork failed: $!" unless defined $pid;
	if ($pid == 0) {
		open(STDOUT, '>', $out) or POSIX::_exit(127);
		open(STDERR, '>', "$dir/$name.err") or POSIX::_exit(127);
		{ exec('psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-v', "w=$name",
			'-d', $node->connstr('postgres') . " application_name=$name", '-f', $script) };
		POSIX::_exit(127);
	}
	$procs{$pid} = { role => $role, base => $base, name => $name, out => $out };
	return $pid;
}

# Lines a client has logged so far (complete only once it exited).
sub lines_of { my ($file) = @_; return -e $file ? split(/\n/, slurp_file($file)) : (); }

sub start_producer {
	my ($base) = @_;
	my $done = 0;
	for my $i (1 .. ($incarnation{$base} // 0)) {
		$done += grep { /^enqueuing / } lines_of("$dir/$base.$i.out");
	}
	return if $done >= $jobs_per_producer;
	# A new incarnation is a new producer name: the (name, n) key of every job stays unique.
	my $name = $base . '.' . (($incarnation{$base} // 0) + 1);
	spawn('producer', $base, producer_script($name, $done + 1, $jobs_per_producer));
	return;
}

sub start_worker { my ($base) = @_; spawn('worker', $base, $worker_script); return; }

# Reaps exited clients; returns them.
sub reap {
	my @gone;
	for my $pid (keys %procs) {
		next unless waitpid($pid, WNOHANG) == $pid;
		my $p = delete $procs{$pid};
		$p->{status} = $? >> 8;
		push @gone, $p;
	}
	return @gone;
}

sub running { my ($role) = @_; return scalar grep { $_->{role} eq $role } values %procs; }

sub sql { return $node->safe_psql('postgres', @_); }

# ---- load, kills and the crash --------------------------------------------------------------------

start_producer("p$_") for 1 .. $producers;
start_worker("w$_") for 1 .. $workers;

my ($kills, $kills_last_attempt, $kills_missed, $crashed, $last_kill, $kill_tries) = (0, 0, 0, 0, time, 0);
my %killed_names;
my $orphaned = 0;    # jobs still leased right after the restart (held when the server went down)

# Kills a worker while it processes a job (in its pg_sleep), preferring by turns a job on its last
# attempt (it dies as STUCK_IN_PROGRESS) and one with attempts left (it is rescued). Victim choice
# and signal are one statement, and the kill counts only when the job is still held by the dead
# worker afterwards.
sub kill_a_worker {
	return if $kills >= $max_kills || time - $last_kill < $kill_every;
	$last_kill = time;
	my $prefer_last = $kill_tries % 2 == 0 ? 'true' : 'false';
	my $victim = sql(qq{
		SELECT a.application_name || ' ' || j.id || ' ' || j.attempt || ' ' || j.max_attempts || ' '
		       || pg_terminate_backend(a.pid, 5000)
		  FROM dlq.job AS j JOIN pg_stat_activity AS a ON a.application_name = j.worker
		 WHERE j.lease_expires_at IS NOT NULL AND a.state = 'active' AND a.query LIKE 'SELECT pg_sleep%'
		 ORDER BY (j.attempt >= j.max_attempts) = $prefer_last DESC, random() LIMIT 1});
	$kill_tries++;
	return unless $victim;
	my ($name, $job, $attempt, $max, $terminated) = split / /, $victim;
	$killed_names{$name} = 1;
	return unless $terminated =~ /^t/;    # 'true' (boolean cast to text)
	if (sql("SELECT count(*) FROM dlq.job WHERE id = $job AND worker = '$name' AND lease_expires_at IS NOT NULL")
		eq '1') {
		$kills++;
		$kills_last_attempt++ if $attempt >= $max;
	} else {
		$kills_missed++;    # it finished the job just before the signal landed
	}
	return;
}

my $phase_end = time + $load_limit;
while (time < $phase_end) {
	# Restart what died; a producer restarts with the jobs it has not started yet.
	for my $p (reap()) {
		if ($p->{role} eq 'producer') {
			$unexpected_exits++ if $p->{status} != 0;
			start_producer($p->{base});
		} else {
			$unexpected_exits++ unless $killed_names{ $p->{name} };
			start_worker($p->{base});
		}
	}
	last if running('producer') == 0;

	if (!$crashed && time - $t0 >= $crash_after) {
		note('stopping the server in mode immediate');
		$node->stop('immediate');
		# Every client loses its connection and exits; wait for all of them.
		my $deadline = time + 30;
		my @down;
		while (%procs && time < $deadline) { push @down, reap(); usleep(50_000); }
		die 'clients did not exit after the crash' if %procs;
		$node->start;
		$crashed = 1;
		$orphaned = sql('SELECT count(*) FROM dlq.job WHERE lease_expires_at IS NOT NULL');
		for my $p (@down) {
			$killed_names{ $p->{name} } = 1;
			$p->{role} eq 'producer' ? start_producer($p->{base}) : start_worker($p->{base});
		}
		next;
	}

	kill_a_worker();
	usleep(20_000);
}
is(running('producer'), 0, 'producers finished within the load phase');
ok($crashed, 'the server was stopped in mode immediate and restarted during the load');
note(sprintf('load phase took %.1fs; %d kill attempts, %d kills', time - $t0, $kill_tries, $kills));

# ---- drain -----------------------------------------------------------------------------------------

# Workers keep going; the sweeper rescues and dead-letters what was left behind.
my $drained = 0;
my $drain_end = time + $drain_limit;
while (time < $drain_end) {
	for my $p (reap()) {
		next if $p->{role} ne 'worker';
		$unexpected_exits++ unless $killed_names{ $p->{name} };
		start_worker($p->{base});
	}
	# On a slow machine the load phase may have seen few kills: go on killing while there is work.
	kill_a_worker() if $kills < $min_kills || $kills_last_attempt < 3;
	if (sql('SELECT count(*) FROM dlq.job') eq '0') { $drained = 1; last; }
	usleep(200_000);
}
ok($drained, 'the queue drains after the crash: no live job is left behind');

sql('UPDATE public.load_control SET stop = true');
my $stop_end = time + 20;
while (%procs && time < $stop_end) { reap(); usleep(50_000); }
ok(!%procs, 'every worker stopped');
kill 'TERM', keys %procs;    # only if the assertion above failed
reap();
is($unexpected_exits, 0, 'no client failed other than by a kill or the crash')
  or diag(map { "$_: " . slurp_file($_ =~ s/\.out$/.err/r) } @outputs);

# ---- the ledger --------------------------------------------------------------------------------------

my %enqueued;      # job id => "producer n", enqueue answered
my %intent;        # "producer n" => 1, enqueue started
my %completed;     # job id => times dlq.complete returned true
my %in_doubt_completion;    # job id => 1, complete sent but its answer lost
my %payload_of_completed;   # job id => "producer n"
my ($completions_false, $claims, $batches_answered) = (0, 0, 0);
for my $file (@outputs) {
	my $pending;
	for (lines_of($file)) {
		if (/^enqueuing (\S+) (\d+)$/) { $intent{"$1 $2"} = 1; }
		elsif (/^enqueued (\d+) (\S+) (\d+)$/) {
			die "id $1 returned twice by enqueue" if exists $enqueued{$1};
			$enqueued{$1} = "$2 $3";
		}
		elsif (/^enqueued_many (\S+) (\d+) (\d+(?: \d+)*)$/) {
			my ($name, $first, @ids) = ($1, $2, split / /, $3);
			for my $i (0 .. $#ids) {
				die "id $ids[$i] returned twice by enqueue" if exists $enqueued{ $ids[$i] };
				$enqueued{ $ids[$i] } = "$name " . ($first + $i);
			}
			$batches_answered++;
		}
		elsif (/^claimed /) { $claims++; }
		elsif (/^completing (\d+)$/) { $pending = $1; }
		elsif (/^completed (\d+) ([tf]) (\S+) (\d+)$/) {
			undef $pending;
			if ($2 eq 't') { $completed{$1}++; $payload_of_completed{$1} = "$3 $4"; }
			else { $completions_false++; }
		}
	}
	$in_doubt_completion{$pending} = 1 if defined $pending;
}
my %answered = map { $_ => 1 } values %enqueued;
my @in_doubt_enqueues = grep { !$answered{$_} } keys %intent;

my %live = map { split /\|/ } split /\n/,
  sql(q{SELECT id || '|' || (payload->>'p') || ' ' || (payload->>'n') FROM dlq.job});
my %dead;    # job id => times dead-lettered
my %dead_payload;
my %dead_reason;
for (split /\n/,
	sql(q{SELECT job_id || '|' || (payload->>'p') || ' ' || (payload->>'n') || '|' || reason || '/' || detected_by
	        FROM dlq.dead_letter})) {
	my ($id, $key, $reason) = split /\|/;
	$dead{$id}++;
	$dead_payload{$id} = $key;
	$dead_reason{$reason}++;
}

# Where each job ended: every id known to the server or the client.
my %payload_of = (%payload_of_completed, %dead_payload, %live);
my (@lost, @duplicated, @twice_completed, @twice_dead, @unknown, @mismatched);
my $in_doubt_done = 0;
for my $id (sort { $a <=> $b } keys %enqueued) {
	my $places = ($completed{$id} ? 1 : 0) + ($dead{$id} ? 1 : 0) + (exists $live{$id} ? 1 : 0);
	if ($places == 0) {
		# Only a complete whose answer was lost can have removed it without a trace.
		if ($in_doubt_completion{$id}) { $in_doubt_done++; }
		else { push @lost, $id; }
	}
	push @duplicated, $id if $places > 1;
	push @mismatched, $id if exists $payload_of{$id} && $payload_of{$id} ne $enqueued{$id};
}
push @twice_completed, grep { $completed{$_} > 1 } keys %completed;
push @twice_dead, grep { $dead{$_} > 1 } keys %dead;
# Ids the client never got back from enqueue must belong to an enqueue whose answer was lost, once.
my %in_doubt_key = map { $_ => 1 } @in_doubt_enqueues;
my %key_seen;
my $in_doubt_committed = 0;
for my $id (keys %payload_of) {
	next if exists $enqueued{$id};
	my $key = $payload_of{$id};
	push @unknown, $id unless $in_doubt_key{$key} && !$key_seen{$key}++;
	$in_doubt_committed++;
	push @duplicated, $id if ($completed{$id} ? 1 : 0) + ($dead{$id} ? 1 : 0) + (exists $live{$id} ? 1 : 0) > 1;
}

is(scalar(@lost), 0, 'no enqueued job is lost: each is completed, live or dead-lettered')
  or diag("lost: @lost");
is(scalar(@duplicated), 0, 'no job is in two places (completed and dead-lettered, or live too)')
  or diag("duplicated: @duplicated");
is(scalar(@twice_completed), 0, 'dlq.complete returned true at most once per job')
  or diag("completed twice: @twice_completed");
is(scalar(@twice_dead), 0, 'no job is dead-lettered twice') or diag("dead twice: @twice_dead");
is(scalar(@unknown), 0, 'no completion or dead letter for an id that was not enqueued')
  or diag("unknown: @unknown");
is(scalar(@mismatched), 0, 'every job kept the payload it was enqueued with') or diag("mismatched: @mismatched");
is(scalar(keys %live), 0, 'nothing is left live after the drain');
my $enqueued_total = scalar(keys %enqueued);
is($enqueued_total + @in_doubt_enqueues, $producers * $jobs_per_producer,
	'the producers started every job exactly once');

# The sweeper's own account, from its LOG lines.
my ($rescued, $stuck, $unrecovered) = (0, 0, 0);
my $server_log = slurp_file($node->logfile, $log_start);
while ($server_log =~ /dlq sweeper: database "postgres": rescued (\d+), dead-lettered (\d+) STUCK_IN_PROGRESS and (\d+) UNRECOVERED_ERROR/g) {
	$rescued += $1; $stuck += $2; $unrecovered += $3;
}
my $dead_total = 0;
$dead_total += $_ for values %dead;
is($dead_reason{'STUCK_IN_PROGRESS/sweep'} // 0, $dead_total,
	'every dead letter is STUCK_IN_PROGRESS found by the sweep (workers never report failures here)');
is($stuck, $dead_total, 'the sweeper logged every dead-lettering');

# The test must have exercised what it claims to.
cmp_ok($kills, '>=', 3, 'several workers were killed mid-job');
cmp_ok($rescued, '>', 0, 'the sweeper rescued jobs of dead workers');
cmp_ok($dead_total, '>', 0, 'some jobs died as STUCK_IN_PROGRESS after max attempts');
cmp_ok(scalar(keys %completed), '>', $enqueued_total / 2, 'most jobs were completed');
cmp_ok($batches_answered, '>', 0, 'some jobs were enqueued in batches (dlq.enqueue_many)');

my $figures = sprintf(
	'jobs enqueued %d (+%d enqueues in doubt, %d of them committed), completed %d (+%d completions in doubt), '
	  . 'dead-lettered %d STUCK_IN_PROGRESS, live %d; workers killed mid-job %d (%d on a last attempt; %d kills landed after the job was done), '
	  . '1 immediate restart (%d jobs still leased right after it), rescued by the sweeper %d; claims %d, complete() refused %d; %d enqueue_many batches; %.1fs',
	$enqueued_total, scalar(@in_doubt_enqueues), $in_doubt_committed, scalar(keys %completed), $in_doubt_done, $dead_total,
	scalar(keys %live), $kills, $kills_last_attempt, $kills_missed, $orphaned, $rescued, $claims, $completions_false, $batches_answered, time - $t0);
diag($figures);

$node->stop('fast');
done_testing();
