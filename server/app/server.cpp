// `labcm serve`: the wiring. A Server's members are the services, built in order (each
// constructor binds its socket or throws) and torn down in reverse; the policies live in
// their own folders (auto-registration, phone control, metrics, DHCP pools). Which event
// reaches which service is one table, Server::followers().
#include "app/server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/auto_registration.h"
#include "app/lifecycle.h"
#include "app/metrics.h"
#include "app/phone_control.h"
#include "core/leased_addresses.h"
#include "core/rate_limiter.h"
#include "control/commands.h"
#include "control/control_server.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/net.h"
#include "dhcp/service.h"
#include "http/admin_http.h"
#include "http/phone_http.h"
#include "provision/firmware_import.h"
#include "provision/file_namespace.h"
#include "provision/firmware.h"
#include "provision/problem_reports.h"
#include "sip/sip_service.h"
#include "sip/sip_trace.h"
#include "store/admin_store.h"
#include "store/device_store.h"
#include "dhcp/dhcp_store.h"
#include "store/event_log.h"
#include "store/registration_saver.h"
#include "store/registration_store.h"
#include "store/seen_phone_store.h"
#include "store/settings_store.h"
#include "store/writer.h"
#include "tftp/service.h"
#include "usecases/passwords.h"

namespace labcm::app {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

/// A service that cannot start: logged as it is, and serve() returns 1.
struct StartError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Events after which rendered files, the registrar's devices and DHCP's reservations may differ.
bool changesDevices(EventKind k) {
    switch (k) {
    case EventKind::DeviceAdded:
    case EventKind::DeviceChanged:
    case EventKind::DeviceRemoved:
    case EventKind::LineAdded:
    case EventKind::LineRemoved:
    case EventKind::DevicesImported:
    case EventKind::SettingChanged:
    case EventKind::ModelDefaultChanged:
    case EventKind::StoreExternalChange: return true;
    default: return false;
    }
}

// Rendered files depend on the devices, the dial plan's own patterns and the phone settings.
bool changesRenders(EventKind k) {
    return changesDevices(k) || k == EventKind::DialPlanChanged || k == EventKind::PhoneSettingChanged;
}

// The calls in progress as the API and the CLI show them.
json::array callsJson(const std::vector<sip::ActiveCall>& calls) {
    json::array out;
    const auto now = std::chrono::system_clock::now();
    for (const auto& c : calls)
        out.push_back({{"call_id", c.callId},
                       {"caller", "SEP" + c.callerMac},
                       {"caller_dn", c.callerDn},
                       {"number", c.number},
                       {"callee", c.calleeMac.empty() ? std::string("trunk") : "SEP" + c.calleeMac},
                       {"answered_ms", std::chrono::duration_cast<std::chrono::milliseconds>(c.answered.time_since_epoch()).count()},
                       {"seconds", std::chrono::duration_cast<std::chrono::seconds>(now - c.answered).count()}});
    return out;
}

bool changesMailboxes(EventKind k) { return k == EventKind::MailboxChanged || k == EventKind::StoreExternalChange; }

bool changesDhcpConfig(EventKind k) {
    return k == EventKind::DhcpPoolChanged || k == EventKind::SettingChanged || k == EventKind::StoreExternalChange;
}

// Events that start or end a phone's DHCP lease (the registrar's leased addresses follow them).
bool changesLeases(EventKind k) {
    return k == EventKind::DhcpAcked || k == EventKind::DhcpReleased || k == EventKind::DhcpDeclined ||
           k == EventKind::DhcpExpired;
}

bool changesOneDeviceRow(EventKind k) {
    switch (k) {
    case EventKind::DeviceAdded:
    case EventKind::DeviceChanged:
    case EventKind::DeviceRemoved:
    case EventKind::LineAdded:
    case EventKind::LineRemoved: return true;
    default: return false;
    }
}

bool changesManyDeviceRows(EventKind k) {
    return k == EventKind::DevicesImported || k == EventKind::StoreExternalChange;
}

// The trunk the sip_trunk setting names, in the form the call router compares addresses in.
std::optional<sip::Trunk> trunkOf(const Settings& s) {
    auto t = parseSipTrunk(s.sipTrunk);
    if (!t) return std::nullopt;
    return sip::Trunk{sip::uriHostPort(fmt::format("sip:{}:{}", sip::uriHost(t->host), t->port)), t->transport};
}

// The registrar's view of one phone.
sip::DeviceView deviceView(const Device& d) {
    sip::DeviceView v{d.mac, d.model, {}, d.digestAuth, {}};
    for (const auto& l : d.lines) {
        v.dns.push_back(l.dn);
        v.displayNames.push_back(l.displayName);
        if (!l.authName.empty()) v.credentials.emplace(l.authName, l.authPassword);
    }
    for (const auto& key : d.speedDials)
        if (key.blf && std::find(v.blfTargets.begin(), v.blfTargets.end(), key.number) == v.blfTargets.end())
            v.blfTargets.push_back(key.number);
    return v;
}

// The registrar's view of the configured phones, and of those being auto-registered.
std::vector<sip::DeviceView> deviceViews(store::Db& db, const std::map<std::string, Device>& pending = {}) {
    std::vector<sip::DeviceView> out;
    for (const auto& d : store::DeviceStore(db).list()) out.push_back(deviceView(d));
    for (const auto& [mac, d] : pending) out.push_back(deviceView(d));
    return out;
}

// The first run sets the admin password (LABCM_ADMIN_PASSWORD, else a random one, written to
// a 0600 file in the data dir whose name is logged: logs are read by more people than the
// admin), before anything answers.
void ensureAdminPassword(store::Db& reader, store::Writer& writer, const DataDir& dir) {
    if (store::AdminStore(reader).passwordHash("admin")) return;
    const char* env = std::getenv("LABCM_ADMIN_PASSWORD");
    std::string password = env && *env ? env : usecases::randomPassword();
    if (auto problem = usecases::passwordProblem(password); !problem.empty())
        throw StartError(fmt::format("LABCM_ADMIN_PASSWORD {}", problem));
    if (!(env && *env)) {
        const auto file = dir.adminPasswordFile();
        int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const std::string line = password + "\n";
        if (fd < 0 || ::fchmod(fd, 0600) != 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            if (fd >= 0) ::close(fd);
            throw StartError(fmt::format("cannot write the first admin password to {}: {}", file.string(), std::strerror(errno)));
        }
        ::close(fd);
    }
    auto hash = usecases::hashPassword(password);
    writer.submit([hash, now = wallClockMs()](store::Db& db) { store::AdminStore(db).setPasswordHash("admin", hash, now); })
        .get();
    if (env && *env) spdlog::info("admin: password set from LABCM_ADMIN_PASSWORD");
    else
        spdlog::warn("admin: first run: the admin password is in {} (readable by its owner only; delete it once "
                     "read, change it with 'labcm admin password')", std::filesystem::absolute(dir.adminPasswordFile()).string());
}

// Builds a listener; a bind failure becomes a StartError naming the settings to check.
template <class T, class... Args>
std::unique_ptr<T> listen(const std::string& what, Args&&... args) {
    try {
        return std::make_unique<T>(std::forward<Args>(args)...);
    } catch (const std::exception& e) {
        throw StartError(fmt::format(fmt::runtime(what), e.what()));
    }
}

json::value dhcpStatus(dhcp::DhcpService& d) {
    auto s = d.status();
    if (!s) return nullptr;
    const auto& c = s->counters;
    return json::object{{"port", s->at.port()},
                        {"received", c.received},
                        {"dropped", c.dropped},
                        {"overflow", s->overflow},
                        {"stale_discovers", s->staleDiscovers},
                        {"ignored", c.ignored},
                        {"offers", c.offers},
                        {"acks", c.acks},
                        {"naks", c.naks},
                        {"releases", c.releases},
                        {"declines", c.declines},
                        {"informs", c.informs},
                        {"exhausted", c.exhausted},
                        {"commit_failures", c.commitFailures},
                        {"expired", c.expired},
                        {"leases", s->leases}};
}

class Server {
public:
    explicit Server(const DataDir& dir);
    int run();

private:
    // --- what follows which events ------------------------------------------------------
    enum class Where { Inline, OnIo, Posted };
    struct Follower {
        const char* what;
        bool (*when)(EventKind);
        Where where;
        void (Server::*action)(const Event&);
    };
    static const std::array<Follower, 8>& followers();
    void onEvent(const Event& e);

