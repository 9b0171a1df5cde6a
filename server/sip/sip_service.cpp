// The sofia loop. One thread creates and runs the su_root, and every nta, tport and msg call
// happens on it. Jobs from other threads arrive through an eventfd-woken queue; data leaves
// as copies. The REGISTER adapter is register_handler.cpp, phone control phone_control.cpp.
#include "sip/sofia_impl.h"

#include <malloc.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/auth_plugin.h>
#include <sofia-sip/su_log.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "core/net.h"
#include "core/thread_name.h"
#include "sip/registration_record.h"
#include "sip/sip_trace.h"
#include "sip/sofia_loop.h"

namespace labcm::sip {

namespace {

// sofia-sip's log lines go to labcm's log, at most one per limits::kSipStackLogInterval with
// a count of those left out (it logs per failed operation: a flood of them must not become a
// flood of log lines).
/// The SIP trace's tap while one runs: the message log's su_log calls go to it (SIP thread).
std::atomic<WireTap*> activeTap{nullptr};

void sofiaLog(void*, char const* format, va_list ap) {
    if (auto* tap = activeTap.load(std::memory_order_relaxed); tap && tap->onLog(format, ap)) return;
    static std::mutex mutex;
    static std::chrono::steady_clock::time_point next;
    static std::uint64_t leftOut = 0;
    char line[512];
    std::vsnprintf(line, sizeof line, format, ap);
    std::string_view text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    std::lock_guard lock(mutex);
    const auto now = std::chrono::steady_clock::now();
    if (now < next) {
        ++leftOut;
        return;
    }
    next = now + limits::kSipStackLogInterval;
    if (leftOut) spdlog::warn("sip stack: {} ({} more line(s) left out)", text, std::exchange(leftOut, 0));
    else spdlog::warn("sip stack: {}", text);
}

// sofia keeps each call's INVITE client transaction (timer D) and BYE server transaction (timer
// J over UDP) 32 s after the call, with their messages (~19 KB a call), then frees them; glibc
// keeps the freed memory in the sofia thread's arena (it trims an arena only from its top), so
// the PSS of a burst of calls stayed. Once no request was forwarded for this many sweeps (every
// such transaction gone), it goes back to the system: malloc_trim, once per quiet spell.
constexpr unsigned kTrimQuietSweeps = 40;

} // namespace

SipService::Impl::Impl(SipConfig c, EventBus& b, Persist p, UnknownPhone u, LeaseOf l)
    : cfg(std::move(c)), bus(b), persist(std::move(p)), unknown(std::move(u)), leaseOf(std::move(l)), registrar(cfg.grantedSeconds, limits::kSipExpiryGrace),
      guard(limits::kSipMaxConnections, cfg.tcpPerAddress, limits::kSipUnregisteredConnection) {
    registrar.setContactMustBeSource(!cfg.nat);
}

// --- any thread -------------------------------------------------------------------------

void SipService::Impl::post(std::function<void()> job) {
    bool wake;
    {
        std::lock_guard lock(mutex);
        wake = jobs.empty();
        jobs.push_back(std::move(job));
    }
    // Write the eventfd only on empty -> non-empty (reference: 4x cheaper than always).
    if (wake && efd >= 0) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(efd, &one, sizeof one);
    }
}

// Runs `job` on the sofia thread and waits until it ran (at most `budget`): a change the
// caller acknowledges afterwards is then visible to every later request. The sofia
// thread never waits for another thread, so this cannot deadlock; false when the thread
// does not run or the budget passed.
bool SipService::Impl::postAndWait(std::function<void()> job, std::chrono::milliseconds budget) {
    if (!thread.joinable() || std::this_thread::get_id() == thread.get_id()) {
        if (thread.joinable()) job(); // already on the sofia thread
        return thread.joinable();
    }
    auto done = std::make_shared<std::promise<void>>();
    auto applied = done->get_future();
    post([job = std::move(job), done]() mutable {
        job();
        done->set_value();
    });
    try {
        if (applied.wait_for(budget) == std::future_status::ready) {
            applied.get();
            return true;
        }
    } catch (const std::exception&) {
    }
    spdlog::warn("sip: the registrar did not take a change within {} ms; it applies it later", budget.count());
    return false;
}

