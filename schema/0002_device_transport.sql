-- labcm schema 2: the SIP transport each phone is told to use (transportLayerProtocol in
-- its SEP file: tcp = 1, udp = 2). The registrar listens on both.
ALTER TABLE devices ADD COLUMN transport TEXT NOT NULL DEFAULT 'tcp' CHECK (transport IN ('tcp', 'udp'));
