-- Queries used by health checks and the migrator.

-- name: health_ping
SELECT 1

-- name: schema_migrations_list
SELECT version, name FROM schema_migrations ORDER BY version

-- name: session_statement_timeout
SELECT set_config('statement_timeout', $1, false)

-- name: transaction_statement_timeout
-- The same for the current transaction alone (through a transaction-mode pooler). $1 ms
SELECT set_config('statement_timeout', $1, true)
