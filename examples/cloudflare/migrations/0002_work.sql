-- Background work (schema version 2): schemaSql('sqlite')'s statements for it, statement for statement.
-- The work table holds one row per action with work queued or running: the D1 engine writes it in
-- the same batch as the action, and the action's Durable Object leases it (src/work/durable-object.ts).
-- The status index serves the operator view (provider.actions.list without a principal).

CREATE TABLE IF NOT EXISTS gap_work (
          action_id TEXT PRIMARY KEY,
          attempts INTEGER NOT NULL,
          due_at INTEGER NOT NULL,
          lease_owner TEXT,
          requeued INTEGER NOT NULL DEFAULT 0
        );

CREATE INDEX IF NOT EXISTS gap_work_due ON gap_work (due_at);

CREATE INDEX IF NOT EXISTS gap_actions_status ON gap_actions (status, start_time, action_id);

INSERT INTO gap_schema_migrations (version, applied_at) VALUES (2, CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING;
