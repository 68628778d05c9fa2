/* sql.c — every SQL statement of the service, in one place, with ?
 * placeholders only. Schema changes go to migrations/, not here. */
#include "db.h"

const char *const db_sql[STMT__COUNT] = {
	[STMT_USER_INSERT] =
		"INSERT INTO users (username, role, password_hash, must_change_password, created_at)"
		" VALUES (?, ?, ?, ?, ?)",
	[STMT_USER_BY_NAME] =
		"SELECT id, username, role, password_hash, must_change_password, disabled"
		" FROM users WHERE username = ?",
	[STMT_USER_SET_PASSWORD] =
		"UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?",
	[STMT_ADMIN_COUNT] =
		"SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0",
	[STMT_SESSION_INSERT] =
		"INSERT INTO sessions (token_hash, user_id, kind, csrf, created_at, expires_at)"
		" VALUES (?, ?, ?, ?, ?, ?)",
	[STMT_SESSION_LOOKUP] =
		"SELECT u.id, u.username, u.role, u.must_change_password, s.kind, s.csrf, s.expires_at"
		" FROM sessions s JOIN users u ON u.id = s.user_id"
		" WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
	[STMT_SESSION_DELETE] =
		"DELETE FROM sessions WHERE token_hash = ?",
	[STMT_SESSION_DELETE_EXPIRED] =
		"DELETE FROM sessions WHERE expires_at <= ?",
	[STMT_SESSION_DELETE_USER_OTHERS] =
		"DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?",
	[STMT_AUDIT_LAST] =
		"SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
	[STMT_AUDIT_INSERT] =
		"INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[STMT_AUDIT_ALL] =
		"SELECT id, at, actor, action, subject, detail, prev_hash, hash"
		" FROM audit_log ORDER BY id",
	[STMT_SIGNING_KEYS] =
		"SELECT kid, public_key, retired_at FROM signing_keys ORDER BY kid",
	[STMT_SIGNING_KEY_INSERT] =
		"INSERT INTO signing_keys (kid, public_key, created_at) VALUES (?, ?, ?)",
	[STMT_CARD_INSERT] =
		"INSERT INTO cards (card_number, version, issued_on, expires_on, status_index, kid,"
		" lookup, personal, photo, reprint_hash, created_by, created_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
#define CARD_COLUMNS "id, card_number, version, status, revoke_reason, issued_on, expires_on," \
		     " status_index, kid, personal, photo, purged_at"
#define ERASE "personal = X'', photo = NULL, lookup = randomblob(32), reprint_hash = NULL, purged_at = ?"
	[STMT_CARD_LATEST] =
		"SELECT " CARD_COLUMNS " FROM cards WHERE card_number = ? ORDER BY version DESC LIMIT 1",
	[STMT_CARD_SEARCH] =
		"SELECT " CARD_COLUMNS " FROM cards c WHERE lookup = ?"
		" AND version = (SELECT max(version) FROM cards WHERE card_number = c.card_number)"
		" ORDER BY issued_on DESC LIMIT 50",
	[STMT_CARD_NUMBER_USED] =
		"SELECT 1 FROM cards WHERE card_number = ? LIMIT 1",
	[STMT_STATUS_REVOKED] =
		"SELECT status_index FROM cards WHERE status = 'revoked'",
	[STMT_CARD_REVOKE] =
		"UPDATE cards SET status = 'revoked', revoke_reason = ?, revoked_at = ?"
		" WHERE card_number = ? AND version = ? AND status = 'active'",
	[STMT_SIGNING_KEY_RETIRE] =
		"UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND kid <> ?",
	[STMT_SIGNING_KEYS_FULL] =
		"SELECT kid, public_key, created_at, retired_at FROM signing_keys ORDER BY kid",
	[STMT_CARD_EARLIER_INDEXES] =
		"SELECT status_index FROM cards WHERE card_number = ? AND version < ?",
	[STMT_CARD_REVOKE_EARLIER] =
		"UPDATE cards SET status = 'revoked', revoke_reason = ?, revoked_at = ?"
		" WHERE card_number = ? AND version < ? AND status = 'active'",
	[STMT_CARD_REPRINT_HASH] =
		"SELECT reprint_hash FROM cards WHERE card_number = ? ORDER BY version DESC LIMIT 1",
	[STMT_REPRINT_INSERT] =
		"INSERT INTO reprint_requests (card_number, report_lost, created_at) VALUES (?, ?, ?)",
	[STMT_REPRINT_LIST] =
		"SELECT id, card_number, report_lost, status, created_at FROM reprint_requests"
		" WHERE ? = '' OR status = ? ORDER BY id DESC LIMIT 200",
	[STMT_REPRINT_GET] =
		"SELECT id, card_number, report_lost, status, created_at FROM reprint_requests WHERE id = ?",
	[STMT_REPRINT_DECIDE] =
		"UPDATE reprint_requests SET status = ?, decided_at = ?, decided_by = ?"
		" WHERE id = ? AND status = 'pending'",
	[STMT_PURGE_ALL] =
		"UPDATE cards SET " ERASE,
	[STMT_PURGE_EXPIRED] =
		"UPDATE cards SET " ERASE " WHERE purged_at IS NULL"
		" AND (expires_on < ? OR (status = 'revoked' AND revoked_at <= ?))",
	[STMT_AUDIT_PAGE] =
		"SELECT id, at, actor, action, subject, detail FROM audit_log"
		" WHERE id < ? ORDER BY id DESC LIMIT ?",
	[STMT_SESSION_DELETE_ALL] =
		"DELETE FROM sessions",
	[STMT_USER_LIST] =
		"SELECT id, username, role, must_change_password, disabled, created_at"
		" FROM users ORDER BY username LIMIT 1000",
	[STMT_USER_BY_ID] =
		"SELECT id, username, role, password_hash, must_change_password, disabled"
		" FROM users WHERE id = ?",
	[STMT_USER_SET_DISABLED] =
		"UPDATE users SET disabled = ? WHERE id = ?",
	[STMT_SESSION_DELETE_USER] =
		"DELETE FROM sessions WHERE user_id = ?",
	[STMT_REPRINT_PENDING_FOR_CARD] =
		"SELECT id, report_lost FROM reprint_requests"
		" WHERE status = 'pending' AND card_number = ? ORDER BY id LIMIT 1",
	[STMT_REPRINT_MARK_LOST] =
		"UPDATE reprint_requests SET report_lost = 1 WHERE id = ?",
	[STMT_AUDIT_HASH_AT] =
		"SELECT hash FROM audit_log WHERE id = ?",
};
