// The REGISTER adapter: sip_t -> RegisterRequest, the registrar's decision -> the answer
// (200 OK with the Contact echo, or the rejection), digest authentication, and what the rest
// of labcm hears about it (events, the registration row). The decisions are registrar.cpp's.
#include "sip/sofia_impl.h"

#include <vector>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/auth_plugin.h>
#include <sofia-sip/auth_digest.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "core/models.h"
#include "core/text.h"
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

// The Contact of a REGISTER: its text, the Cisco parameters, the expiry it asks for and the
// device it names.
void readContact(sip_t const* sip, RegisterRequest& q) {
    sip_contact_t const* c = sip->sip_contact;
    q.contact = headerText(reinterpret_cast<msg_header_t const*>(c));
    if (c->m_url->url_type != url_any && c->m_url->url_host) {
        std::string_view host(c->m_url->url_host);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        q.contactHost = host;
    }
    q.contactParams = readCiscoContact(c);
    if (c->m_url->url_type == url_any) q.expires = 0; // Contact: *
    else if (q.contactParams.expires) q.expires = *q.contactParams.expires;
    else if (sip->sip_expires) q.expires = static_cast<long>(sip->sip_expires->ex_delta);
    q.mac = identifyDevice(q.contactParams, q.reason).value_or("");
}

// What the REGISTER says apart from its Contact: Call-ID, User-Agent, the Cisco Reason, bulk.
void readHeaders(sip_t const* sip, RegisterRequest& q) {
    if (sip->sip_call_id) q.callId = sip->sip_call_id->i_id;
    if (sip->sip_cseq) q.cseq = sip->sip_cseq->cs_seq;
    if (sip->sip_user_agent && sip->sip_user_agent->g_string) q.userAgent = sip->sip_user_agent->g_string;
    for (sip_reason_t const* r = sip->sip_reason; r; r = r->re_next)
        if (r->re_protocol && su_casematch(r->re_protocol, "SIP") && r->re_text)
            if (auto parsed = parseCiscoReasonText(r->re_text)) {
                q.reason = parsed;
                break;
            }
    if (sip->sip_payload && sip->sip_payload->pl_data)
        q.bulk = isBulkRegister(std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
}

// The model an unknown phone reported: its Contact's typemodel, else its User-Agent.
std::string reportedModel(const RegisterRequest& q) {
    std::string model;
    if (q.contactParams.model)
        if (auto m = findModelByTypemodel(*q.contactParams.model)) model = std::string(m->name);
    if (model.empty())
        if (auto ua = parseCiscoUserAgent(q.userAgent))
            if (auto m = findModel(ua->first)) model = std::string(m->name);
    return model;
}

} // namespace

