-- What a session or a database owner set up before calling dlq must not change what dlq does.

-- A database owner may create functions in public, which CREATE EXTENSION puts on the install script's
-- search_path. A public.nextval(text) beat pg_catalog.nextval(regclass) for the column defaults the
-- script bound (an untyped literal argument), and ran as the tables' owner on every id drawn.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS dlq CASCADE;
RESET client_min_messages;
CREATE FUNCTION public.nextval(text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'public.nextval called for %', $1;
	RETURN pg_catalog.nextval($1::regclass);
END
$$;
SHOW search_path;
CREATE EXTENSION dlq;
\set ECHO none
\i sql/include/job_ids.sql
\set ECHO all
-- The caller's search_path is as it was.
SHOW search_path;
-- Nothing depends on public.nextval (before the fix: the 4 id defaults).
SELECT count(*) AS bound_to_public_nextval
  FROM pg_depend AS d JOIN pg_proc AS p ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
 WHERE p.oid = 'public.nextval(text)'::regprocedure;
SELECT ad.adrelid::regclass AS table_name, pg_get_expr(ad.adbin, ad.adrelid) AS id_default
  FROM pg_attrdef AS ad JOIN pg_attribute AS a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
 WHERE ad.adrelid IN ('dlq.queue'::regclass, 'dlq.dead_letter'::regclass) AND a.attname = 'id' ORDER BY 1;
-- Every path that draws an id: no NOTICE from public.nextval.
SELECT dlq.create_queue('hostile', max_attempts => 1);
SELECT dlq.enqueue('hostile', 'k') > 0 AS enqueued;
SELECT dlq.fail(job_id, 'w', 'boom') FROM dlq.claim('hostile', 'w');
SELECT requeued FROM dlq.reprocess(ARRAY(SELECT id FROM dlq.dead_letters), 'after the hostile install');
DROP FUNCTION public.nextval(text);

-- standard_conforming_strings = off: the explorer's functions are compiled in the caller's session, and a
-- backslash in a plain literal of theirs changed meaning (an unterminated string; \s+ read as s+).
SELECT dlq.fail(job_id, 'w', E'line one\n\tline  two') FROM dlq.claim('hostile', 'w');
SET standard_conforming_strings = off;
SELECT queue, kind, error_snippet FROM dlq.search(now() - interval '1 hour', now() + interval '1 hour', kind_prefix => 'k')
 ORDER BY id;
SELECT count(*) AS escaped_prefix FROM dlq.search(now() - interval '1 hour', now() + interval '1 hour', kind_prefix => E'k\\');
SELECT dead_letters, sample_error FROM dlq.summary(now() - interval '1 hour', now() + interval '1 hour') ORDER BY 2;
RESET standard_conforming_strings;

-- An error text past 8192 bytes is cut in last_error and in the dead letter, as in the history.
SELECT dlq.enqueue('hostile', 'long') > 0 AS enqueued;
SELECT dlq.fail(job_id, 'w', repeat('x', 100000), retryable => false) FROM dlq.claim('hostile', 'w');
SELECT octet_length(last_error) AS last_error_bytes, right(last_error, 14) AS ends_with,
       octet_length(errors -> -1 ->> 'error') AS history_bytes
  FROM dlq.dead_letters WHERE kind = 'long';

-- A read-only transaction (a standby's, or default_transaction_read_only): every function that writes
-- refuses with 25006 naming itself. The statement inside was refused all the same, named as an internal
-- one ("cannot execute SELECT in a read-only transaction" from dlq.dead_letter).
SET default_transaction_read_only = on;
SELECT dlq.create_queue('ro');
SELECT dlq.alter_queue('hostile', max_attempts => 2);
SELECT dlq.pause_queue('hostile');
SELECT dlq.resume_queue('hostile');
SELECT dlq.drop_queue('hostile');
SELECT dlq.register_reason('RO', 'read only');
SELECT dlq.enqueue('hostile', 'k');
SELECT dlq.enqueue_many('hostile', '[{"kind": "k"}]');
SELECT * FROM dlq.claim('hostile', 'w');
SELECT dlq.heartbeat(jid(1), 'w');
SELECT dlq.complete(jid(1), 'w');
SELECT dlq.complete_many(ARRAY[jid(1)], 'w');
SELECT dlq.fail(jid(1), 'w', 'e');
SELECT dlq.dead_letter(jid(1));
SELECT dlq.mark_reviewed(ARRAY[1]);
SELECT * FROM dlq.reprocess(ARRAY[1], 'read only');
SELECT * FROM dlq.reprocess_matching(now() - interval '1 hour', now(), justification => 'read only', dry_run => false);
SELECT * FROM dlq.mark_reviewed_matching(now() - interval '1 hour', now());
SELECT * FROM dlq.sweep();
SELECT dlq.purge('1 day');
-- Reading works: the explorer, and a dry run.
SELECT count(*) >= 0 AS searched FROM dlq.search(now() - interval '1 hour', now());
SELECT dry_run FROM dlq.reprocess_matching(now() - interval '1 hour', now(), justification => 'read only');
RESET default_transaction_read_only;

-- A database in another encoding than UTF-8 (LATIN1). The core reads and writes JSON in UTF-8, so text
-- is converted both ways: "café" was not valid JSON to enqueue_many, a details object with "é" could
-- not be reported by fail, and an "é" in an error came back in the history as U+FFFD.
SELECT current_database() AS regress_db \gset
CREATE DATABASE dlq_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c dlq_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION dlq;
SELECT dlq.create_queue('q', max_attempts => 1);
SELECT count(*) AS enqueued FROM dlq.enqueue_many('q', '[{"kind": "café", "payload": {"note": "déjà vu"}},
                                                         {"kind": "long"}]');
SELECT kind, payload FROM dlq.claim('q', 'wé', 2) ORDER BY job_id;
SELECT dlq.fail(j.id, 'wé', 'erreur: é', '{"détail": "à"}') FROM dlq.job AS j WHERE j.kind = 'café';
-- 5000 é: 5000 bytes in LATIN1 but 10000 in UTF-8, so both the history and last_error are cut.
SELECT dlq.fail(j.id, 'wé', repeat('é', 5000)) FROM dlq.job AS j WHERE j.kind = 'long';
SELECT kind, errors -> 0 ->> 'worker' AS worker, left(errors -> 0 ->> 'error', 10) AS error,
       errors -> 0 -> 'details' AS details, length(last_error) AS last_error_chars, right(last_error, 14) AS ends_with
  FROM dlq.dead_letters ORDER BY id;
\c :regress_db
DROP DATABASE dlq_latin1;

-- EUC_JP, a multibyte encoding: the fingerprint is cut at 200 bytes on a character boundary (cut in
-- EUC_JP bytes, it ended in half a character, and reading it failed).
CREATE DATABASE dlq_euc_jp ENCODING 'EUC_JP' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c dlq_euc_jp
SET client_encoding = 'UTF8';
CREATE EXTENSION dlq;
SELECT right(dlq.fingerprint(repeat('a', 199) || '漢字'), 3) AS fingerprint_ends;
\c :regress_db
DROP DATABASE dlq_euc_jp;

-- SQL_ASCII holds any bytes: an error with a byte that is not UTF-8 is still reported.
CREATE DATABASE dlq_sql_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c dlq_sql_ascii
CREATE EXTENSION dlq;
SELECT dlq.create_queue('q', max_attempts => 1);
SELECT dlq.enqueue('q', 'k') > 0 AS enqueued;
SELECT dlq.fail(job_id, 'w', convert_from('\x6572726575722065e9'::bytea, 'SQL_ASCII')) FROM dlq.claim('q', 'w');
SELECT octet_length(last_error) AS last_error_bytes, errors -> 0 ->> 'error' AS history_error FROM dlq.dead_letters;
\c :regress_db
DROP DATABASE dlq_sql_ascii;
