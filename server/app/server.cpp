#include "app/server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <iostream>
#include <map>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <tuple>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "control/commands.h"
#include "control/control_server.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/net.h"
#include "http/phone_http.h"
#include "provision/file_namespace.h"
#include "provision/firmware.h"
#include "store/device_store.h"
#include "sip/sip_service.h"
#include "store/registration_store.h"
#include "tftp/service.h"
#include "store/event_log.h"
#include "store/migrations.h"
#include "store/settings_store.h"
#include "store/writer.h"
#include "store/seen_phone_store.h"
#include "app/auto_registration.h"
#include "dhcp/service.h"
#include "http/admin_auth.h"
#include "http/admin_http.h"
#include "store/admin_store.h"
#include "store/dhcp_store.h"

namespace labcm::app {

namespace asio = boost::asio;
namespace json = boost::json;

DataDirLock::DataDirLock(const DataDir& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir.root, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot create data dir {}: {}", dir.root.string(), ec.message()));
    ::chmod(dir.root.c_str(), 0750);
    std::filesystem::create_directories(dir.files(), ec);
    std::filesystem::create_directories(dir.templates(), ec);
    fd_ = ::open(dir.lockFile().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0)
        throw std::runtime_error(fmt::format("cannot open {}: {}", dir.lockFile().string(), std::strerror(errno)));
    held_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) ::close(fd_); // closing releases the flock
}

std::pair<int, int> migrateDataDir(const DataDir& dir) {
    store::Db db(dir.db().string());
    auto r = store::migrate(db);
    return {r.from, r.to};
}

namespace {

// Loads settings; a database holding an invalid value still starts, on defaults, loudly.
Settings loadSettings(store::Db& db) {
    try {
        return store::SettingsStore(db).load();
    } catch (const FieldErrorException& e) {
        spdlog::error("settings: {}; using the built-in defaults until it is fixed", e.what());
        return Settings{};
    }
}

// A repeating timer on the io thread.
class Ticker {
public:
    Ticker(asio::io_context& io, std::chrono::milliseconds every, std::function<void()> fn)
        : timer_(io), every_(every), fn_(std::move(fn)) {
        arm();
    }
    void cancel() { timer_.cancel(); }

private:
    void arm() {
        timer_.expires_after(every_);
        timer_.async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            fn_();
            arm();
        });
    }
    asio::steady_timer timer_;
    std::chrono::milliseconds every_;
    std::function<void()> fn_;
};

// Every load a model default or device override names, checked against the files dir.
std::vector<provision::LoadCheck> checkFirmware(store::Db& db, const provision::FilesDir& files) {
    std::set<std::string> loads;
    for (const auto& [model, load] : store::ModelDefaultStore(db).all()) loads.insert(load);
    for (const auto& d : store::DeviceStore(db).list())
        if (!d.loadOverride.empty()) loads.insert(d.loadOverride);
    std::vector<provision::LoadCheck> out;
    for (const auto& l : loads) out.push_back(provision::checkLoad(files, l));
    return out;
}

// The registrar's view of one phone.
sip::DeviceView deviceView(const Device& d) {
    sip::DeviceView v{d.mac, d.model, {}, d.digestAuth, {}};
    for (const auto& l : d.lines) {
        v.dns.push_back(l.dn);
        if (!l.authName.empty()) v.credentials.emplace(l.authName, l.authPassword);
    }
    return v;
}

