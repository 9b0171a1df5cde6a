// Every limit and timeout of labcm in one place, each with its unit and its reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace labcm::limits {

using namespace std::chrono_literals;

// --- devices and lines -----------------------------------------------------------------
/// Lines (buttons) per device. A 8861 with three 36-key KEMs has 10 + 108 buttons; CUCM
/// allows line keys on KEMs, so 128 covers every model with room to spare.
inline constexpr int kMaxLinesPerDevice = 128;
/// Device description, characters. CUCM's device description field is 128 characters.
inline constexpr std::size_t kMaxDescription = 128;
/// DN (line `name`), characters. The SEP file's line name is limited to 30 (reference §1.3).
inline constexpr std::size_t kMaxDn = 30;
/// Line display name and label, characters. featureLabel <= 30 (reference §1.3).
inline constexpr std::size_t kMaxDisplayName = 30;
inline constexpr std::size_t kMaxLabel = 30;
/// Digest auth name / password, characters. Far above any phone's limit (79x2: 12), but
/// bounded so one field cannot bloat the SEP file.
inline constexpr std::size_t kMaxAuthField = 128;
/// Line contact (user part of the REGISTER Contact), characters: a UUID is 36.
inline constexpr std::size_t kMaxContact = 64;
/// Firmware load name (e.g. sip8845_65.14-2-1-0001-14), characters.
inline constexpr std::size_t kMaxLoadName = 64;

// --- CSV import ------------------------------------------------------------------------
/// Whole CSV import, bytes. 16 MiB is ~100k devices with a few lines each.
inline constexpr std::size_t kMaxCsvBytes = 16 * 1024 * 1024;
/// Rows in one import (header excluded). Bounds the all-or-nothing transaction.
inline constexpr std::size_t kMaxCsvRows = 100'000;
/// Columns in one row: 5 device columns + 6 per line for kMaxLinesPerDevice lines.
inline constexpr std::size_t kMaxCsvColumns = 5 + 6 * kMaxLinesPerDevice;
/// One field, bytes. Larger than any valid field; stops a runaway quoted field early.
inline constexpr std::size_t kMaxCsvField = 1024;

// --- SIP trace (issue 22) ---------------------------------------------------------------
/// All phones' kept SIP messages together, bytes (setting sip_trace_messages is per phone).
/// 64 MiB is 100 messages of ~1 KiB for ~600 phones, the last ~minutes of a 10,000-phone lab.
inline constexpr std::size_t kSipTraceBytes = 64 * 1024 * 1024;
/// A server-wide capture (labcm capture): longest, and largest file.
inline constexpr auto kCaptureMaxTime = 3600s;
inline constexpr std::uint64_t kCaptureMaxBytes = 1024ull * 1024 * 1024;

// --- control socket --------------------------------------------------------------------
/// One control request or response line, bytes. An import carries its CSV inline.
inline constexpr std::size_t kMaxControlMessage = kMaxCsvBytes + 64 * 1024;
/// A client that sends nothing for this long is disconnected.
inline constexpr auto kControlIdleTimeout = 30s;
/// Concurrent control connections; the CLI opens one per command.
inline constexpr std::size_t kMaxControlConnections = 32;
/// How long the CLI keeps retrying when a server holds the data dir but its control socket
/// does not answer yet (it is starting: migrating a large database takes a moment).
inline constexpr auto kControlStartWait = 10s;
/// Pause between those retries.
inline constexpr auto kControlRetryPause = 100ms;
/// How long the CLI waits for the running server to answer one command (an import of
/// kMaxCsvRows rows commits in a few seconds).
inline constexpr auto kControlClientTimeout = 120s;

// --- store -----------------------------------------------------------------------------
/// Jobs committed together in one transaction by the writer thread (group commit).
inline constexpr std::size_t kWriterMaxBatch = 256;
/// The writer, under load (its last commit ended less than this ago), waits this long for more
/// jobs before it commits: fewer, larger transactions, each write acknowledged this much later.
inline constexpr std::chrono::milliseconds kWriterGroupWindow{2};
/// Jobs waiting for the writer before submit() refuses new ones (back pressure).
inline constexpr std::size_t kWriterMaxQueue = 65'536;
/// SQLite busy timeout: only the CLI in direct mode or an outside tool contends.
inline constexpr auto kSqliteBusyTimeout = 5000ms;
/// How often `serve` checks PRAGMA data_version for writes made outside the process.
inline constexpr auto kDataVersionPollInterval = 1000ms;

