-- The action store's tables for D1: schemaSql('sqlite') at schema version 1, statement for statement.
-- `wrangler d1 migrations apply DB` runs each file here once, in order of name; examples/worker.ts
-- opens its store with migrate: false, so these files are the only thing that makes its tables.
-- Never edit a file once applied: a new schema version is a new file (test/cloudflare-deploy.test.ts checks).

CREATE TABLE IF NOT EXISTS gap_schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS gap_actions (
          action_id TEXT PRIMARY KEY,
          creator_id TEXT NOT NULL,
          request_id TEXT NOT NULL,
          status TEXT NOT NULL,
          start_time TEXT NOT NULL,
          expires_at INTEGER,
          version INTEGER NOT NULL,
          record TEXT NOT NULL,
          CONSTRAINT gap_actions_request UNIQUE (creator_id, request_id)
        );

CREATE TABLE IF NOT EXISTS gap_principals (
          principal TEXT NOT NULL,
          role TEXT NOT NULL,
          action_id TEXT NOT NULL,
          PRIMARY KEY (principal, role, action_id)
        );

CREATE INDEX IF NOT EXISTS gap_principals_action ON gap_principals (action_id);

CREATE INDEX IF NOT EXISTS gap_actions_creator ON gap_actions (creator_id, status, start_time, action_id);

CREATE INDEX IF NOT EXISTS gap_actions_order ON gap_actions (start_time, action_id);

CREATE INDEX IF NOT EXISTS gap_actions_expiry ON gap_actions (expires_at) WHERE expires_at IS NOT NULL;

INSERT INTO gap_schema_migrations (version, applied_at) VALUES (1, CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING;