// The registrar's view of the configured phones, and of those being auto-registered.
std::vector<sip::DeviceView> deviceViews(store::Db& db, const std::map<std::string, Device>& pending = {}) {
    std::vector<sip::DeviceView> out;
    for (const auto& d : store::DeviceStore(db).list()) out.push_back(deviceView(d));
    for (const auto& [mac, d] : pending) out.push_back(deviceView(d));
    return out;
}

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Events after which rendered files may differ.
bool changesRenderedFiles(EventKind k) {
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

// After SIGTERM the process ends within the budget (the deploy promise: systemd and Docker
// kill at 10 s anyway): a stop that hangs is logged and cut short. Committed data is safe
// either way (WAL); only work still queued is lost then.
class ShutdownWatchdog {
public:
    ~ShutdownWatchdog() { disarm(); }
    void arm(std::chrono::milliseconds budget) {
        if (thread_.joinable()) return;
        thread_ = std::thread([this, budget] {
            std::unique_lock lock(mutex_);
            if (cv_.wait_for(lock, budget, [this] { return done_; })) return;
            spdlog::critical("shutdown took more than {} s; exiting now", budget.count() / 1000);
            std::_Exit(1);
        });
    }
    void disarm() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

// Events counted by service, kind and severity for /metrics (publish runs on any thread).
class EventCounts {
public:
    explicit EventCounts(EventBus& bus)
        : sub_(bus.subscribe([this](const Event& e) {
              std::lock_guard lock(mutex_);
              ++counts_[{e.service, e.kind, e.severity}];
          })) {}
    std::map<std::tuple<Service, EventKind, Severity>, std::uint64_t> snapshot() const {
        std::lock_guard lock(mutex_);
        return counts_;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::tuple<Service, EventKind, Severity>, std::uint64_t> counts_;
    EventBus::Subscription sub_;
};

// Prometheus text format (version 0.0.4): gauges from the database, counters from the
// services' status and the event stream.
std::string metricsText(store::Db& reader, const EventCounts& counts, const json::object& status) {
    std::string out;
    auto metric = [&out](std::string_view name, std::string_view type, std::string_view help) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    };
    metric("labcm_devices", "gauge", "Configured devices");
    out += fmt::format("labcm_devices {}\n", store::DeviceStore(reader).count());
    metric("labcm_registrations", "gauge", "Devices by registration state (stored)");
    std::map<std::string, int> states{{"registered", 0}, {"unregistered", 0}, {"expired", 0}};
    for (const auto& r : store::RegistrationStore(reader).all()) ++states[r.state];
    for (const auto& [st, n] : states) out += fmt::format("labcm_registrations{{state=\"{}\"}} {}\n", st, n);
    metric("labcm_events_total", "counter", "Events published, by service, kind and severity (requests, registrations, errors)");
    for (const auto& [key, n] : counts.snapshot())
        out += fmt::format("labcm_events_total{{service=\"{}\",kind=\"{}\",severity=\"{}\"}} {}\n",
                           toString(std::get<0>(key)), toString(std::get<1>(key)), toString(std::get<2>(key)), n);
    // The status counters: tftp_* and dhcp.* become labcm_tftp_*_total / labcm_dhcp_*_total.
    for (const auto& [k, v] : status) {
        std::string key(k);
        if (v.is_object()) {
            for (const auto& [k2, v2] : v.as_object())
                if (v2.is_number() && k2 != "port") {
                    bool gauge = k2 == "leases";
                    auto name = fmt::format("labcm_{}_{}{}", key, std::string(k2), gauge ? "" : "_total");
                    metric(name, gauge ? "gauge" : "counter", fmt::format("{} {}", key, std::string(k2)));
                    out += fmt::format("{} {}\n", name, v2.to_number<double>());
                }
        } else if (v.is_number() && !key.ends_with("_port")) {
            bool gauge = key.ends_with("_active");
            auto name = fmt::format("labcm_{}{}", key, gauge ? "" : "_total");
            metric(name, gauge ? "gauge" : "counter", key);
            out += fmt::format("{} {}\n", name, v.to_number<double>());
        }
    }
    return out;
}

} // namespace

int serve(const DataDir& dir) {
    // A phone that drops its TCP connection mid-write must not kill the server.
    ::signal(SIGPIPE, SIG_IGN);
    DataDirLock lock(dir);
    if (!lock.held()) {
        spdlog::error("another labcm holds the data dir {} (lock {}); stop it first", dir.root.string(),
                      dir.lockFile().string());
        return 1;
    }
    auto [from, to] = migrateDataDir(dir);
    spdlog::info("labcm {} starting: data dir {}, database {} (schema {}{})", LABCM_VERSION,
                 dir.display(), dir.db().string(), to,
                 from == to ? "" : fmt::format(", migrated from {}", from));

    asio::io_context io;
    store::Db reader(dir.db().string());
    EventBus bus(limits::kEventRingSize);
    auto logSub = bus.subscribe([](const Event& e) { log::logEvent(e); });
    SettingsHolder settings(loadSettings(reader));
    control::RuntimeInfo info;

    // Writes made outside this process (sqlite3, a restore) are seen by the writer's own
    // data_version; handled on the io thread, which owns the reader.
    store::Writer writer(dir.db().string(), [&] {
        asio::post(io, [&] {
            ++info.externalChanges;
            settings.set(loadSettings(reader));
            bus.publish(Service::System, EventKind::StoreExternalChange, Severity::Info, "", "",
                        "the database was changed outside labcm; settings reloaded, caches dropped");
        });
    });
    store::EventLogSink eventSink(bus, writer);
    // The first run sets the admin password (LABCM_ADMIN_PASSWORD, else a random one, printed
    // once), before anything answers.
    if (!store::AdminStore(reader).passwordHash("admin")) {
        const char* env = std::getenv("LABCM_ADMIN_PASSWORD");
        std::string password = env && *env ? env : admin::randomPassword();
        if (auto problem = admin::passwordProblem(password); !problem.empty()) {
            spdlog::error("LABCM_ADMIN_PASSWORD {}", problem);
            return 1;
        }
        auto hash = admin::hashPassword(password);
        writer.submit([hash, now = nowMs()](store::Db& db) { store::AdminStore(db).setPasswordHash("admin", hash, now); }).get();
        if (env && *env)
            spdlog::info("admin: password set from LABCM_ADMIN_PASSWORD");
        else
            spdlog::warn("admin: first run: the admin password is {} (change it with 'labcm admin password')", password);
    }

    info.dataDir = dir.display();
    info.filesDir = dir.files().string();
    info.mode = "server";
    info.extra = [&] {
        return json::object{{"events_written", eventSink.written()}, {"events_dropped", eventSink.dropped()}};
    };
    // Phone-facing file services: one namespace for HTTP 6970 and TFTP.
    provision::FileNamespace files(reader, settings, dir.files(), dir.templates());
    provision::ClientMacs clientMacs;
    auto invalidateSub = bus.subscribe([&files](const Event& e) {
        if (changesRenderedFiles(e.kind)) files.invalidate();
    });
    auto s0 = settings.get();
    const auto registrar = net::registrarAddress(s0->registrarAddress, s0->bindAddress);

    // SIP registrar: its own thread; saves registrations behind itself through the writer.
    // The registrar's saves go behind it through the writer; a failure is logged, never fatal.
    // After a registration commits, the admin page's live list gets the phone's new row.
    std::unique_ptr<admin::AdminHttpServer> adminHttp;
    app::RecentSightings sightings;
    auto saveBehind = [&](const std::string& mac, const char* what, std::function<void(store::Db&)> job, bool notify,
                          std::function<void()> done = {}) {
        try {
            writer.submit(std::move(job), [&io, &adminHttp, mac, what, notify, done](store::Outcome<std::monostate> o) {
                if (done) done();
                if (o.error) spdlog::error("sip mac={}: {} not saved", mac, what);
                else if (notify)
                    asio::post(io, [&adminHttp, mac] {
                        if (adminHttp) adminHttp->deviceChanged(mac);
                    });
            });
        } catch (const std::exception& e) {
            spdlog::error("sip mac={}: {} not saved: {}", mac, what, e.what());
        }
    };
    sip::SipService sipService(
        {s0->bindAddress, s0->sipPort, s0->registerExpires, registrar}, bus,
        [&saveBehind](store::RegistrationRecord r) {
            saveBehind(r.mac, "registration",
                       [r, now = nowMs()](store::Db& db) { store::RegistrationStore(db).save(r, now); }, true);
        },
        [&saveBehind, &sightings](std::string mac, std::string model, std::string ua, std::string ip) {
            // An unknown phone: remembered (with its model) for auto-registration, in memory
            // at once (its next boot may come before the commit), then in the database.
            store::SeenPhone p{mac, model, "sip", ua, ip, 0, 0};
            sightings.add(p);
            saveBehind(mac, "sighting", [p, now = nowMs()](store::Db& db) { store::SeenPhoneStore(db).record(p, now); },
                       false, [&sightings, mac] { sightings.saved(mac); });
        });
    try {
        sipService.start(deviceViews(reader), store::RegistrationStore(reader).live(nowMs()));
    } catch (const std::exception& e) {
        spdlog::error("{} (setting bind_address / sip_port)", e.what());
        return 1;
    }
    // The registrar follows every device change before the change is acknowledged: admin
    // changes are published on the io thread after their commit and before the reply, and
    // setDevices returns once the sofia thread applied them.
    std::unique_ptr<app::AutoRegistration> autoRegistration;
    auto refreshRegistrar = [&] {
        sipService.setDevices(deviceViews(reader, autoRegistration ? autoRegistration->pending()
                                                                   : std::map<std::string, Device>{}));
    };
    auto sipDevicesSub = bus.subscribe([&](const Event& e) {
        if (!changesRenderedFiles(e.kind)) return;
        if (io.get_executor().running_in_this_thread()) refreshRegistrar();
        else asio::post(io, refreshRegistrar);
    });

    // DHCP: off until a pool exists; the socket opens with the first pool.
    dhcp::DhcpService dhcpService(io, writer, bus);

    control::Commands commands({reader, writer, bus, settings, info,
                                [&io](std::function<void()> f) { asio::post(io, std::move(f)); },
                                [&](const std::string& mac, const std::string& action,
                                    std::function<void(json::object)> reply) {
                                    // The stamp of the config the phone will fetch, so apply-config/check-version
                                    // compare against what labcm serves now.
                                    std::string stamp;
                                    auto f = files.resolve("SEP" + mac + ".cnf.xml");
                                    if (auto a = f.body.find("<versionStamp>"); a != std::string::npos) {
                                        auto b = f.body.find("</versionStamp>", a);
                                        if (b != std::string::npos) stamp = f.body.substr(a + 14, b - a - 14);
                                    }
                                    sipService.control(mac, *sip::parsePhoneAction(action), stamp,
                                                       [&io, reply](sip::ControlResult r) {
                                                           asio::post(io, [reply, r] {
                                                               if (!r.sent || r.status >= 300) {
                                                                   // Not registered (409), or the phone (or sofia, for a
                                                                   // timeout or a dead connection) said no (502).
                                                                   reply(control::Commands::errorReply(std::make_exception_ptr(
                                                                       control::CommandError(r.sent ? 502 : 409,
                                                                                             r.sent ? "phone_refused" : "not_registered",
                                                                                             "device", r.detail))));
                                                                   return;
                                                               }
                                                               json::object res{{"status", r.status},
                                                                                {"phrase", r.phrase},
                                                                                {"detail", r.detail}};
                                                               reply({{"ok", true}, {"result", res}});
                                                           });
                                                       });
                                },
                                [&dhcpService](std::uint32_t address) { dhcpService.forget(address); }});
    control::ControlServer control(io, dir.socket(), commands);

    // Auto-registration (app/auto_registration.h): the registrar knows a device being
    // created before the file rendered for it is served.
    autoRegistration = std::make_unique<app::AutoRegistration>(app::AutoRegistration::Deps{
        reader, settings, bus, commands, sightings, [&](const Device& d) { sipService.addDevice(deviceView(d)); },
        refreshRegistrar});
    files.setAutoRegistration(
        [&](const std::string& mac, std::string& why) { return autoRegistration->decide(mac, why); });

    std::unique_ptr<http::PhoneHttpServer> phoneHttp;
    try {
        phoneHttp = std::make_unique<http::PhoneHttpServer>(
            io, asio::ip::tcp::endpoint(asio::ip::make_address(s0->bindAddress), s0->httpPort), files, bus, clientMacs);
    } catch (const std::exception& e) {
        spdlog::error("cannot listen for HTTP on {}:{}: {} (setting bind_address / http_port)", s0->bindAddress,
                      s0->httpPort, e.what());
        return 1;
    }
    std::unique_ptr<tftp::TftpService> tftpService;
    try {
        tftpService = std::make_unique<tftp::TftpService>(
            io, asio::ip::udp::endpoint(asio::ip::make_address(s0->bindAddress), s0->tftpPort), files, bus, clientMacs);
    } catch (const std::exception& e) {
        spdlog::error("cannot listen for TFTP on {}:{}: {} (setting bind_address / tftp_port; port 69 needs root or "
                      "CAP_NET_BIND_SERVICE)",
                      s0->bindAddress, s0->tftpPort, e.what());
        return 1;
    }
    // DHCP follows the pools, the devices (reservations, cisco-only) and the settings.
    auto dhcpDevices = [&] {
        std::map<std::string, dhcp::Addr> reserved;
        store::DeviceStore ds(reader);
        for (const auto& [mac, a] : ds.reservations())
            if (auto addr = dhcp::parseAddr(a)) reserved.emplace(mac, *addr);
        dhcpService.setDevices(std::move(reserved), ds.macs());
    };
    auto dhcpConfigure = [&]() -> std::string {
        std::vector<dhcp::Pool> pools;
        store::DhcpStore ds(reader);
        for (const auto& spec : ds.pools()) {
            dhcp::Pool p;
            if (auto e = dhcp::buildPool(spec, p)) {
                spdlog::error("dhcp: pool {} is not valid and is skipped: {}: {}", spec.name, e->field, e->message);
                continue;
            }
            pools.push_back(std::move(p));
        }
        if (pools.empty()) {
            if (dhcpService.running()) spdlog::info("dhcp: no pool left; the DHCP server is off");
            dhcpService.stop();
            return {};
        }
        auto s = settings.get();
        dhcp::ServiceConfig c{s->dhcpInterface, s->bindAddress, s->dhcpPort, s->dhcpCiscoOnly,
                              s->bindAddress == "0.0.0.0" ? std::string() : s->bindAddress};
        try {
            bool was = dhcpService.running();
            auto before = dhcpService.localEndpoint();
            const auto count = pools.size();
            dhcpService.configure(c, std::move(pools), [&ds] { return ds.leases(); });
            if (!was || before != dhcpService.localEndpoint())
                spdlog::info("dhcp: serving {} pool(s) on {}:{}{}{}", count,
                             dhcpService.localEndpoint().address().to_string(), dhcpService.localEndpoint().port(),
                             c.interface.empty() ? "" : " interface " + c.interface,
                             c.ciscoOnly ? ", Cisco phones only" : "");
        } catch (const std::exception& e) {
            return e.what();
        }
        return {};
    };
    dhcpDevices();
    if (auto err = dhcpConfigure(); !err.empty()) {
        spdlog::error("{}", err);
        return 1;
    }
    // Like the registrar, DHCP takes a change before it is acknowledged (on the io thread).
    auto onIo = [&io](std::function<void()> f) {
        if (io.get_executor().running_in_this_thread()) f();
        else asio::post(io, std::move(f));
    };
    auto dhcpSub = bus.subscribe([&](const Event& e) {
        if (e.kind == EventKind::DhcpPoolChanged || e.kind == EventKind::SettingChanged ||
            e.kind == EventKind::StoreExternalChange)
            onIo([&] {
                if (auto err = dhcpConfigure(); !err.empty())
                    bus.publish(Service::Dhcp, EventKind::DhcpIgnored, Severity::Error, "", "", "DHCP not serving: " + err);
            });
        if (changesRenderedFiles(e.kind)) onIo(dhcpDevices);
    });

    // The control socket answers only once io.run() runs, so the services exist by then.
    auto dhcpJson = [&]() -> json::value {
        if (!dhcpService.running()) return nullptr;
        const auto& c = dhcpService.counters();
        return json::object{{"port", dhcpService.localEndpoint().port()},
                            {"received", c.received},
                            {"dropped", c.dropped},
                            {"ignored", c.ignored},
                            {"offers", c.offers},
                            {"acks", c.acks},
                            {"naks", c.naks},
                            {"releases", c.releases},
                            {"declines", c.declines},
                            {"informs", c.informs},
                            {"exhausted", c.exhausted},
                            {"commit_failures", c.commitFailures},
                            {"leases", dhcpService.allocator().leases().size()}};
    };
    info.extra = [&] {
        const auto& t = tftpService->counters();
        return json::object{{"events_written", eventSink.written()},
                            {"events_dropped", eventSink.dropped()},
                            {"http_port", phoneHttp->localEndpoint().port()},
                            {"tftp_port", tftpService->localEndpoint().port()},
                            {"tftp_requests", t.requests},
                            {"tftp_served", t.served},
                            {"tftp_failed", t.failed},
                            {"tftp_dropped", t.dropped},
                            {"tftp_refused", t.refused},
                            {"tftp_active", tftpService->active()},
                            {"renders", files.renders()},
                            {"render_cache_hits", files.cacheHits()},
                            {"sip_port", sipService.port()},
                            {"dhcp", dhcpJson()}};
    };
    // Admin web: the page and API on admin_bind:admin_port (password set above).
    EventCounts eventCounts(bus);
    try {
        adminHttp = std::make_unique<admin::AdminHttpServer>(
            io, asio::ip::tcp::endpoint(asio::ip::make_address(s0->adminBind), s0->adminPort),
            admin::AdminDeps{commands, reader, bus, [&] { return metricsText(reader, eventCounts, info.extra()); },
                             [&info] { return info.ready.load(); }});
    } catch (const std::exception& e) {
        spdlog::error("cannot listen for the admin page on {}:{}: {} (setting admin_bind / admin_port)", s0->adminBind,
                      s0->adminPort, e.what());
        return 1;
    }
    auto adminSub = bus.subscribe([&](const Event& e) {
        switch (e.kind) {
        case EventKind::DeviceAdded:
        case EventKind::DeviceChanged:
        case EventKind::DeviceRemoved:
        case EventKind::LineAdded:
        case EventKind::LineRemoved:
            asio::post(io, [&adminHttp, mac = e.mac] {
                if (adminHttp) adminHttp->deviceChanged(mac);
            });
            break;
        case EventKind::DevicesImported:
        case EventKind::StoreExternalChange:
            asio::post(io, [&adminHttp] {
                if (adminHttp) adminHttp->devicesReloaded();
            });
            break;
        default: break;
        }
    });

    for (const auto& c : checkFirmware(reader, files.files()))
        if (!c.complete())
            bus.publish(Service::System, EventKind::FirmwareIncomplete, Severity::Warning, "", "",
                        c.summary() + " (phones told to use it would fail to upgrade)");

    Ticker flushTicker(io, std::chrono::duration_cast<std::chrono::milliseconds>(limits::kEventFlushInterval),
                       [&] { eventSink.flush(); });

    ShutdownWatchdog watchdog;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec) return;
        watchdog.arm(limits::kShutdownBudget);
        info.ready = false;
        ::sd_notify(0, "STOPPING=1");
        bus.publish(Service::System, EventKind::ServerStopping, Severity::Info, "", "",
                    fmt::format("signal {} received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM"));
        control.stop();
        phoneHttp->stop();
        tftpService->stop();
        dhcpService.stop();
        adminHttp->stop();
        flushTicker.cancel();
        // Let replies already handed to the io thread go out, then stop.
        asio::post(io, [&io] { io.stop(); });
    });

    bus.publish(Service::System, EventKind::ServerStarted, Severity::Info, "", "",
                fmt::format("listening: control socket {}, HTTP {}:{}, TFTP {}:{}, SIP {}:{} udp+tcp, admin page "
                            "http://{}:{}/ (pid {}); phones register to {}; files dir {}",
                            dir.socket().string(), s0->bindAddress, phoneHttp->localEndpoint().port(), s0->bindAddress,
                            tftpService->localEndpoint().port(), s0->bindAddress, sipService.port(), s0->adminBind,
                            adminHttp->localEndpoint().port(), ::getpid(), registrar, dir.files().string()));
    // Every listener is bound (each constructor above binds or throws; SIP binds in start()):
    // ready for the status command, /api/health and systemd (Type=notify).
    info.ready = true;
    ::sd_notifyf(0, "READY=1\nSTATUS=serving, admin page on %s:%u\nMAINPID=%lu", s0->adminBind.c_str(),
                 static_cast<unsigned>(adminHttp->localEndpoint().port()), static_cast<unsigned long>(::getpid()));
    io.run();

    // Shutdown: the registrar stops first (its last saves go to the writer), then
    // everything queued reaches the database before it is closed.
    sipService.stop();
    eventSink.flush().wait();
    writer.stop();
    watchdog.disarm();
    spdlog::info("labcm stopped cleanly ({} transactions, {} events stored, {} dropped)", writer.commits(),
                 eventSink.written(), eventSink.dropped());
    return 0;
}

