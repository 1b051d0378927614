-- A fresh queue before every measurement: recreate the extension (tables, sequences, plans).
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
SELECT dlq.create_queue('default');