// --- events ----------------------------------------------------------------------------
/// Recent events kept in memory for live subscribers that (re)connect.
inline constexpr std::size_t kEventRingSize = 4096;
/// Events waiting to be written to SQLite; beyond this they are dropped and counted.
inline constexpr std::size_t kEventPendingMax = 16'384;
/// Events are written to SQLite in batches at least this often.
inline constexpr auto kEventFlushInterval = 250ms;
/// Rows kept in the events table; older rows are pruned in batches.
inline constexpr std::int64_t kEventRetentionRows = 200'000;
/// Distinct SQL texts whose prepared statements a connection keeps for reuse.
inline constexpr std::size_t kSqlStatementsKept = 256;
/// Event detail text, bytes; longer details are cut.
inline constexpr std::size_t kMaxEventDetail = 1024;

// --- provisioning (TFTP and HTTP 6970) -------------------------------------------------
/// A requested file name, bytes. TFTP's own limit is one datagram; 255 covers every name a
/// phone asks for (the longest are locale paths such as English_United_States/sl-bev-sip.jar).
inline constexpr std::size_t kMaxRequestName = 255;
/// Rendered files kept in memory (about 8 KiB each: 60,000 are ~500 MiB). A lab larger than
/// this has its other files rendered per request.
inline constexpr std::size_t kRenderCacheEntries = 60'000;
/// Firmware loads whose completeness the file namespace remembers (one per load named by a
/// model default or a device); past this they are all checked again.
inline constexpr std::size_t kLoadChecksKept = 1'024;
/// A folder whose mtime is this close to now may change again within the same timestamp
/// tick: the render cache does not trust its stamp until it is older (git's racy rule).
inline constexpr auto kRacyStampWindow = 2s;
/// Files rendered ahead of the phones per turn of the io thread (after start or a lab-wide
/// change), so requests are answered between turns.
inline constexpr std::size_t kRenderWarmBatch = 32;
/// File descriptors `serve` wants (a TCP connection per registered phone of a 10,000-phone
/// lab, HTTP connections, TFTP transfers, SQLite); fewer is logged as a warning at start.
inline constexpr std::uint64_t kWantedDescriptors = 32'768;
/// Concurrent HTTP 6970 connections; more are answered 503 at once. Each costs a descriptor
/// and a few KiB. In a storm of 10,000 phones at 1,000/s (tests/bench/boot-storm.sh), a cap
/// of 512 turned 16,000-21,000 requests away; 4,096 none.
inline constexpr std::size_t kMaxHttpConnections = 4096;
/// Concurrent admin page connections (a handful of browsers and scripts); more are closed.
inline constexpr std::size_t kMaxAdminConnections = 512;
/// Threads that run the phones' HTTP connections: one per core of a 2-core lab box (the main
/// io thread renders and runs TFTP, DHCP and the admin page).
inline constexpr std::size_t kPhoneHttpThreads = 2;
/// Bytes one sendfile(2) call may move before the connection's thread looks at others.
inline constexpr std::size_t kSendfileChunk = 1024 * 1024;
/// An HTTP connection idle this long (no request) is closed.
inline constexpr auto kHttpIdleTimeout = 30s;
/// Largest problem report (PRT) a phone may upload on the phone HTTP port (a 78xx/88xx
/// report is a few MB); a larger one is answered 413 before its body is read.
inline constexpr std::uint64_t kPrtMaxBytes = 64ull * 1024 * 1024;
/// How long one upload may take, from its headers to its last byte.
inline constexpr auto kPrtUploadTimeout = 120s;
/// Request header size, bytes (Beast's default is 8 KiB too).
inline constexpr std::uint32_t kHttpHeaderLimit = 8 * 1024;
/// Sending a response may take this long plus one second per MiB (a 80 MiB rootfs on a
/// slow phone).
inline constexpr auto kHttpWriteTimeoutBase = 60s;
/// Remembered (client IP -> MAC) pairs, so requests without a MAC in the name (dial plan,
/// firmware) are still attributed to a phone.
inline constexpr std::size_t kMaxClientMacs = 16'384;
/// TFTP: concurrent transfers; a request beyond this gets an error (code 0) to retry. In the
/// same storm, 1,024 turned 11,000-19,000 requests away; 4,096 none.
inline constexpr std::size_t kTftpMaxTransfers = 4096;
/// Receive buffer of the TFTP request socket, bytes: ~16,000 requests waiting in a burst.
inline constexpr std::size_t kTftpReceiveBuffer = 8 * 1024 * 1024;
/// Receive buffer of the SIP UDP socket, bytes: ~8,000 REGISTERs of ~1 KiB waiting in a burst.
inline constexpr std::size_t kSipUdpReceiveBuffer = 8 * 1024 * 1024;
/// Receive buffer of each SIP TCP connection, bytes (the kernel doubles it). sofia reads all a
/// connection holds at once and copies the unparsed rest after each message (quadratic in the
/// backlog; past 2 MiB it answers 413 and closes): a small buffer makes a sender that outruns
/// labcm wait in TCP flow control instead. ~60 REGISTERs; a phone sends one at a time.
inline constexpr std::size_t kSipTcpReceiveBuffer = 32 * 1024;
/// TFTP: options in one request (RFC 2347 defines four that matter; clients send <= 6).
inline constexpr std::size_t kTftpMaxOptions = 16;
/// TFTP: block size bounds, bytes (RFC 2348: 8..65464).
inline constexpr std::uint16_t kTftpMinBlockSize = 8;
inline constexpr std::uint16_t kTftpMaxBlockSize = 65464;
/// TFTP: window size cap, blocks (RFC 7440 allows 65535; 64 x 64 KiB = 4 MiB in flight is plenty).
inline constexpr std::uint16_t kTftpMaxWindow = 64;
/// TFTP: retransmission timeout when the client does not ask for one, and the longest one
/// accepted (RFC 2349 allows 1..255 s; a longer ask is ignored, as the RFC says, and the
/// default used: a forged request must not hold a transfer slot for minutes).
inline constexpr auto kTftpDefaultTimeout = 1s;
inline constexpr int kTftpMaxTimeoutSeconds = 10;
/// TFTP: retransmissions of one window before the transfer is given up.
inline constexpr int kTftpMaxRetries = 5;
/// TFTP: retransmissions while the client has acknowledged nothing yet (its source may be
/// forged: each answer to it amplifies a 30-byte request).
inline constexpr int kTftpMaxRetriesUnheard = 1;
/// TFTP: transfers at once from one address (a phone fetches one file at a time).
inline constexpr std::size_t kTftpMaxTransfersPerSource = 8;
/// TFTP: netascii is converted in memory; larger files are refused in that mode (config
/// files are a few KiB; firmware is always fetched in octet mode).
inline constexpr std::size_t kTftpMaxNetasciiFile = 4 * 1024 * 1024;
/// TFTP: a transfer ends (error 0) when it lasts longer than this plus one second per
/// kTftpLifetimeBytesPerSecond of its size: a client that acknowledges each block just before
/// the timeout, with the smallest blocks, holds its slot no longer (an 80 MiB firmware file
/// gets ~43 minutes, 32 KiB/s; a config file 30 s).
inline constexpr auto kTftpLifetimeBase = 30s;
inline constexpr std::uint64_t kTftpLifetimeBytesPerSecond = 32 * 1024;
/// SIP: TCP connections at most (each holds a descriptor), and never more than the descriptor
/// limit less kDescriptorReserve; more are closed as they are accepted.
inline constexpr std::size_t kSipMaxConnections = 16'384;
/// Descriptors kept for everything but SIP TCP (HTTP, TFTP, the database, the CLI) when the
/// SIP connection cap is derived from RLIMIT_NOFILE.
inline constexpr std::size_t kDescriptorReserve = 256;
/// SIP: a TCP connection that holds no registration this long after it was accepted, or after
/// its registration ended, is shut down (a scanner's, or one of many opened to use up
/// descriptors; a phone registers within a second of connecting).
inline constexpr std::chrono::milliseconds kSipUnregisteredConnection = 10s;
/// SIP: sofia-sip's own log lines reach labcm's log at most this often, with a count of the
/// lines left out.
inline constexpr auto kSipStackLogInterval = 1s;
/// HTTP ports: while no descriptor is left (EMFILE), accepting pauses this long between tries
/// instead of retrying at once.
inline constexpr auto kAcceptPauseNoDescriptors = 100ms;
/// Admin port: connections one address may hold open (a browser opens six and a stream).
inline constexpr std::size_t kAdminConnectionsPerAddress = 32;
/// SIP: a phone that misses its refresh counts as gone this long after its expiry (CUCM
/// declares a phone unregistered ~15 s after a missed keep-alive).
inline constexpr auto kSipExpiryGrace = 15s;
/// SIP: how long the io thread waits for the registrar to take a device change before it
/// acknowledges the change (normally well under a millisecond; a stuck sofia thread must not
/// stop the admin page, so the change is then applied late and logged).
inline constexpr std::chrono::milliseconds kSipApplyWait = 2s;
/// Keep-alive refreshes are saved together this often (the latest per phone): a write per
/// batch, not per keep-alive; the admin page sees a refresh at most this much later.
inline constexpr std::chrono::milliseconds kSipRefreshSaveInterval{250};
/// A .loads file larger than this is not a .loads file (real ones are < 4 KiB).
inline constexpr std::size_t kMaxLoadsFile = 64 * 1024;
/// Firmware import (labcm firmware import): one file of a package (a 88xx rootfs is 60-80 MB),
/// all of it, its entries, how deep archives inside it are opened (a 79xx zip holds a .tar),
/// and how far into a COP the gzip stream after its signed header is looked for.
inline constexpr std::uint64_t kFirmwareImportMaxFile = 512ull << 20;
inline constexpr std::uint64_t kFirmwareImportMaxTotal = 4ull << 30;
inline constexpr std::size_t kFirmwareImportMaxEntries = 4'096;
inline constexpr int kFirmwareImportDepth = 2;
inline constexpr std::size_t kFirmwareHeadSearch = 64 * 1024;