void SipService::Impl::start(std::vector<DeviceView> devices, std::vector<store::RegistrationRecord> restored) {
    efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
    std::promise<void> ready;
    auto started = ready.get_future();
    thread = std::thread([this, &ready, devices = std::move(devices), restored = std::move(restored)]() mutable {
        nameThisThread("labcm-sip");
        run(ready, std::move(devices), std::move(restored));
    });
    try {
        started.get();
    } catch (...) {
        thread.join();
        ::close(efd);
        efd = -1;
        throw;
    }
}

void SipService::Impl::stop() {
    if (!thread.joinable()) return;
    post([this] {
        flushRefreshes();
        running = false;
        su_root_break(stack->root.get()); // ends su_root_run when runRoot fell back to it
    });
    thread.join();
    ::close(efd);
    efd = -1;
}

// --- the sofia thread -------------------------------------------------------------------

void SipService::Impl::run(std::promise<void>& ready, std::vector<DeviceView> devices,
                           std::vector<store::RegistrationRecord> restored) {
    auto& s = stack.emplace(); // su_init
    s.root.reset(su_root_create(nullptr));
    if (!s.root) {
        stack.reset();
        ready.set_exception(std::make_exception_ptr(std::runtime_error("su_root_create failed")));
        return;
    }
    s.wake.emplace(s.root.get(), efd, &Impl::onWake, reinterpret_cast<su_wakeup_arg_t*>(this));
    try {
        createStack();
    } catch (...) {
        guard.unguard();
        stack.reset();
        activeTap = nullptr;
        tap.reset();
        ready.set_exception(std::current_exception());
        return;
    }
    restore(std::move(devices), restored);
    ready.set_value();

    const int pollFd = sofia::pollFdWatching(efd);
    if (pollFd < 0) spdlog::info("sip: sofia's epoll descriptor not found; su_root_run waits its timers by spinning");
    running = true;
    sofia::runRoot(s.root.get(), pollFd, running);

    // Teardown in the order that is known to be clean: Stack's members, last to first.
    guard.unguard();
    cancelled.clear(); // its branches go with the stack
    stack.reset();
    activeTap = nullptr;
    tap.reset(); // the stack is gone: the tap files what it queued and stops
}