    void dropRenderCache(const Event& e);
    void warmRenderCache();
    void refreshRegistrar(const Event& e);
    void refreshDhcpDevices(const Event&);
    void refreshMailboxes(const Event&) { sip_.setMailboxes(store::MailboxStore(reader_).all()); }
    void reconfigureDhcp(const Event&);
    void adminRow(const Event& e) { adminHttp_->deviceChanged(e.mac); }
    void followLease(const Event& e) {
        if (e.kind == EventKind::DhcpAcked) leased_.bind(e.mac, e.ip);
        else leased_.end(e.mac, e.ip);
    }
    void adminReload(const Event&) { adminHttp_->devicesReloaded(); }

    // --- the pieces ------------------------------------------------------------------------
    void refreshRegistrar();
    void configureDhcp();
    void sipSighting(std::string mac, std::string model, std::string ua, std::string ip);
    json::object status();
    void stop(int sig);

    const DataDir& dir_;
    bool warmScheduled_ = false; ///< a warmRenderCache batch is posted (io thread)
    /// Before io_: its handlers hold phone HTTP connections. One thread each.
    std::array<asio::io_context, limits::kPhoneHttpThreads> phoneHttpIo_;
    asio::io_context io_;
    store::Db reader_;
    EventBus bus_{limits::kEventRingSize};
    EventBus::Subscription logSub_;
    SettingsHolder settings_;
    const std::shared_ptr<const Settings> s0_; ///< the settings at start: addresses and ports
    control::RuntimeInfo info_;
    store::Writer writer_;
    store::EventLogSink eventSink_;
    store::RegistrationSaver registrations_; ///< the registrar's write-behind
    provision::FileNamespace files_;
    provision::ClientMacs clientMacs_;
    provision::ProblemReports reports_;
    sip::SipTrace trace_; ///< each phone's last SIP messages (before sip_, which writes into it)
    RecentSightings sightings_;
    KeyedRateLimiter sightingLimit_{{limits::kSightingsPerSourceBurst, limits::kSightingsPerSourceInterval},
                                    {limits::kSightingsBurst, limits::kSightingsInterval},
                                    limits::kSightingSources};
    net::LeasedAddresses leased_; ///< by labcm's DHCP: a phone registers from its lease
    sip::SipService sip_;
    dhcp::DhcpService dhcp_;
    /// Reads uploaded packages (firmware.import, locale.install) off the io thread; joined
    /// when the io thread ends, before the use cases it reports to are gone.
    asio::thread_pool packages_{1};
    control::Commands commands_;
    std::unique_ptr<control::ControlServer> control_;
    AutoRegistration autoRegistration_;
    std::unique_ptr<http::PhoneHttpServer> phoneHttp_;
    std::unique_ptr<tftp::TftpService> tftp_;
    EventCounts eventCounts_;
    std::unique_ptr<admin::AdminHttpServer> adminHttp_;
    EventBus::Subscription followSub_;
    std::unique_ptr<Ticker> flushTicker_;
    ShutdownWatchdog watchdog_;
    asio::signal_set signals_;
};

// Who follows which events, in order. Inline: on the publishing thread. OnIo: before the
// change is acknowledged (admin changes are published on the io thread after their commit
// and before the reply), else posted to the io thread. Posted: always posted.
const std::array<Server::Follower, 8>& Server::followers() {
    static const std::array<Follower, 8> table{{
        {"render cache", changesRenders, Where::Inline, &Server::dropRenderCache},
        {"registrar devices", changesDevices, Where::OnIo, &Server::refreshRegistrar},
        {"message waiting", changesMailboxes, Where::Posted, &Server::refreshMailboxes},
        {"dhcp pools and settings", changesDhcpConfig, Where::OnIo, &Server::reconfigureDhcp},
        {"dhcp reservations", changesDevices, Where::OnIo, &Server::refreshDhcpDevices},
        {"registrar: leased addresses", changesLeases, Where::Inline, &Server::followLease},
        {"admin page: a phone's row", changesOneDeviceRow, Where::Posted, &Server::adminRow},
        {"admin page: reload", changesManyDeviceRows, Where::Posted, &Server::adminReload},
    }};
    return table;
}

// One device's change drops its files (and, at the next render, the files whose shared-line
// marks or dial plan changed); anything else drops them all. Either way they are rendered
// again ahead of the phones.
void Server::dropRenderCache(const Event& e) {
    if (changesOneDeviceRow(e.kind) && !e.mac.empty()) files_.deviceChanged(e.mac);
    else files_.invalidate();
    asio::post(io_, [this] { warmRenderCache(); });
}

// io thread: one batch per turn, so phones' requests are answered between batches.
void Server::warmRenderCache() {
    if (warmScheduled_) return;
    warmScheduled_ = true;
    asio::post(io_, [this] {
        warmScheduled_ = false;
        if (files_.warm(limits::kRenderWarmBatch)) warmRenderCache();
    });
}

void Server::onEvent(const Event& e) {
    for (const auto& f : followers()) {
        if (!f.when(e.kind)) continue;
        const bool here = f.where == Where::Inline ||
                          (f.where == Where::OnIo && io_.get_executor().running_in_this_thread());
        if (here) (this->*f.action)(e);
        else asio::post(io_, [this, action = f.action, e] { (this->*action)(e); });
    }
}

Server::Server(const DataDir& dir)
    : dir_(dir),
      reader_(dir.db().string()),
      logSub_(bus_.subscribe([](const Event& e) { log::logEvent(e); })),
      settings_(loadSettingsOrDefaults(reader_)),
      s0_(settings_.get()),
      // Writes made outside this process (sqlite3, a restore) are seen by the writer's own
      // data_version; handled on the io thread, which owns the reader.
      writer_(dir.db().string(),
              [this] {
                  asio::post(io_, [this] {
                      ++info_.externalChanges;
                      settings_.set(loadSettingsOrDefaults(reader_));
                      bus_.publish(Service::System, EventKind::StoreExternalChange, Severity::Info, "", "",
                                   "the database was changed outside labcm; settings reloaded, caches dropped");
                  });
              }),
      eventSink_(bus_, writer_),
      registrations_(writer_,
                     [this](std::vector<std::string> macs) {
                         asio::post(io_, [this, macs = std::move(macs)] {
                             if (adminHttp_)
                                 for (const auto& mac : macs) adminHttp_->deviceChanged(mac);
                         });
                     }),
      files_(reader_, settings_, dir.files(), dir.templates()),
      reports_(dir.problemReports(), static_cast<std::size_t>(s0_->prtKept), std::chrono::hours(24 * s0_->prtMaxDays)),
      trace_({static_cast<std::size_t>(s0_->sipTraceMessages), limits::kSipTraceBytes}),
      sip_({s0_->bindAddress, s0_->sipPort, s0_->registerExpires,
            net::registrarAddress(s0_->registrarAddress, s0_->bindAddress), s0_->sipNat,
            static_cast<std::size_t>(s0_->connectionsPerAddress), s0_->sipRequireDigest, trunkOf(*s0_), &trace_},
           bus_,
           [this](store::RegistrationRecord r) { registrations_.save(std::move(r)); },
           [this](std::string mac, std::string model, std::string ua, std::string ip) {
               sipSighting(std::move(mac), std::move(model), std::move(ua), std::move(ip));
           },
           [this](const std::string& mac) { return leased_.of(mac); }),
      dhcp_(writer_, bus_),
      commands_({reader_, writer_, bus_, settings_, info_,
                 [this](std::function<void()> f) { asio::post(io_, std::move(f)); }, phoneControl(io_, files_, sip_),
                 [this](std::uint32_t address) { dhcp_.forget(address); },
                 [this](std::function<void()> f) { asio::post(packages_, std::move(f)); },
                 [this] { return callsJson(sip_.calls()); }, &trace_}),
      autoRegistration_({reader_, settings_, bus_, commands_, sightings_,
                         [this](const Device& d) { sip_.addDevice(deviceView(d)); }, [this] { refreshRegistrar(); }}),
      eventCounts_(bus_),
      signals_(io_, SIGINT, SIGTERM) {
    ensureAdminPassword(reader_, writer_, dir);
    info_.dataDir = dir.display();
    info_.filesDir = dir.files().string();
    auto traced = trace_.persistTo(dir.sipTrace(), std::chrono::hours(24 * s0_->sipTraceMaxDays));
    if (traced) spdlog::info("SIP trace: {} message(s) of the last run loaded from {}", traced, dir.sipTrace().string());
    if (auto n = reports_.prune(std::chrono::system_clock::now()))
        spdlog::info("removed {} problem report(s) past their retention (settings prt_kept, prt_max_days)", n);
    if (int n = provision::removeLeftovers(provision::FilesDir(dir.files())))
        spdlog::info("removed {} upload or import leftover(s) of a process that died from {}", n, dir.files().string());
    info_.mode = "server";
    info_.extra = [this] { return status(); };

    // The SIP registrar: its own thread, binds UDP and TCP here.
    try {
        sip_.start(deviceViews(reader_), store::RegistrationStore(reader_).live(wallClockMs()));
        sip_.setMailboxes(store::MailboxStore(reader_).all());
    } catch (const std::exception& e) {
        throw StartError(fmt::format("{} (setting bind_address / sip_port)", e.what()));
    }
    control_ = listen<control::ControlServer>("cannot listen on the control socket: {}", io_, dir.socket(), commands_);
    files_.setAutoRegistration(
        [this](const std::string& mac, std::string& why) { return autoRegistration_.decide(mac, why); });
    // A load named for phones whose files are incomplete is withheld (found when the files that
    // name it are rendered: at start for every phone, then as the files folder changes).
    files_.setLoadObserver([this](const provision::LoadCheck& c) {
        if (c.complete())
            bus_.publish(Service::System, EventKind::FirmwareComplete, Severity::Info, "", "",
                         c.summary() + ": sent to the phones that use it");
        else
            bus_.publish(Service::System, EventKind::FirmwareIncomplete, Severity::Warning, "", "",
                         c.summary() + ": not sent to phones (they keep the load they run)");
    });

    const auto& s = *s0_;
    const auto bind = asio::ip::make_address(s.bindAddress);
    phoneHttp_ = listen<http::PhoneHttpServer>(
        fmt::format("cannot listen for HTTP on {}:{}: {{}} (setting bind_address / http_port)", s.bindAddress, s.httpPort),
        io_, phoneHttpIo_, asio::ip::tcp::endpoint(bind, s.httpPort), files_, bus_, clientMacs_,
        static_cast<std::size_t>(s.connectionsPerAddress), &reports_);
    tftp_ = listen<tftp::TftpService>(
        fmt::format("cannot listen for TFTP on {}:{}: {{}} (setting bind_address / tftp_port; port 69 needs root or "
                    "CAP_NET_BIND_SERVICE)",
                    s.bindAddress, s.tftpPort),
        io_, asio::ip::udp::endpoint(bind, s.tftpPort), files_, bus_, clientMacs_);
    // DHCP: off until a pool exists; the socket opens with the first pool.
    refreshDhcpDevices({});
    configureDhcp();
    adminHttp_ = listen<admin::AdminHttpServer>(
        fmt::format("cannot listen for the admin page on {}:{}: {{}} (setting admin_bind / admin_port)", s.adminBind,
                    s.adminPort),
        io_, asio::ip::tcp::endpoint(asio::ip::make_address(s.adminBind), s.adminPort),
        admin::AdminDeps{commands_, reader_, bus_, [this] { return metricsText(reader_, eventCounts_, status()); },
                         [this] { return info_.ready.load(); }, dir_.files().string()});
    followSub_ = bus_.subscribe([this](const Event& e) { onEvent(e); });
    // The bound leases as stored; the ACKs from now on are followed (followLease).
    for (const auto& l : dhcp::DhcpStore(reader_).leases())
        if (l.state == dhcp::LeaseState::Bound && l.active(wallClockMs())) leased_.bind(l.mac, dhcp::addrText(l.address));

    flushTicker_ = std::make_unique<Ticker>(
        io_, std::chrono::duration_cast<std::chrono::milliseconds>(limits::kEventFlushInterval), [this] { eventSink_.flush(); });
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
        if (!ec) stop(sig);
    });
}

