-- Erased card versions: personal data and photo overwritten, the lookup
-- hash randomised; what verification needs (number, version, status,
-- status index, dates, key id) stays.
ALTER TABLE cards ADD COLUMN purged_at INTEGER;
