-- Enumerate by pages, newest first (schema version 3): schemaSql('sqlite')'s statements for it,
-- statement for statement. Each principals row gets its action's status and start time, ordered in
-- one index, and the creator becomes a principal too (role 'creator'); triggers keep the copies right
-- whoever writes (an instance still on version 2 during a rolling upgrade included).

ALTER TABLE gap_principals ADD COLUMN status TEXT;

ALTER TABLE gap_principals ADD COLUMN start_time TEXT;

UPDATE gap_principals SET status = (SELECT a.status FROM gap_actions a WHERE a.action_id = gap_principals.action_id), start_time = (SELECT a.start_time FROM gap_actions a WHERE a.action_id = gap_principals.action_id) WHERE status IS NULL;

INSERT INTO gap_principals (principal, role, action_id, status, start_time) SELECT creator_id, 'creator', action_id, status, start_time FROM gap_actions WHERE true ON CONFLICT DO NOTHING;

CREATE INDEX IF NOT EXISTS gap_principals_order ON gap_principals (principal, role, status, start_time, action_id);

CREATE TRIGGER IF NOT EXISTS gap_principals_creator AFTER INSERT ON gap_actions BEGIN INSERT INTO gap_principals (principal, role, action_id, status, start_time) VALUES (NEW.creator_id, 'creator', NEW.action_id, NEW.status, NEW.start_time) ON CONFLICT DO NOTHING; END;

CREATE TRIGGER IF NOT EXISTS gap_principals_fill AFTER INSERT ON gap_principals WHEN NEW.status IS NULL BEGIN UPDATE gap_principals SET status = (SELECT status FROM gap_actions WHERE action_id = NEW.action_id), start_time = (SELECT start_time FROM gap_actions WHERE action_id = NEW.action_id) WHERE principal = NEW.principal AND role = NEW.role AND action_id = NEW.action_id; END;

CREATE TRIGGER IF NOT EXISTS gap_principals_status AFTER UPDATE OF status ON gap_actions WHEN OLD.status <> NEW.status BEGIN UPDATE gap_principals SET status = NEW.status WHERE action_id = NEW.action_id; END;

INSERT INTO gap_schema_migrations (version, applied_at) VALUES (3, CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING;