void Server::refreshRegistrar() { sip_.setDevices(deviceViews(reader_, autoRegistration_.pending())); }

// One phone changed: only its view goes to the registrar, not the whole lab's.
void Server::refreshRegistrar(const Event& e) {
    if (!changesOneDeviceRow(e.kind) || e.mac.empty()) return refreshRegistrar();
    if (auto d = store::DeviceStore(reader_).get(e.mac)) return sip_.addDevice(deviceView(*d));
    const auto& pending = autoRegistration_.pending();
    if (auto it = pending.find(e.mac); it != pending.end()) return sip_.addDevice(deviceView(it->second));
    sip_.removeDevice(e.mac);
}

void Server::refreshDhcpDevices(const Event&) {
    std::map<std::string, dhcp::Addr> reserved;
    store::DeviceStore ds(reader_);
    for (const auto& [mac, a] : ds.reservations())
        if (auto addr = dhcp::parseAddr(a)) reserved.emplace(mac, *addr);
    dhcp_.setDevices(std::move(reserved), ds.macs());
}

void Server::reconfigureDhcp(const Event&) {
    try {
        configureDhcp();
    } catch (const StartError& e) {
        bus_.publish(Service::Dhcp, EventKind::DhcpIgnored, Severity::Error, "", "",
                     fmt::format("DHCP not serving: {}", e.what()));
    }
}

