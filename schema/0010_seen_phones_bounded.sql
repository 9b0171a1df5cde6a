-- labcm schema 10: seen_phones is bounded (issue 19): rows are dropped oldest first past a
-- count and an age (limits::kSeenPhonesMax, kSeenPhoneMaxAge), which needs them by last_seen.
CREATE INDEX seen_phones_by_last_seen ON seen_phones (last_seen);
