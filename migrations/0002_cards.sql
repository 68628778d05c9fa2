-- Cards. One row per version of a card. Everything that names or
-- describes a person is sealed (XChaCha20-Poly1305) with a key kept in the
-- data folder's key store, never in this file; search uses a keyed hash.

CREATE TABLE signing_keys (
	kid        INTEGER PRIMARY KEY CHECK (kid BETWEEN 1 AND 255),
	public_key BLOB NOT NULL,            -- Ed25519, 32 bytes
	created_at INTEGER NOT NULL,
	retired_at INTEGER                   -- no longer signs; still verifies
);

CREATE TABLE cards (
	id           INTEGER PRIMARY KEY,
	card_number  TEXT NOT NULL,          -- random, see docs/token-format.md
	version      INTEGER NOT NULL CHECK (version BETWEEN 1 AND 255),
	status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
	revoke_reason TEXT CHECK (revoke_reason IN ('lost', 'stolen', 'damaged', 'error', 'other', 'reissued', 'renewed')),
	revoked_at   INTEGER,
	issued_on    TEXT NOT NULL,          -- YYYY-MM-DD
	expires_on   TEXT NOT NULL,
	status_index INTEGER NOT NULL UNIQUE, -- random position in the status list
	kid          INTEGER NOT NULL REFERENCES signing_keys(kid),
	lookup       BLOB NOT NULL,          -- keyed hash of family name + date of birth
	personal     BLOB NOT NULL,          -- sealed JSON: names, date of birth, address, ...
	photo        BLOB,                   -- sealed JPEG (re-encoded, no metadata)
	reprint_hash BLOB,                   -- keyed hash of the reprint code
	created_by   TEXT NOT NULL,          -- staff user name
	created_at   INTEGER NOT NULL,
	UNIQUE (card_number, version)
);
CREATE INDEX cards_lookup ON cards(lookup);