// DHCP follows the pools and the settings. @throw StartError when the socket cannot open.
void Server::configureDhcp() {
    dhcp::DhcpStore ds(reader_);
    std::vector<dhcp::PoolProblem> skipped;
    auto pools = dhcp::buildPools(ds.pools(), skipped);
    for (const auto& p : skipped)
        spdlog::error("dhcp: pool {} is not valid and is skipped: {}: {}", p.pool, p.error.field, p.error.message);
    if (pools.empty()) {
        if (dhcp_.running()) spdlog::info("dhcp: no pool left; the DHCP server is off");
        dhcp_.stop();
        return;
    }
    auto s = settings_.get();
    dhcp::ServiceConfig c{s->dhcpInterface, s->bindAddress, s->dhcpPort, s->dhcpCiscoOnly,
                          s->bindAddress == "0.0.0.0" ? std::string() : s->bindAddress};
    const bool was = dhcp_.running();
    const auto before = dhcp_.localEndpoint();
    const auto count = pools.size();
    try {
        dhcp_.configure(c, std::move(pools), [&ds] { return ds.leases(); });
    } catch (const std::exception& e) {
        throw StartError(e.what());
    }
    if (!was || before != dhcp_.localEndpoint())
        spdlog::info("dhcp: serving {} pool(s) on {}:{}{}{}", count, dhcp_.localEndpoint().address().to_string(),
                     dhcp_.localEndpoint().port(), c.interface.empty() ? "" : " interface " + c.interface,
                     c.ciscoOnly ? ", Cisco phones only" : "");
}

