-- labcm schema 7: the DHCP server. Pools (one per subnet), leases (one row per address, so
-- the database itself can never hold one address for two MACs), and a static reservation
-- per device.
CREATE TABLE dhcp_pools (
    name          TEXT PRIMARY KEY,
    subnet        TEXT NOT NULL,              -- '10.150.0.0/24'
    range_first   TEXT NOT NULL,
    range_last    TEXT NOT NULL,
    routers       TEXT NOT NULL DEFAULT '',   -- option 3, comma-separated
    dns           TEXT NOT NULL DEFAULT '',   -- option 6
    domain        TEXT NOT NULL DEFAULT '',   -- option 15
    ntp           TEXT NOT NULL DEFAULT '',   -- option 42
    tftp          TEXT NOT NULL DEFAULT '',   -- option 150; '' = labcm's own address
    option66      TEXT NOT NULL DEFAULT '',   -- option 66; '' = the first option-150 address
    lease_seconds INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE dhcp_leases (
    address      TEXT PRIMARY KEY,            -- dotted quad
    mac          TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('bound', 'released', 'declined')),
    expires      INTEGER NOT NULL,            -- unix ms: lease end, release time, or end of quarantine
    pool         TEXT NOT NULL,
    vendor_class TEXT NOT NULL DEFAULT '',    -- option 60 as sent
    model        TEXT NOT NULL DEFAULT '',    -- parsed from it ('8845')
    hostname     TEXT NOT NULL DEFAULT '',    -- option 12
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX dhcp_leases_mac ON dhcp_leases (mac);

ALTER TABLE devices ADD COLUMN dhcp_address TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX devices_dhcp_address ON devices (dhcp_address) WHERE dhcp_address <> '';
