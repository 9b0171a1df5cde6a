-- labcm schema 9: a lease that ends without a renewal is marked 'expired' by the DHCP server's
-- sweep (before, it stayed 'bound' with an end in the past). SQLite cannot change a CHECK in
-- place: the table is copied.
CREATE TABLE dhcp_leases_new (
    address      TEXT PRIMARY KEY,            -- dotted quad
    mac          TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('bound', 'released', 'declined', 'expired')),
    expires      INTEGER NOT NULL,            -- unix ms: lease end, release time, or end of quarantine
    pool         TEXT NOT NULL,
    vendor_class TEXT NOT NULL DEFAULT '',    -- option 60 as sent
    model        TEXT NOT NULL DEFAULT '',    -- parsed from it ('8845')
    hostname     TEXT NOT NULL DEFAULT '',    -- option 12
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO dhcp_leases_new (address, mac, state, expires, pool, vendor_class, model, hostname, updated_at)
    SELECT address, mac, state, expires, pool, vendor_class, model, hostname, updated_at FROM dhcp_leases;
DROP TABLE dhcp_leases;
ALTER TABLE dhcp_leases_new RENAME TO dhcp_leases;
CREATE INDEX dhcp_leases_mac ON dhcp_leases (mac);