// An unknown phone registered (sofia thread): remembered with its model for auto-registration,
// in memory at once (its next boot may come before the commit), then in the database.
void Server::sipSighting(std::string mac, std::string model, std::string ua, std::string ip) {
    if (!sightingLimit_.allow(ip, KeyedRateLimiter::Clock::now())) return; // a flood of invented MACs
    store::SeenPhone p{mac, std::move(model), "sip", std::move(ua), std::move(ip), 0, 0};
    sightings_.add(p);
    // Saved behind the registrar; a failure is logged, never fatal.
    try {
        writer_.submit([p, now = wallClockMs()](store::Db& db) { store::SeenPhoneStore(db).record(p, now); },
                       [this, mac](store::Outcome<std::monostate> o) {
                           sightings_.saved(mac);
                           if (o.error) spdlog::error("sip mac={}: sighting not saved", mac);
                       });
    } catch (const std::exception& e) {
        spdlog::error("sip mac={}: sighting not saved: {}", mac, e.what());
    }
}

// The services' fields of `labcm status` (and the counters of /metrics).
json::object Server::status() {
    json::object o{{"events_written", eventSink_.written()}, {"events_dropped", eventSink_.dropped()}};
    if (!phoneHttp_ || !tftp_) return o;
    const auto& t = tftp_->counters();
    const auto c = sip_.tcpConnections();
    const auto calls = sip_.callCounters();
    o.insert({{"http_port", phoneHttp_->localEndpoint().port()},
              {"http_busy", phoneHttp_->busy()},
              {"http_refused_address", phoneHttp_->refusedPerAddress()},
              {"tftp_port", tftp_->localEndpoint().port()},
              {"tftp_requests", t.requests},
              {"tftp_served", t.served},
              {"tftp_failed", t.failed},
              {"tftp_dropped", t.dropped},
              {"tftp_refused", t.refused},
              {"tftp_active", tftp_->active()},
              {"renders", files_.renders()},
              {"render_cache_hits", files_.cacheHits()},
              {"render_cache_files", files_.cached()},
              {"render_cache_bytes", files_.cachedBytes()},
              {"sip_port", sip_.port()},
              {"sip_udp_dropped", sip_.udpDropped()},
              {"sip_sightings_limited", sightingLimit_.refused()},
              {"sip_tcp_active", c.open},
              {"sip_tcp_refused_cap", c.refusedTotal},
              {"sip_tcp_refused_address", c.refusedPerAddress},
              {"sip_tcp_refused_descriptors", c.refusedNoDescriptor},
              {"sip_tcp_closed_unregistered", c.closedUnregistered},
              {"sip_calls_attempted", calls.attempted},
              {"sip_calls_answered", calls.answered},
              {"sip_calls_active", calls.active},
              {"sip_trace_messages_active", trace_.messagesKept()},
              {"sip_trace_bytes_active", trace_.bytesKept()},
              {"sip_trace_lost", trace_.lost()},
              {"dhcp", dhcpStatus(dhcp_)}});
    return o;
}