int healthCheck(const DataDir& dir) {
    try {
        Settings s;
        {
            store::Db db(dir.db().string(), store::Db::Mode::ReadOnly);
            s = loadSettings(db);
        }
        std::string host = s.adminBind == "0.0.0.0" ? "127.0.0.1" : s.adminBind == "::" ? "::1" : s.adminBind;
        asio::io_context io;
        boost::beast::tcp_stream stream(io);
        stream.expires_after(std::chrono::seconds(3));
        stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address(host), s.adminPort));
        boost::beast::http::request<boost::beast::http::empty_body> req{boost::beast::http::verb::get, "/api/health", 11};
        req.set(boost::beast::http::field::host, host);
        boost::beast::http::write(stream, req);
        boost::beast::flat_buffer buf;
        boost::beast::http::response<boost::beast::http::string_body> res;
        boost::beast::http::read(stream, buf, res);
        if (res.result_int() != 200) {
            std::cerr << "labcm health: " << res.result_int() << " " << res.body() << "\n";
            return 1;
        }
        std::cout << res.body() << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "labcm health: " << e.what() << "\n";
        return 1;
    }
}

json::value runDirect(const DataDir& dir, const json::value& request) {
    DataDirLock lock(dir);
    if (!lock.held())
        throw ServerNotAnswering(fmt::format(
            "a labcm server holds {} but its control socket {} does not answer; is it starting or stopping?",
            dir.root.string(), dir.socket().string()));
    migrateDataDir(dir);

    store::Writer writer(dir.db().string());
    store::Db reader(dir.db().string());
    EventBus bus(limits::kEventRingSize);
    store::EventLogSink eventSink(bus, writer);
    SettingsHolder settings(loadSettings(reader));
    control::RuntimeInfo info;
    info.dataDir = dir.display();
    info.filesDir = dir.files().string();
    info.mode = "direct";

    // Completions run inline on the writer thread; this thread waits for the one reply.
    std::promise<json::object> replied;
    control::Commands commands({reader, writer, bus, settings, info, [](std::function<void()> f) { f(); }});
    commands.execute(request, [&](json::object r) { replied.set_value(std::move(r)); });
    auto reply = replied.get_future().get();
    eventSink.flush().wait();
    writer.stop();
    return reply;
}

} // namespace labcm::app
