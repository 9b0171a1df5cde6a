-- labcm schema 6: phones seen on the network that are not in the device table (an unknown
-- REGISTER now, DHCP option 60 later), with the model they reported. Auto-registration
-- creates devices only for MACs listed here, so random file names never use up the DN range.
CREATE TABLE seen_phones (
    mac        TEXT PRIMARY KEY,
    model      TEXT NOT NULL DEFAULT '',   -- labcm model name ("8845"), '' when not reported
    source     TEXT NOT NULL,              -- 'sip' (REGISTER), 'dhcp' (option 60)
    detail     TEXT NOT NULL DEFAULT '',   -- user agent or vendor class, as sent
    address    TEXT NOT NULL DEFAULT '',
    first_seen INTEGER NOT NULL,           -- unix milliseconds
    last_seen  INTEGER NOT NULL
) WITHOUT ROWID;