void Server::stop(int sig) {
    watchdog_.arm(limits::kShutdownBudget);
    info_.ready = false;
    ::sd_notify(0, "STOPPING=1");
    bus_.publish(Service::System, EventKind::ServerStopping, Severity::Info, "", "",
                 fmt::format("signal {} received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM"));
    control_->stop();
    phoneHttp_->stop();
    tftp_->stop();
    dhcp_.stop();
    adminHttp_->stop();
    flushTicker_->cancel();
    // Let replies already handed to the io thread go out, then stop.
    asio::post(io_, [this] { io_.stop(); });
}

int Server::run() {
    const auto& s = *s0_;
    bus_.publish(Service::System, EventKind::ServerStarted, Severity::Info, "", "",
                 fmt::format("listening: control socket {}, HTTP {}:{}, TFTP {}:{}, SIP {}:{} udp+tcp, admin page "
                             "http://{}:{}/ (pid {}); phones register to {}; files dir {}",
                             dir_.socket().string(), s.bindAddress, phoneHttp_->localEndpoint().port(), s.bindAddress,
                             tftp_->localEndpoint().port(), s.bindAddress, sip_.port(), s.adminBind,
                             adminHttp_->localEndpoint().port(), ::getpid(),
                             net::registrarAddress(s.registrarAddress, s.bindAddress), dir_.files().string()));
    // Every listener is bound (the constructor bound each or threw): ready for the status
    // command, /api/health and systemd (Type=notify).
    info_.ready = true;
    asio::post(io_, [this] { warmRenderCache(); }); // the first storm after a restart is served from memory
    ::sd_notifyf(0, "READY=1\nSTATUS=serving, admin page on %s:%u\nMAINPID=%lu", s.adminBind.c_str(),
                 static_cast<unsigned>(adminHttp_->localEndpoint().port()), static_cast<unsigned long>(::getpid()));
    io_.run();
    packages_.join(); // an import still reading ends here; its reply has nowhere to go

    // The phone HTTP threads end first: they publish events to subscribers (event counts,
    // the log sink) that are members of this object.
    phoneHttp_.reset();
    // Shutdown: the registrar stops first (its last saves go to the writer), then
    // everything queued reaches the database before it is closed.
    sip_.stop();
    eventSink_.flush().wait();
    writer_.stop();
    watchdog_.disarm();
    spdlog::info("labcm stopped cleanly ({} transactions, {} events stored, {} dropped)", writer_.commits(),
                 eventSink_.written(), eventSink_.dropped());
    return 0;
}

} // namespace

