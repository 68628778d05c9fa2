-- Staff accounts, their sessions, and the hash-chained audit log.
-- No resident data lives in these tables.

CREATE TABLE users (
	id                   INTEGER PRIMARY KEY,
	username             TEXT NOT NULL UNIQUE,
	role                 TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'auditor')),
	password_hash        TEXT NOT NULL,          -- Argon2id string (libsodium)
	must_change_password INTEGER NOT NULL DEFAULT 0,
	disabled             INTEGER NOT NULL DEFAULT 0,
	created_at           INTEGER NOT NULL         -- unix seconds
);

-- A session is an API bearer token or a web cookie. Only the BLAKE2b hash
-- of the secret is stored: a copied database grants no access.
CREATE TABLE sessions (
	token_hash  BLOB PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind        TEXT NOT NULL CHECK (kind IN ('api', 'web')),
	csrf        TEXT,                         -- web sessions only
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Append-only: each entry holds the hash of the one before it.
-- hash = BLAKE2b-256(prev_hash || id || at || actor || action || subject || detail)
CREATE TABLE audit_log (
	id        INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	subject   TEXT NOT NULL DEFAULT '',
	detail    TEXT NOT NULL DEFAULT '',
	prev_hash BLOB NOT NULL,
	hash      BLOB NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
