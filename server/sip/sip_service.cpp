// All of labcm's sofia-sip code. One thread: it creates and runs the su_root, and every nta,
// tport and msg call happens on it. Jobs from other threads arrive through an eventfd-woken
// queue; data leaves as copies.
#include "sip/sip_service.h"

#include "core/models.h"
#include "core/text.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>
// auth_module.h declares auth_mod_check() only after sip.h (its #ifdef SIP_H guard).
#include <sofia-sip/auth_module.h>
#include <sofia-sip/auth_plugin.h>
#include <sofia-sip/auth_digest.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "sip/registration_record.h"
#include "sip/source.h"

namespace labcm::sip {

namespace {

// A header as text. sofia's sip_header_as_string() drops the last parameter of headers
// longer than 127 characters; encoding with headroom does not.
std::string headerText(msg_header_t const* h) {
    std::vector<char> buf(1024);
    for (int i = 0; i < 6; ++i) {
        auto n = msg_header_field_e(buf.data(), static_cast<isize_t>(buf.size()), h, 0);
        if (n >= 0 && static_cast<std::size_t>(n) + 64 < buf.size()) return std::string(buf.data(), static_cast<std::size_t>(n));
        buf.resize(buf.size() * 4);
    }
    return {};
}

// "<sip:u@h:p;transport=tcp>;+sip.instance=..." -> "sip:u@h:p;transport=tcp"
std::string contactUri(const std::string& contact) {
    auto lt = contact.find('<');
    auto gt = contact.find('>', lt == std::string::npos ? 0 : lt);
    if (lt != std::string::npos && gt != std::string::npos) return contact.substr(lt + 1, gt - lt - 1);
    return contact.substr(0, contact.find(';'));
}

// The host part of a SIP URI string.
std::string uriHost(const std::string& uri) {
    auto at = uri.find('@');
    auto start = at == std::string::npos ? uri.find(':') + 1 : at + 1;
    auto end = uri.find_first_of(":;>", start);
    return uri.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// CUCM's SIP Station Realm default; phones answer with their line's authName/authPassword.
constexpr const char* kRealm = "ccmsipline";

} // namespace

class SipService::Impl {
public:
    Impl(SipConfig c, EventBus& b, Persist p, UnknownPhone u)
        : cfg(std::move(c)), bus(b), persist(std::move(p)), unknown(std::move(u)), registrar(cfg.grantedSeconds, limits::kSipExpiryGrace) {}