void SipService::Impl::createStack() {
    su_log_redirect(nullptr, &sofiaLog, nullptr); // every sofia log without its own logger
    auto& s = *stack;
    std::string host = cfg.bindAddress == "0.0.0.0" || cfg.bindAddress.empty() ? "*" : cfg.bindAddress;
    if (host.find(':') != std::string::npos && host != "*") host = "[" + host + "]";
    std::string url = fmt::format("sip:{}:{}", host, cfg.port);
    const bool tracing = cfg.trace && cfg.trace->enabled(); // the SIP trace: sofia's message log, taken by the tap
    if (tracing) {
        tap.emplace(*cfg.trace).start();
        activeTap = &*tap;
    }
    s.agent.reset(nta_agent_create(s.root.get(), URL_STRING_MAKE(url.c_str()), &Impl::onMessage,
                                   reinterpret_cast<nta_agent_magic_t*>(this),
                                   NTATAG_STATELESS(1),           // new requests go to onMessage, not to the leg
                                   NTATAG_SERVER_RPORT(1),        // 79xx over UDP: answer to the Via port
                                   NTATAG_UDP_MTU(65535),         // never switch our requests to TCP
                                   TPTAG_QUEUESIZE(1000),         // listen backlog for boot storms
                                   TAG_IF(tracing, TPTAG_LOG(1)), // every message, whole (wire_tap.h)
                                   TAG_END()));
    if (!s.agent) throw std::runtime_error(fmt::format("cannot listen for SIP on {}: {}", url, std::strerror(errno)));
    s.leg.reset(nta_leg_tcreate(s.agent.get(), &Impl::onRequest, reinterpret_cast<nta_leg_magic_t*>(this),
                                NTATAG_NO_DIALOG(1), TAG_END()));
    // Digest as CUCM does it: realm ccmsipline, MD5, no qop; nonces live 600 s.
    s.auth.reset(auth_mod_create(s.root.get(), AUTHTAG_METHOD("Digest"), AUTHTAG_REALM(kRealm), AUTHTAG_EXPIRES(600),
                                 TAG_END()));
    s.credsHome.reset(static_cast<su_home_t*>(su_home_new(sizeof(su_home_t))));
    s.sweepTimer.reset(su_timer_create(su_root_task(s.root.get()), 1000));
    // set_for_ever: again and again at the timer's interval (su_timer_set_interval fires once).
    su_timer_set_for_ever(s.sweepTimer.get(), &Impl::onSweep, reinterpret_cast<su_timer_arg_t*>(this));
    const auto every = static_cast<su_duration_t>(limits::kSipRefreshSaveInterval.count());
    s.refreshTimer.reset(su_timer_create(su_root_task(s.root.get()), every));
    su_timer_set_for_ever(
        s.refreshTimer.get(), [](su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) { reinterpret_cast<Impl*>(arg)->flushRefreshes(); },
        reinterpret_cast<su_timer_arg_t*>(this));
    if (auto* c = nta_agent_contact(s.agent.get()); c && c->m_url->url_port)
        boundPort = static_cast<std::uint16_t>(std::atoi(c->m_url->url_port));
    else
        boundPort = cfg.port;
    if (cfg.trace) cfg.trace->setLocal(cfg.advertisedHost.empty() ? cfg.bindAddress : cfg.advertisedHost, boundPort);
    // UDP phones (79xx) of a boot storm: sofia sets no receive buffer of its own (TPTAG_UDP_RMEM
    // is capped by net.core.rmem_max), so REGISTERs of a burst were dropped by the kernel.
    udpSockets = net::socketsBoundTo(SOCK_DGRAM, boundPort);
    net::setReceiveBuffers(udpSockets, limits::kSipUdpReceiveBuffer);
    auto listeners = net::socketsBoundTo(SOCK_STREAM, boundPort);
    net::setReceiveBuffers(listeners, limits::kSipTcpReceiveBuffer);
    // TCP connections at most: the cap, and never so many that the other services run out of
    // descriptors (the soft limit was raised to the hard one at start).
    std::size_t total = limits::kSipMaxConnections;
    if (rlimit l{}; ::getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur != RLIM_INFINITY)
        total = std::min<std::size_t>(total, l.rlim_cur > 2 * limits::kDescriptorReserve ? l.rlim_cur - limits::kDescriptorReserve
                                                                                          : l.rlim_cur / 2);
    guard.setTotal(total);
    guard.guard(listeners);
    spdlog::debug("sip: at most {} TCP connections, {} per address", total, cfg.tcpPerAddress);
}

void SipService::Impl::restore(std::vector<DeviceView> devices, const std::vector<store::RegistrationRecord>& restored) {
    registrar.setDevices(std::move(devices));
    auto now = Clock::now();
    auto wall = std::chrono::system_clock::now();
    for (const auto& r : restored)
        if (registrar.device(r.mac)) registrar.restore(fromRecord(r, now, wall));
}

int SipService::Impl::onWake(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
    auto* self = reinterpret_cast<Impl*>(arg);
    std::uint64_t v;
    [[maybe_unused]] auto n = ::read(self->efd, &v, sizeof v);
    std::deque<std::function<void()>> batch;
    {
        std::lock_guard lock(self->mutex);
        batch.swap(self->jobs);
    }
    for (auto& job : batch) {
        try {
            job();
        } catch (const std::exception& e) {
            spdlog::error("sip: a job failed: {}", e.what());
        }
    }
    return 0;
}

void SipService::Impl::save(store::RegistrationRecord r, bool refresh) {
    if (refresh) {
        auto mac = r.mac;
        refreshes.insert_or_assign(std::move(mac), std::move(r));
        return;
    }
    refreshes.erase(r.mac); // older than this one
    persist(std::move(r));
}

void SipService::Impl::flushRefreshes() {
    for (auto& [mac, r] : refreshes) persist(std::move(r));
    refreshes.clear();
}