// Every registered TCP phone holds a descriptor, and so does every HTTP connection and TFTP
// transfer: the soft limit (1,024 under systemd) is raised to the hard one, as nginx's
// worker_rlimit_nofile does, and a limit below a lab's needs is said in the log.
void raiseDescriptorLimit() {
    rlimit l{};
    if (::getrlimit(RLIMIT_NOFILE, &l) != 0) return;
    if (l.rlim_cur < l.rlim_max) {
        l.rlim_cur = l.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &l);
        ::getrlimit(RLIMIT_NOFILE, &l);
    }
    if (l.rlim_cur < limits::kWantedDescriptors)
        spdlog::warn("labcm may open at most {} files and connections (RLIMIT_NOFILE); a lab of many TCP phones "
                     "needs more: raise it (systemd LimitNOFILE=, ulimit -n)", l.rlim_cur);
}

int serve(const DataDir& dir) {
    // A phone that drops its TCP connection mid-write must not kill the server.
    ::signal(SIGPIPE, SIG_IGN);
    raiseDescriptorLimit();
    DataDirLock lock(dir);
    if (!lock.held()) {
        spdlog::error("another labcm holds the data dir {} (lock {}); stop it first", dir.root.string(),
                      dir.lockFile().string());
        return 1;
    }
    auto [from, to] = migrateDataDir(dir);
    spdlog::info("labcm {} starting: data dir {}, database {} (schema {}{})", LABCM_VERSION, dir.display(),
                 dir.db().string(), to, from == to ? "" : fmt::format(", migrated from {}", from));
    std::unique_ptr<Server> server;
    try {
        server = std::make_unique<Server>(dir);
    } catch (const StartError& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    return server->run();
}

} // namespace labcm::app
