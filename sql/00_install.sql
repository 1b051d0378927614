-- The extension installs cleanly and registers its built-in reasons.
CREATE EXTENSION dlq;
SELECT code, label, severity, builtin FROM dlq.reasons ORDER BY code;