void SipService::Impl::onSweep(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
    auto* self = reinterpret_cast<Impl*>(arg);
    self->flushRefreshes();
    for (auto& b : self->registrar.sweep(Clock::now())) {
        self->dropTport(b.mac);
        self->bus.publish(Service::Sip, EventKind::PhoneExpired, Severity::Warning, b.mac, "",
                          fmt::format("no REGISTER refresh within {} s + {} s grace: phone counted as gone",
                                      b.grantedSeconds, limits::kSipExpiryGrace.count()));
        self->save(toRecord(b, "expired", Clock::now(), std::chrono::system_clock::now()));
        self->phoneGone(b.mac, self->dnsOf(b.mac));
    }
    self->sweepDialogs();
    self->sweepCancelled(Clock::now());
    if (self->nextProxied != self->trimmedAt) {
        self->trimmedAt = self->nextProxied;
        self->quietSweeps = 0;
    } else if (++self->quietSweeps == kTrimQuietSweeps) {
        ::malloc_trim(0);
    }
    if (auto n = self->guard.sweep(Clock::now()))
        spdlog::info("sip: closed {} TCP connection(s) holding no registration", n);
}

int SipService::Impl::onMessage(nta_agent_magic_t* magic, nta_agent_t* agent, msg_t* msg, sip_t* sip) {
    auto* self = reinterpret_cast<Impl*>(magic);
    sofia::Msg request{msg};
    // A response no transaction of ours waits for (a 2xx of a call is relayed), an ACK of no
    // transaction (a 2xx ACK of a call is forwarded): nothing else.
    if (sip && sip->sip_status) {
        self->forwardStrayResponse(std::move(request), sip);
        return 0;
    }
    if (!sip || !sip->sip_request) return 0;
    if (sip->sip_request->rq_method == sip_method_ack) {
        self->forwardAck(std::move(request), sip);
        return 0;
    }
    if (sip->sip_request->rq_method == sip_method_register) {
        try {
            self->onRegister(request, sip);
        } catch (const std::exception& e) {
            spdlog::error("sip: handling REGISTER failed: {}", e.what());
            if (request) self->reply(std::move(request), SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
        }
        return 0;
    }
    // Anything else as the leg would have had it: a server transaction, then onRequest's status.
    auto* leg = self->stack->leg.get();
    nta_incoming_t* irq = nta_incoming_create(agent, leg, request.release(), sip, TAG_END());
    if (!irq) return 0; // it dropped the message
    int status = onRequest(reinterpret_cast<nta_leg_magic_t*>(self), leg, irq, sip);
    if (status >= 100 && nta_incoming_status(irq) < 200) nta_incoming_treply(irq, status, nullptr, TAG_END());
    if (nta_incoming_status(irq) >= 200) nta_incoming_destroy(irq);
    return 0;
}

int SipService::Impl::onRequest(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq, sip_t const* sip) {
    auto* self = reinterpret_cast<Impl*>(magic);
    if (!sip || !sip->sip_request) return 400;
    try {
        // Inside a dialog labcm record-routed: on to the phone at the Request-URI.
        if (sip->sip_to && sip->sip_to->a_tag && sip->sip_route && self->isUs(sip->sip_route->r_url))
            return self->forwardInDialog(irq, sip);
        switch (sip->sip_request->rq_method) {
        case sip_method_options: return 200;
        case sip_method_notify: return 200; // dialog (hook state) and refer NOTIFYs
        case sip_method_refer:
            // A softkey the phone asks its call manager to carry out (conference, park, ...):
            // labcm carries none of them, the phone is told at once (CUCM: 603 for what it
            // does not support). Alarm and token REFERs: accepted.
            if (sip->sip_payload && sip->sip_payload->pl_data)
                if (auto key = remoteccSoftkey(std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len))) {
                    std::string mac = identifyDevice(readCiscoContact(sip->sip_contact), std::nullopt).value_or("");
                    self->bus.publish(Service::Sip, EventKind::CallAttempt, Severity::Warning, mac, "",
                                      fmt::format("softkey {} refused (603): labcm does not carry it", *key));
                    nta_incoming_treply(irq, SIP_603_DECLINE, TAG_END());
                    return 603;
                }
            nta_incoming_treply(irq, SIP_202_ACCEPTED, TAG_END());
            return 202;
        case sip_method_publish: {
            // DND presence: accepted; SIP-ETag so the phone can refresh it (RFC 3903).
            auto etag = fmt::format("SIP-ETag: labcm{}\r\n", ++self->etag);
            nta_incoming_treply(irq, SIP_200_OK, SIPTAG_HEADER_STR(etag.c_str()), SIPTAG_EXPIRES_STR("3600"), TAG_END());
            return 200;
        }
        case sip_method_subscribe: return self->onSubscribe(irq, sip); // BLF presence
        case sip_method_invite:
            if (sip->sip_to && sip->sip_to->a_tag) return 481; // a re-INVITE of a dialog labcm did not route
            return self->onInvite(irq, sip);
        default: return 501;
        }
    } catch (const std::exception& e) {
        spdlog::error("sip: handling {} failed: {}", sip->sip_request->rq_method_name, e.what());
        return 500;
    }
}