// --- auto-registration -----------------------------------------------------------------
/// Devices auto-registration may create at once, then one per interval: a lab powering up
/// a box of phones gets them all within a minute; a flood of invented MACs cannot fill the
/// DN range faster than that (and only MACs seen sending a REGISTER qualify at all).
inline constexpr int kAutoRegBurst = 20;
inline constexpr auto kAutoRegInterval = 1s;
/// Sightings of unknown phones (a REGISTER answered 404) held in memory until their row is
/// committed, so the phone's next boot finds it; beyond this many the oldest wait for the
/// database (a flood of invented MACs cannot grow memory).
inline constexpr std::size_t kPendingSightings = 4096;
/// Sightings from REGISTERs (whose UDP source can be forged) are recorded at most this fast:
/// per source address a burst, then one per interval (a phone sends one per boot), and for
/// all sources together; the rest are answered as usual but not recorded (counted). At most
/// kSightingSources addresses are tracked.
inline constexpr int kSightingsPerSourceBurst = 20;
inline constexpr auto kSightingsPerSourceInterval = 3s;
inline constexpr int kSightingsBurst = 500;
inline constexpr auto kSightingsInterval = std::chrono::milliseconds(10);
inline constexpr std::size_t kSightingSources = 4096;

/// Phones seen but not provisioned (table seen_phones, the models auto-registration uses):
/// at most this many, the longest unseen dropped first; none older than kSeenPhoneMaxAge; a
/// User-Agent or vendor class kept to kSeenPhoneDetail bytes.
inline constexpr std::size_t kSeenPhonesMax = 10'000;
inline constexpr auto kSeenPhoneMaxAge = std::chrono::hours(24 * 30);
inline constexpr std::size_t kSeenPhoneDetail = 200;
/// A registration row (one per device) keeps each text the phone sent (Contact, Call-ID,
/// User-Agent, Reason) to this many bytes: a REGISTER over TCP may be 2 MiB.
inline constexpr std::size_t kRegistrationText = 1024;

