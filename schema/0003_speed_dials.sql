-- labcm schema 3: speed-dial and BLF keys. A key sits on a button of its own: no line and
-- no other key may use the same button of the same device (checked by labcm).
CREATE TABLE speed_dials (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    button    INTEGER NOT NULL CHECK (button BETWEEN 1 AND 128),
    number    TEXT NOT NULL CHECK (number <> ''),
    label     TEXT NOT NULL DEFAULT '',
    blf       INTEGER NOT NULL DEFAULT 0 CHECK (blf IN (0, 1)),  -- 1: BLF speed dial (featureID 21)
    PRIMARY KEY (device_id, button)
) WITHOUT ROWID;