void SipService::Impl::dropTport(const std::string& mac) { stack->tports.erase(mac); }

// --- SipService -------------------------------------------------------------------------

SipService::SipService(SipConfig config, EventBus& bus, Persist persist, UnknownPhone unknown, LeaseOf leaseOf)
    : impl_(std::make_unique<Impl>(std::move(config), bus, std::move(persist), std::move(unknown), std::move(leaseOf))) {}

SipService::~SipService() { stop(); }

void SipService::start(std::vector<DeviceView> devices, std::vector<store::RegistrationRecord> restored) {
    impl_->start(std::move(devices), std::move(restored));
}

void SipService::stop() { impl_->stop(); }

std::vector<ActiveCall> SipService::calls() {
    // Filled on the sofia thread; shared, since a late job must not write into a returned vector.
    auto taken = std::make_shared<std::vector<ActiveCall>>();
    if (!impl_->postAndWait(
            [impl = impl_.get(), taken] {
                taken->reserve(impl->dialogs.size());
                for (const auto& [id, c] : impl->dialogs) taken->push_back(c);
            },
            limits::kSipApplyWait))
        return {};
    auto out = std::move(*taken);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.answered < b.answered; });
    return out;
}

CallCounters SipService::callCounters() const {
    return {impl_->callsAttempted.load(), impl_->callsAnswered.load(), impl_->callsActive.load()};
}

void SipService::setDevices(std::vector<DeviceView> devices) {
    impl_->postAndWait(
        [impl = impl_.get(), devices = std::move(devices)]() mutable {
            impl->registrar.setDevices(std::move(devices));
            for (const auto& mac : impl->registrar.pruneUnknown()) {
                impl->dropTport(mac);
                impl->phoneGone(mac, {});
            }
            impl->relightLamps();
        },
        limits::kSipApplyWait);
}

void SipService::addDevice(DeviceView device) {
    impl_->postAndWait(
        [impl = impl_.get(), device = std::move(device)]() mutable {
            auto mac = device.mac;
            auto oldDns = impl->dnsOf(mac);
            impl->registrar.upsertDevice(std::move(device));
            impl->deviceChanged(mac, oldDns);
        },
        limits::kSipApplyWait);
}

void SipService::removeDevice(std::string mac) {
    impl_->postAndWait(
        [impl = impl_.get(), mac = std::move(mac)] {
            auto dns = impl->dnsOf(mac);
            impl->registrar.removeDevice(mac);
            impl->dropTport(mac);
            impl->phoneGone(mac, dns);
        },
        limits::kSipApplyWait);
}

void SipService::setMailboxes(std::vector<Mailbox> mailboxes) {
    impl_->post([impl = impl_.get(), all = std::move(mailboxes)]() mutable { impl->applyMailboxes(std::move(all)); });
}

void SipService::control(std::string mac, PhoneAction action, std::string configStamp,
                         std::function<void(ControlResult)> done) {
    impl_->post([impl = impl_.get(), mac = std::move(mac), action, stamp = std::move(configStamp),
                 done = std::move(done)]() mutable { impl->sendControl(std::move(mac), action, std::move(stamp), std::move(done)); });
}

std::uint16_t SipService::port() const { return impl_->boundPort.load(); }

ConnectionGuardCounters SipService::tcpConnections() const { return impl_->guard.counters(); }

std::uint64_t SipService::udpDropped() const {
    std::uint64_t n = 0;
    for (int fd : impl_->udpSockets) n += net::receiveDrops(fd);
    return n;
}

} // namespace labcm::sip
