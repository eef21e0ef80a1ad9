-- One node at a time runs the maintenance passes (rescue of expired leases, retention, folding of
-- status counts): the holder of this lease, which it renews while it lives and gives up when it
-- stops. A lease row rather than an advisory lock, because a session's lock does not survive a
-- transaction pooler, and a row shows who leads.
CREATE TABLE IF NOT EXISTS maintenance_leader (
    id         int PRIMARY KEY CHECK (id = 1),
    node_id    text NOT NULL,
    expires_at timestamptz NOT NULL
);
