-- labcm schema 1: devices, lines, model defaults, settings, events.
-- Times are unix milliseconds. Applied in one transaction with PRAGMA user_version = 1.

CREATE TABLE devices (
    id            INTEGER PRIMARY KEY,
    mac           TEXT NOT NULL UNIQUE
                  CHECK (length(mac) = 12 AND mac NOT GLOB '*[^0-9A-F]*'),
    model         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    load_override TEXT NOT NULL DEFAULT '',   -- firmware load for this device; '' = model default
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- A line is a button of one device. The same DN may sit on several devices (shared
-- line), so only (device, index) is unique.
CREATE TABLE lines (
    device_id     INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    line_index    INTEGER NOT NULL CHECK (line_index BETWEEN 1 AND 128),
    dn            TEXT NOT NULL CHECK (dn <> ''),
    display_name  TEXT NOT NULL DEFAULT '',
    label         TEXT NOT NULL DEFAULT '',
    auth_name     TEXT NOT NULL DEFAULT '',
    auth_password TEXT NOT NULL DEFAULT '',
    contact       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (device_id, line_index)
) WITHOUT ROWID;
CREATE INDEX lines_by_dn ON lines(dn);

-- Firmware load per model (without ".loads"), used when a device has no override.
CREATE TABLE model_defaults (
    model      TEXT PRIMARY KEY,
    load       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Only settings that differ from the built-in defaults have a row.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- The per-phone event stream, written in batches; pruned to a bounded number of rows.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    time     INTEGER NOT NULL,
    mac      TEXT NOT NULL DEFAULT '',
    ip       TEXT NOT NULL DEFAULT '',
    service  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    severity TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_mac ON events(mac, id);
