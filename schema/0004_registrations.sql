-- labcm schema 4: SIP registrations, written behind the registrar (the sofia thread answers
-- from memory) so a restart restores who was registered, and the admin sees the loads.
-- One row per device: its latest registration state. Times are unix milliseconds.
CREATE TABLE registrations (
    mac           TEXT PRIMARY KEY,
    state         TEXT NOT NULL CHECK (state IN ('registered', 'unregistered', 'expired')),
    contact       TEXT NOT NULL DEFAULT '',
    call_id       TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',   -- "tcp:10.0.0.50:51234"
    transport     TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    model_id      INTEGER,                    -- +u.sip!model.ccm.cisco.com
    active_load   TEXT NOT NULL DEFAULT '',
    inactive_load TEXT NOT NULL DEFAULT '',
    alarm         INTEGER NOT NULL DEFAULT -1,
    last_reason   TEXT NOT NULL DEFAULT '',   -- Last= of the Reason header
    lines         INTEGER NOT NULL DEFAULT 0,
    registered_at INTEGER NOT NULL DEFAULT 0,
    expires_at    INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