CiscoContact readCiscoContact(sip_contact_t const* c) {
    std::vector<std::pair<std::string, std::string>> params;
    for (msg_param_t const* p = c ? c->m_params : nullptr; p && *p; ++p) {
        std::string_view v(*p);
        auto eq = v.find('=');
        params.emplace_back(std::string(v.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(v.substr(eq + 1)));
    }
    return parseContactParams(params);
}

// Answered without a server transaction (nta_msg_treply): over UDP a transaction would hold
// the request and its answer for Timer J (32 s). A retransmitted REGISTER is recognised by
// the registrar (same Call-ID and CSeq) and gets the same answer again.
void SipService::Impl::onRegister(sofia::Msg& request, sip_t const* sip) {
    sofia::StackHome scratch;
    su_home_t* home = scratch.get();

    RegisterRequest q;
    readHeaders(sip, q);
    auto date = sip_date_create(home, sip_now());
    if (!sip->sip_contact) {
        // A query for the current bindings: nothing to change.
        reply(std::move(request), SIP_200_OK, SIPTAG_DATE(date), TAG_END());
        return;
    }
    readContact(sip, q);
    sofia::TportRef tp;
    std::string ip = readOrigin(request.get(), q.transport, q.source, tp);
    if (leaseOf && !q.mac.empty()) q.leasedAddress = leaseOf(q.mac);
    if (auto bound = stack->tports.find(q.mac); bound != stack->tports.end())
        q.boundConnectionClosed = tport_is_closed(bound->second.get()) != 0;

    if (auto const* dev = registrar.device(q.mac); dev && (dev->digest || cfg.requireDigest)) {
        std::string why;
        if (int status = authenticate(request, sip, *dev, home, why); status != 0) {
            tp.reset();
            if (why.empty()) spdlog::debug("sip mac={} ip={}: REGISTER challenged ({})", q.mac, ip, status);
            else
                bus.publish(Service::Sip, EventKind::RegisterRejected, Severity::Warning, q.mac, ip,
                            fmt::format("digest authentication failed ({}): {}", status, why));
            return;
        }
    }

    auto d = registrar.onRegister(q, Clock::now(), std::chrono::system_clock::now());
    if (d.status != 200) {
        tp.reset();
        return rejectRegister(std::move(request), q, d, ip, date);
    }
    if (tp && tport_is_reliable(tp.get()))
        if (su_addrinfo_t const* ai = msg_addrinfo(request.get()); ai && ai->ai_addr) {
            // The connection stays open while the registration lasts (an unregistered one is
            // given the time a new connection gets to register).
            auto lasts = d.outcome == RegisterOutcome::Unregistered ? limits::kSipUnregisteredConnection
                                                                     : std::chrono::seconds(std::max(0, d.expires)) + limits::kSipExpiryGrace;
            guard.registered(ai->ai_addr, Clock::now() + lasts);
        }
    acceptRegister(std::move(request), sip, q, d, std::move(tp), home, date);
    reportRegister(q, d, ip);
}

// The transport comes from the tport; the phone's address from the message's source (a UDP
// request arrives on the shared listening tport, whose name is our own).
std::string SipService::Impl::readOrigin(msg_t* request, std::string& transport, std::string& source, sofia::TportRef& tp) {
    tp = sofia::TportRef::adopt(nta_incoming_transport(stack->agent.get(), nullptr, request)); // a new reference
    if (tp)
        if (auto const* n = tport_name(tp.get()); n && n->tpn_proto) transport = text::toLower(n->tpn_proto);
    std::string ip;
    if (su_addrinfo_t const* ai = msg_addrinfo(request); ai && ai->ai_addr) {
        auto const* su = reinterpret_cast<su_sockaddr_t const*>(ai->ai_addr);
        char host[64] = "";
        if (su_inet_ntop(su->su_family, SU_ADDR(su), host, sizeof host)) {
            Source from{transport, host, ntohs(su->su_port)};
            source = from.toString();
            ip = from.address;
        }
    }
    return ip;
}

void SipService::Impl::rejectRegister(sofia::Msg request, const RegisterRequest& q, const RegisterDecision& d,
                                      const std::string& ip, sip_date_t const* date) {
    if (d.outcome == RegisterOutcome::UnknownDevice && unknown && !q.mac.empty()) {
        // Remembered for auto-registration (the model the phone reported) before the
        // answer leaves, so the phone's next boot finds the sighting.
        unknown(q.mac, reportedModel(q), q.userAgent, ip);
    }
    reply(std::move(request), d.status, sip_status_phrase(d.status), SIPTAG_DATE(date), TAG_END());
    bus.publish(Service::Sip, EventKind::RegisterRejected, Severity::Warning, q.mac, ip,
                fmt::format("REGISTER answered {}: {}", d.status, d.detail));
}

void SipService::Impl::acceptRegister(sofia::Msg request, sip_t const* sip, const RegisterRequest& q,
                                      const RegisterDecision& d, sofia::TportRef tp, su_home_t* home,
                                      sip_date_t const* date) {
    const bool bound = d.outcome == RegisterOutcome::NewRegistration || d.outcome == RegisterOutcome::Refresh;
    // Keep the phone's TCP connection open (and usable for NOTIFY) while it is registered.
    if (tp && tport_is_reliable(tp.get()) && bound) {
        dropTport(q.mac);
        stack->tports.emplace(q.mac, std::move(tp));
    } else {
        tp.reset();
        if (d.outcome == RegisterOutcome::Unregistered) dropTport(q.mac);
    }

    sip_contact_t* echo = nullptr;
    if (bound) {
        echo = sip_contact_dup(home, sip->sip_contact);
        if (echo && echo->m_next) echo->m_next = nullptr; // Cisco sends one; echo the one we bound
        if (echo && d.newreg) msg_header_add_param(home, reinterpret_cast<msg_common_t*>(echo), "x-cisco-newreg");
    }
    auto expires = std::to_string(d.expires);
    auto body = d.optionsInd ? optionsIndResponse() : std::string();
    reply(std::move(request), SIP_200_OK, SIPTAG_DATE(date), TAG_IF(echo, SIPTAG_CONTACT(echo)),
          SIPTAG_EXPIRES_STR(expires.c_str()), SIPTAG_SUPPORTED_STR("X-cisco-srtp-fallback,X-cisco-sis-10.0.0"),
          SIPTAG_SERVER_STR("labcm/" LABCM_VERSION), TAG_IF(d.optionsInd, SIPTAG_CONTENT_TYPE_STR(kRemoteccResponseType)),
          TAG_IF(d.optionsInd, SIPTAG_PAYLOAD_STR(body.c_str())), TAG_END());
}

void SipService::Impl::reply(sofia::Msg request, int status, char const* phrase, tag_type_t tag, tag_value_t value, ...) {
    ta_list ta;
    ta_start(ta, tag, value);
    if (nta_msg_treply(stack->agent.get(), request.release(), status, phrase, ta_tags(ta)) != 0)
        spdlog::debug("sip: the {} answer could not be sent", status);
    ta_end(ta);
}

// The event (or the debug line) and the registration row of an accepted REGISTER.
void SipService::Impl::reportRegister(const RegisterRequest& q, const RegisterDecision& d, const std::string& ip) {
    if (d.retransmission) return spdlog::debug("sip mac={} ip={}: {}", q.mac, ip, d.detail);
    switch (d.outcome) {
    case RegisterOutcome::NewRegistration:
        bus.publish(Service::Sip, EventKind::PhoneRegistered, Severity::Info, q.mac, ip, d.detail);
        // CUCM repeats each line's message waiting at registration, the lamps follow (the 200
        // went in acceptRegister, just before).
        phoneRegistered(q.mac);
        break;
    case RegisterOutcome::Unregistered:
        bus.publish(Service::Sip, EventKind::PhoneUnregistered, Severity::Info, q.mac, ip, d.detail);
        phoneGone(q.mac, dnsOf(q.mac));
        break;
    default: spdlog::debug("sip mac={} ip={}: {}", q.mac, ip, d.detail); break;
    }
    auto now = Clock::now();
    auto wall = std::chrono::system_clock::now();
    if (d.outcome == RegisterOutcome::Unregistered) {
        // The registrar dropped the binding; the row keeps what this REGISTER said.
        Binding gone;
        applyRequest(gone, q);
        save(toRecord(gone, "unregistered", now, wall));
    } else if (auto const* b = registrar.binding(q.mac); b && d.outcome != RegisterOutcome::BackupKeepAlive) {
        save(toRecord(*b, "registered", now, wall), d.outcome == RegisterOutcome::Refresh);
    }
}

// Digest check of a REGISTER against the device's line credentials. Returns 0 when
// authenticated; otherwise the status it replied (401 with a challenge) and, for a
// failed attempt (not a first challenge), why.
int SipService::Impl::authenticate(sofia::Msg& request, sip_t const* sip, const DeviceView& dev, su_home_t* home,
                                   std::string& why) {
    auto& s = *stack;
    sofia::AuthStatus as{auth_status_new(home)};
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
        auth_passwd_t* apw = user.empty() ? nullptr : auth_mod_getpass(s.auth.get(), user.c_str(), kRealm);
        if (user.empty()) {
            why = "empty username";
        } else if (it == dev.credentials.end()) {
            why = fmt::format("no credentials for '{}' on this device (set the line's auth name and password)", user);
            // A name removed from the device must not keep working with its old password.
            if (apw) apw->apw_pass = su_sprintf(s.credsHome.get(), "%llx-unusable", static_cast<unsigned long long>(++etag));
        } else {
            if (!apw) apw = auth_mod_addpass(s.auth.get(), user.c_str(), kRealm);
            if (apw) {
                apw->apw_pass = su_strdup(s.credsHome.get(), it->second.c_str()); // follows password changes
                apw->apw_hash = nullptr;
            }
        }
    }
    auth_mod_check(s.auth.get(), as.get(), sip, auth_server);
    int status = as->as_status;
    if (status != 0) {
        if (sip->sip_authorization && why.empty()) why = fmt::format("wrong password for '{}'", user);
        reply(std::move(request), status, as->as_phrase, SIPTAG_HEADER(reinterpret_cast<sip_header_t const*>(as->as_response)),
              TAG_END());
    }
    return status;
}

} // namespace labcm::sip
