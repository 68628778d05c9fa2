-- Residents' requests for a reprint, or reports of a lost card. Only the
-- card number is kept: no free text, no contact details.
CREATE TABLE reprint_requests (
	id          INTEGER PRIMARY KEY,
	card_number TEXT NOT NULL,
	report_lost INTEGER NOT NULL DEFAULT 0,
	status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
	created_at  INTEGER NOT NULL,
	decided_at  INTEGER,
	decided_by  TEXT
);
CREATE INDEX reprint_requests_status ON reprint_requests(status, id);