    // --- any thread -------------------------------------------------------------------
    void post(std::function<void()> job) {
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
    bool postAndWait(std::function<void()> job, std::chrono::milliseconds budget) {
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

    void start(std::vector<DeviceView> devices, std::vector<store::RegistrationRecord> restored) {
        efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (efd < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
        std::promise<void> ready;
        auto started = ready.get_future();
        thread = std::thread([this, &ready, devices = std::move(devices), restored = std::move(restored)]() mutable {
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

    void stop() {
        if (!thread.joinable()) return;
        post([this] { su_root_break(root); });
        thread.join();
        ::close(efd);
        efd = -1;
    }

    // --- the sofia thread ----------------------------------------------------------------
    void run(std::promise<void>& ready, std::vector<DeviceView> devices, std::vector<store::RegistrationRecord> restored) {
        su_init();
        root = su_root_create(nullptr);
        if (!root) {
            ready.set_exception(std::make_exception_ptr(std::runtime_error("su_root_create failed")));
            su_deinit();
            return;
        }
        su_wait_create(wait, efd, SU_WAIT_IN);
        su_root_register(root, wait, &Impl::onWake, reinterpret_cast<su_wakeup_arg_t*>(this), 0);

        std::string host = cfg.bindAddress == "0.0.0.0" || cfg.bindAddress.empty() ? "*" : cfg.bindAddress;
        if (host.find(':') != std::string::npos && host != "*") host = "[" + host + "]";
        std::string url = fmt::format("sip:{}:{}", host, cfg.port);
        agent = nta_agent_create(root, URL_STRING_MAKE(url.c_str()), nullptr, nullptr,
                                 NTATAG_SERVER_RPORT(1),        // 79xx over UDP: answer to the Via port
                                 NTATAG_UDP_MTU(65535),         // never switch our requests to TCP
                                 TPTAG_QUEUESIZE(1000),         // listen backlog for boot storms
                                 TAG_END());
        if (!agent) {
            auto err = std::strerror(errno);
            su_root_unregister(root, wait, &Impl::onWake, reinterpret_cast<su_wakeup_arg_t*>(this));
            su_root_destroy(root);
            su_deinit();
            ready.set_exception(std::make_exception_ptr(
                std::runtime_error(fmt::format("cannot listen for SIP on {}: {}", url, err))));
            return;
        }
        leg = nta_leg_tcreate(agent, &Impl::onRequest, reinterpret_cast<nta_leg_magic_t*>(this), NTATAG_NO_DIALOG(1),
                              TAG_END());
        // Digest as CUCM does it: realm ccmsipline, MD5, no qop; nonces live 600 s.
        auth = auth_mod_create(root, AUTHTAG_METHOD("Digest"), AUTHTAG_REALM(kRealm), AUTHTAG_EXPIRES(600), TAG_END());
        credsHome = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
        sweepTimer = su_timer_create(su_root_task(root), 1000);
        su_timer_set_interval(sweepTimer, &Impl::onSweep, reinterpret_cast<su_timer_arg_t*>(this), 1000);

        registrar.setDevices(std::move(devices));
        auto now = Clock::now();
        auto wall = std::chrono::system_clock::now();
        for (const auto& r : restored)
            if (registrar.device(r.mac)) registrar.restore(fromRecord(r, now, wall));
        if (auto* c = nta_agent_contact(agent); c && c->m_url->url_port) boundPort = static_cast<std::uint16_t>(std::atoi(c->m_url->url_port));
        else boundPort = cfg.port;
        ready.set_value();

        su_root_run(root);

        // Teardown, in the order that is known to be clean.
        for (auto& [mac, tp] : tports) tport_unref(tp);
        tports.clear();
        su_timer_destroy(sweepTimer);
        if (auth) auth_mod_destroy(auth);
        if (credsHome) su_home_unref(credsHome);
        nta_leg_destroy(leg);
        nta_agent_destroy(agent);
        su_root_unregister(root, wait, &Impl::onWake, reinterpret_cast<su_wakeup_arg_t*>(this));
        su_root_destroy(root);
        su_deinit();
    }

    static int onWake(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
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

    static void onSweep(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
        auto* self = reinterpret_cast<Impl*>(arg);
        for (auto& b : self->registrar.sweep(Clock::now())) {
            self->dropTport(b.mac);
            self->bus.publish(Service::Sip, EventKind::PhoneExpired, Severity::Warning, b.mac, "",
                              fmt::format("no REGISTER refresh within {} s + {} s grace: phone counted as gone",
                                          b.grantedSeconds, limits::kSipExpiryGrace.count()));
            self->persist(toRecord(b, "expired", Clock::now(), std::chrono::system_clock::now()));
        }
    }

    static int onRequest(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq, sip_t const* sip) {
        auto* self = reinterpret_cast<Impl*>(magic);
        if (!sip || !sip->sip_request) return 400;
        try {
            switch (sip->sip_request->rq_method) {
            case sip_method_register: return self->onRegister(irq, sip);
            case sip_method_options: return 200;
            case sip_method_notify: return 200; // dialog (hook state) and refer NOTIFYs
            case sip_method_refer:
                // Alarm and token REFERs before registration, remotecc softkeys: accepted.
                nta_incoming_treply(irq, SIP_202_ACCEPTED, TAG_END());
                return 202;
            case sip_method_publish: {
                // DND presence: accepted; SIP-ETag so the phone can refresh it (RFC 3903).
                auto etag = fmt::format("SIP-ETag: labcm{}\r\n", ++self->etag);
                nta_incoming_treply(irq, SIP_200_OK, SIPTAG_HEADER_STR(etag.c_str()), SIPTAG_EXPIRES_STR("3600"), TAG_END());
                return 200;
            }
            case sip_method_subscribe: return 489; // Bad Event: no server-side features yet
            default: return 501;                   // calls come with their own issue
            }
        } catch (const std::exception& e) {
            spdlog::error("sip: handling {} failed: {}", sip->sip_request->rq_method_name, e.what());
            return 500;
        }
    }

    int onRegister(nta_incoming_t* irq, sip_t const* sip) {
        su_home_t home[1] = {SU_HOME_INIT(home)};
        struct HomeGuard {
            su_home_t* h;
            ~HomeGuard() { su_home_deinit(h); }
        } guard{home};

        RegisterRequest q;
        if (sip->sip_call_id) q.callId = sip->sip_call_id->i_id;
        if (sip->sip_user_agent && sip->sip_user_agent->g_string) q.userAgent = sip->sip_user_agent->g_string;
        for (sip_reason_t const* r = sip->sip_reason; r; r = r->re_next)
            if (r->re_protocol && su_casematch(r->re_protocol, "SIP") && r->re_text)
                if (auto parsed = parseCiscoReasonText(r->re_text)) {
                    q.reason = parsed;
                    break;
                }
        if (sip->sip_payload && sip->sip_payload->pl_data)
            q.bulk = isBulkRegister(std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));

        auto date = sip_date_create(home, sip_now());
        if (!sip->sip_contact) {
            // A query for the current bindings: nothing to change.
            nta_incoming_treply(irq, SIP_200_OK, SIPTAG_DATE(date), TAG_END());
            return 200;
        }
        sip_contact_t const* c = sip->sip_contact;
        q.contact = headerText(reinterpret_cast<msg_header_t const*>(c));
        std::vector<std::pair<std::string, std::string>> params;
        for (msg_param_t const* p = c->m_params; p && *p; ++p) {
            std::string_view v(*p);
            auto eq = v.find('=');
            params.emplace_back(std::string(v.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(v.substr(eq + 1)));
        }
        q.contactParams = parseContactParams(params);
        if (c->m_url->url_type == url_any) q.expires = 0; // Contact: *
        else if (q.contactParams.expires) q.expires = *q.contactParams.expires;
        else if (sip->sip_expires) q.expires = static_cast<long>(sip->sip_expires->ex_delta);
        q.mac = identifyDevice(q.contactParams, q.reason).value_or("");

        // The transport comes from the tport; the phone's address from the message's source
        // (a UDP request arrives on the shared listening tport, whose name is our own).
        tport_t* tp = nta_incoming_transport(agent, irq, nullptr); // a new reference
        if (tp)
            if (auto const* n = tport_name(tp); n && n->tpn_proto) q.transport = text::toLower(n->tpn_proto);
        std::string ip;
        if (msg_t* m = nta_incoming_getrequest(irq)) {
            if (su_addrinfo_t const* ai = msg_addrinfo(m); ai && ai->ai_addr) {
                auto const* su = reinterpret_cast<su_sockaddr_t const*>(ai->ai_addr);
                char host[64] = "";
                if (su_inet_ntop(su->su_family, SU_ADDR(su), host, sizeof host)) {
                    Source source{q.transport, host, ntohs(su->su_port)};
                    q.source = source.toString();
                    ip = source.address;
                }
            }
            msg_destroy(m);
        }

        if (auto const* dev = registrar.device(q.mac); dev && dev->digest) {
            std::string why;
            if (int status = authenticate(irq, sip, *dev, home, why); status != 0) {
                if (tp) tport_unref(tp);
                if (why.empty()) spdlog::debug("sip mac={} ip={}: REGISTER challenged ({})", q.mac, ip, status);
                else
                    bus.publish(Service::Sip, EventKind::RegisterRejected, Severity::Warning, q.mac, ip,
                                fmt::format("digest authentication failed ({}): {}", status, why));
                return status;
            }
        }

        auto d = registrar.onRegister(q, Clock::now(), std::chrono::system_clock::now());
        if (d.status != 200) {
            if (tp) tport_unref(tp);
            if (d.outcome == RegisterOutcome::UnknownDevice && unknown && !q.mac.empty()) {
                // Remembered for auto-registration (the model the phone reported) before the
                // answer leaves, so the phone's next boot finds the sighting.
                std::string model;
                if (q.contactParams.model)
                    if (auto m = findModelByTypemodel(*q.contactParams.model)) model = std::string(m->name);
                if (model.empty())
                    if (auto ua = parseCiscoUserAgent(q.userAgent))
                        if (auto m = findModel(ua->first)) model = std::string(m->name);
                unknown(q.mac, model, q.userAgent, ip);
            }
            nta_incoming_treply(irq, d.status, sip_status_phrase(d.status), SIPTAG_DATE(date), TAG_END());
            bus.publish(Service::Sip, EventKind::RegisterRejected, Severity::Warning, q.mac, ip,
                        fmt::format("REGISTER answered {}: {}", d.status, d.detail));
            return d.status;
        }

        // Keep the phone's TCP connection open (and usable for NOTIFY) while it is registered.
        bool keep = tp && tport_is_reliable(tp) &&
                    (d.outcome == RegisterOutcome::NewRegistration || d.outcome == RegisterOutcome::Refresh);
        if (keep) {
            dropTport(q.mac);
            tports[q.mac] = tp;
        } else {
            if (tp) tport_unref(tp);
            if (d.outcome == RegisterOutcome::Unregistered) dropTport(q.mac);
        }

        sip_contact_t* echo = nullptr;
        if (d.outcome == RegisterOutcome::NewRegistration || d.outcome == RegisterOutcome::Refresh) {
            echo = sip_contact_dup(home, sip->sip_contact);
            if (echo && echo->m_next) echo->m_next = nullptr; // Cisco sends one; echo the one we bound
            if (echo && d.newreg) msg_header_add_param(home, reinterpret_cast<msg_common_t*>(echo), "x-cisco-newreg");
        }
        auto expires = std::to_string(d.expires);
        auto body = d.optionsInd ? optionsIndResponse() : std::string();
        nta_incoming_treply(irq, SIP_200_OK, SIPTAG_DATE(date), TAG_IF(echo, SIPTAG_CONTACT(echo)),
                            SIPTAG_EXPIRES_STR(expires.c_str()),
                            SIPTAG_SUPPORTED_STR("X-cisco-srtp-fallback,X-cisco-sis-10.0.0"),
                            SIPTAG_SERVER_STR("labcm/" LABCM_VERSION),
                            TAG_IF(d.optionsInd, SIPTAG_CONTENT_TYPE_STR(kRemoteccResponseType)),
                            TAG_IF(d.optionsInd, SIPTAG_PAYLOAD_STR(body.c_str())), TAG_END());

        switch (d.outcome) {
        case RegisterOutcome::NewRegistration:
            bus.publish(Service::Sip, EventKind::PhoneRegistered, Severity::Info, q.mac, ip, d.detail);
            break;
        case RegisterOutcome::Unregistered:
            bus.publish(Service::Sip, EventKind::PhoneUnregistered, Severity::Info, q.mac, ip, d.detail);
            break;
        default: spdlog::debug("sip mac={} ip={}: {}", q.mac, ip, d.detail); break;
        }
        auto now = Clock::now();
        auto wall = std::chrono::system_clock::now();
        if (d.outcome == RegisterOutcome::Unregistered) {
            // The registrar dropped the binding; the row keeps what this REGISTER said.
            Binding gone;
            applyRequest(gone, q);
            persist(toRecord(gone, "unregistered", now, wall));
        } else if (auto const* b = registrar.binding(q.mac); b && d.outcome != RegisterOutcome::BackupKeepAlive) {
            persist(toRecord(*b, "registered", now, wall));
        }
        return 200;
    }

    // Digest check of a REGISTER against the device's line credentials. Returns 0 when
    // authenticated; otherwise the status it replied (401 with a challenge) and, for a
    // failed attempt (not a first challenge), why.
    int authenticate(nta_incoming_t* irq, sip_t const* sip, const DeviceView& dev, su_home_t* home, std::string& why) {
        auth_status_t* as = auth_status_new(home);
        as->as_method = sip->sip_request->rq_method_name;
        as->as_realm = kRealm;
        as->as_user_uri = sip->sip_from ? sip->sip_from->a_url : nullptr;
        std::string user;
        if (sip->sip_authorization) {
            auth_response_t ar[1] = {};
            ar->ar_size = sizeof ar;
            auth_digest_response_get(home, ar, sip->sip_authorization->au_params);
            user = ar->ar_username ? ar->ar_username : "";
            auto it = dev.credentials.find(user);
            auth_passwd_t* apw = user.empty() ? nullptr : auth_mod_getpass(auth, user.c_str(), kRealm);
            if (user.empty()) {
                why = "empty username";
            } else if (it == dev.credentials.end()) {
                why = fmt::format("no credentials for '{}' on this device (set the line's auth name and password)", user);
                // A name removed from the device must not keep working with its old password.
                if (apw) apw->apw_pass = su_sprintf(credsHome, "%llx-unusable", static_cast<unsigned long long>(++etag));
            } else {
                if (!apw) apw = auth_mod_addpass(auth, user.c_str(), kRealm);
                if (apw) {
                    apw->apw_pass = su_strdup(credsHome, it->second.c_str()); // follows password changes
                    apw->apw_hash = nullptr;
                }
            }
        }
        auth_mod_check(auth, as, sip, auth_server);
        int status = as->as_status;
        if (status != 0) {
            if (sip->sip_authorization && why.empty()) why = fmt::format("wrong password for '{}'", user);
            nta_incoming_treply(irq, status, as->as_phrase, SIPTAG_HEADER(reinterpret_cast<sip_header_t const*>(as->as_response)), TAG_END());
        }
        auth_status_unref(as);
        return status;
    }

    void dropTport(const std::string& mac) {
        if (auto it = tports.find(mac); it != tports.end()) {
            tport_unref(it->second);
            tports.erase(it);
        }
    }

    struct ControlCtx {
        Impl* self;
        std::string mac;
        PhoneAction action;
        std::function<void(ControlResult)> done;
    };

    void sendControl(std::string mac, PhoneAction action, std::string stamp, std::function<void(ControlResult)> done) {
        auto const* b = registrar.binding(mac);
        if (!b) {
            done({false, 0, "", fmt::format("SEP{} is not registered", mac)});
            return;
        }
        auto uri = contactUri(b->contact);
        tport_t* tp = nullptr;
        if (auto it = tports.find(mac); it != tports.end() && !tport_is_closed(it->second)) tp = it->second;
        std::string dn = b->dns.empty() ? "labcm" : b->dns.front();
        auto from = fmt::format("<sip:labcm@{}>", cfg.advertisedHost);
        auto to = fmt::format("<sip:{}@{}>", dn, uriHost(uri));
        auto body = serviceControlBody(action, b->callId, stamp);
        auto* ctx = new ControlCtx{this, mac, action, std::move(done)};
        auto* orq = nta_outgoing_tcreate(leg, &Impl::onControlResponse, reinterpret_cast<nta_outgoing_magic_t*>(ctx),
                                         nullptr, SIP_METHOD_NOTIFY, URL_STRING_MAKE(uri.c_str()),
                                         SIPTAG_FROM_STR(from.c_str()), SIPTAG_TO_STR(to.c_str()),
                                         SIPTAG_EVENT_STR("service-control"), SIPTAG_SUBSCRIPTION_STATE_STR("active"),
                                         SIPTAG_CONTENT_TYPE_STR("text/plain"), SIPTAG_PAYLOAD_STR(body.c_str()),
                                         TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
        if (!orq) {
            auto d = std::move(ctx->done);
            delete ctx;
            d({false, 0, "", fmt::format("could not send the NOTIFY to {}", uri)});
        }
    }

    static int onControlResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip) {
        int status = nta_outgoing_status(orq);
        if (status < 200) return 0;
        auto* ctx = reinterpret_cast<ControlCtx*>(magic);
        ControlResult r;
        r.sent = true;
        r.status = status;
        r.phrase = sip && sip->sip_status && sip->sip_status->st_phrase ? sip->sip_status->st_phrase : sip_status_phrase(status);
        r.detail = fmt::format("service-control {} -> {} {}", toString(ctx->action), status, r.phrase);
        ctx->self->bus.publish(Service::Sip, EventKind::PhoneControlled, status < 300 ? Severity::Info : Severity::Warning,
                               ctx->mac, "", r.detail);
        ctx->done(r);
        nta_outgoing_destroy(orq);
        delete ctx;
        return 0;
    }

    SipConfig cfg;
    EventBus& bus;
    Persist persist;
    UnknownPhone unknown;
    Registrar registrar;

    std::thread thread;
    std::mutex mutex;
    std::deque<std::function<void()>> jobs;
    int efd = -1;
    std::atomic<std::uint16_t> boundPort{0};

    // Owned by the sofia thread.
    su_root_t* root = nullptr;
    su_wait_t wait[1] = {};
    nta_agent_t* agent = nullptr;
    nta_leg_t* leg = nullptr;
    su_timer_t* sweepTimer = nullptr;
    auth_mod_t* auth = nullptr;
    su_home_t* credsHome = nullptr; ///< passwords handed to auth_mod live here
    std::map<std::string, tport_t*> tports; ///< mac -> referenced TCP connection
    std::uint64_t etag = 0;
};

SipService::SipService(SipConfig config, EventBus& bus, Persist persist, UnknownPhone unknown)
    : impl_(std::make_unique<Impl>(std::move(config), bus, std::move(persist), std::move(unknown))) {}

SipService::~SipService() { stop(); }

void SipService::start(std::vector<DeviceView> devices, std::vector<store::RegistrationRecord> restored) {
    impl_->start(std::move(devices), std::move(restored));
}

void SipService::stop() { impl_->stop(); }

void SipService::setDevices(std::vector<DeviceView> devices) {
    impl_->postAndWait(
        [impl = impl_.get(), devices = std::move(devices)]() mutable {
            impl->registrar.setDevices(std::move(devices));
            for (const auto& mac : impl->registrar.pruneUnknown()) impl->dropTport(mac);
        },
        limits::kSipApplyWait);
}

void SipService::addDevice(DeviceView device) {
    impl_->postAndWait([impl = impl_.get(), device = std::move(device)]() mutable { impl->registrar.upsertDevice(std::move(device)); },
                       limits::kSipApplyWait);
}

void SipService::control(std::string mac, PhoneAction action, std::string configStamp,
                         std::function<void(ControlResult)> done) {
    impl_->post([impl = impl_.get(), mac = std::move(mac), action, stamp = std::move(configStamp),
                 done = std::move(done)]() mutable { impl->sendControl(std::move(mac), action, std::move(stamp), std::move(done)); });
}

std::uint16_t SipService::port() const { return impl_->boundPort.load(); }

} // namespace labcm::sip