// --- dhcp ------------------------------------------------------------------------------
/// An offered address stays held for the client this long (a phone REQUESTs within a second;
/// RFC 2131 leaves the time to the server).
inline constexpr auto kDhcpOfferHold = 60s;
/// A declined address (another host answers ARP for it) stays out of the pool this long.
inline constexpr auto kDhcpDeclineHold = 10min;
/// DHCP datagrams read per wake-up of the DHCP thread: REQUESTs in a batch are answered
/// before its DISCOVERs (and the sweep timer and the writer's ACKs run between batches).
inline constexpr int kDhcpReadBatch = 256;
/// A DISCOVER that waited longer than this in the socket's queue is dropped unanswered: its
/// client has retransmitted (RFC 2131 4.1: about 4 s at first) or moved on.
inline constexpr auto kDhcpDiscoverMaxAge = 2s;
/// DHCP: how often the leases that ended without a renewal are marked expired (and saved),
/// and how many at most per turn (the rest in the next turn at once).
inline constexpr auto kDhcpSweepInterval = 10s;
inline constexpr std::size_t kDhcpSweepBatch = 2000;
/// Clients remembered for the once-a-minute "not answered" event before old entries go.
inline constexpr std::size_t kDhcpQuietClients = 4096;

// --- admin web ---------------------------------------------------------------------------
/// A login lasts while used: it ends after this long without a request.
inline constexpr auto kAdminSessionIdle = 8h;
/// Sessions kept at once; the least recently used goes first.
inline constexpr std::size_t kAdminMaxSessions = 256;
/// Failed logins per client address within the window, then it waits out the window.
inline constexpr int kAdminLoginFailures = 5;
inline constexpr auto kAdminLoginWindow = 5min;
/// Password checks running at once (each takes ~0.1 s and 64 MiB by design).
inline constexpr int kAdminMaxVerifying = 4;
/// Largest request body (a CSV import of tens of thousands of phones): POST /api/import only.
inline constexpr std::size_t kAdminBodyLimit = kMaxCsvBytes + 64 * 1024;
/// Largest body of any other API request (a device with its lines is a few KiB).
inline constexpr std::size_t kAdminApiBodyLimit = 256 * 1024;
/// Calls labcm follows at once (answered, not hung up): a lab of 10,000 phones has at most
/// 5,000; each is ~200 bytes. Past it a new INVITE is answered 503 with Retry-After.
inline constexpr std::size_t kSipMaxCalls = 50'000;
/// Numbers one phone may SUBSCRIBE to at once (BLF presence): a key expansion module holds
/// a few dozen keys; past this a SUBSCRIBE for another number gets 403, so no phone can
/// make labcm keep state for every number of the lab.
inline constexpr std::size_t kSipMaxSubscriptionsPerPhone = 256;
/// How long labcm waits for the final answer to an INVITE branch it cancelled before it ends
/// the branch as 408 (64 x T1, timer B).
inline constexpr auto kSipCancelledWait = 32s;
/// Largest upload (POST /api/firmware/import, /api/locales/install): streamed to a file in
/// the files folder, never held in memory. Cisco's largest phone package (a 78xx/88xx COP) is
/// ~300 MiB; one upload at a time.
inline constexpr std::uint64_t kAdminUploadLimit = 2ull * 1024 * 1024 * 1024;
/// Largest login body ({"password": ...}).
inline constexpr std::size_t kAdminLoginBodyLimit = 4 * 1024;
/// Live pages (Server-Sent Events) open at once.
inline constexpr std::size_t kAdminMaxStreams = 64;
/// A live page this far behind is disconnected (it reconnects and reloads).
inline constexpr std::size_t kSseMaxQueueBytes = 32 * 1024 * 1024;
inline constexpr auto kSseWriteTimeout = 30s;
/// A comment line this often keeps proxies from closing an idle stream and finds dead clients.
inline constexpr auto kSsePingInterval = 15s;

// --- shutdown --------------------------------------------------------------------------
/// SIGTERM to exit: the deploy issue promises a clean stop within 10 s.
inline constexpr auto kShutdownBudget = 10s;

} // namespace labcm::limits
