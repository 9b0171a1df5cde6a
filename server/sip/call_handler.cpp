// Calls (issue 21): labcm is a record-routing stateful proxy between its registered phones
// (cisco-calls.md section 2). An INVITE is routed by routeCall() (call_router.h): a refusal is
// answered at once; a call is forked to every device it rings, each branch over the phone's
// own registration (its TCP connection, or its UDP Contact) with the registered Contact as the
// Request-URI and labcm's Record-Route on top, so every later request of the dialog (ACK, BYE,
// re-INVITE, ...) comes through labcm too and reaches the other phone from labcm's address,
// the only one a Cisco phone accepts. The first 2xx is relayed and the other branches are
// cancelled; when none answers 2xx the best final answer is relayed. SDP is never touched:
// media flows phone to phone. Events: call_attempt on the caller's timeline (and the answering
// phone's) with the outcome.
#include "sip/sofia_impl.h"

#include <algorithm>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/tport.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "sip/call_router.h"

namespace labcm::sip {

namespace {

// RFC 3261 16.7 step 6: 6xx first, then the lowest class; 503 counts as 500.
int rank(int status) {
    if (status >= 600) return 0;
    if (status == 503) return 5 * 1000;
    return (status / 100) * 1000 + status % 100;
}

// "host:port" of the Request-URI (a phone's Contact inside a dialog labcm routed).
std::string requestUri(sip_t const* sip) {
    sofia::StackHome scratch;
    char* uri = url_as_string(scratch.get(), sip->sip_request->rq_url);
    return uri ? uri : "";
}

// A display name as a quoted-string (RFC 3261 25.1).
std::string quotedString(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + '"';
}

// Caller identity the Cisco way (cisco-calls.md 1.1): the From display name and the
// Remote-Party-ID the called phone shows come from the calling line as stored, whatever the
// caller put there; the From URI and tag stay (they identify the dialog).
void setCallerIdentity(msg_t* m, const std::string& dn, const std::string& name, const std::string& host) {
    sip_t* s = sip_object(m);
    su_home_t* home = msg_home(m);
    auto* pub = reinterpret_cast<msg_pub_t*>(s);
    if (s->sip_from)
        if (sip_from_t* from = sip_from_dup(home, s->sip_from)) {
            from->a_display = name.empty() ? nullptr : su_strdup(home, quotedString(name).c_str());
            msg_header_replace(m, pub, reinterpret_cast<msg_header_t*>(s->sip_from), reinterpret_cast<msg_header_t*>(from));
        }
    for (sip_unknown_t* u = s->sip_unknown; u;) {
        sip_unknown_t* next = u->un_next;
        if (u->un_name && su_casematch(u->un_name, "Remote-Party-ID"))
            msg_header_remove(m, pub, reinterpret_cast<msg_header_t*>(u));
        u = next;
    }
    auto rpid = fmt::format("Remote-Party-ID: {}<sip:{}@{};x-cisco-callback-number={}>;party=calling;screen=yes;privacy=off\r\n",
                            name.empty() ? "" : quotedString(name) + " ", dn, host, dn);
    msg_header_add_str(m, pub, rpid.c_str());
}

} // namespace

bool SipService::Impl::isUs(url_t const* url) const {
    if (!url || !url->url_host) return false;
    std::string host(url->url_host);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (!su_casematch(host.c_str(), cfg.advertisedHost.c_str()) && !su_casematch(host.c_str(), cfg.bindAddress.c_str())) return false;
    unsigned port = url->url_port ? static_cast<unsigned>(std::atoi(url->url_port)) : 5060;
    return port == boundPort.load();
}

msg_t* SipService::Impl::forwardedRequest(msg_t* request, const std::string& requestUri,
                                          const std::vector<std::string>& recordRoutes) {
    msg_t* m = msg_dup(request);
    if (!m) return nullptr;
    sip_t* s = sip_object(m);
    su_home_t* home = msg_home(m);
    auto* pub = reinterpret_cast<msg_pub_t*>(s);
    if (!requestUri.empty()) {
        auto* rq = sip_request_create(home, s->sip_request->rq_method, s->sip_request->rq_method_name,
                                      URL_STRING_MAKE(requestUri.c_str()), nullptr);
        if (!rq) return msg_destroy(m), nullptr;
        msg_header_insert(m, pub, reinterpret_cast<msg_header_t*>(rq));
    }
    while (s->sip_route && isUs(s->sip_route->r_url)) msg_header_remove(m, pub, reinterpret_cast<msg_header_t*>(s->sip_route));
    unsigned long hops = s->sip_max_forwards ? s->sip_max_forwards->mf_count : 70;
    auto* mf = sip_max_forwards_make(home, std::to_string(hops > 0 ? hops - 1 : 0).c_str());
    if (mf) msg_header_insert(m, pub, reinterpret_cast<msg_header_t*>(mf));
    for (const auto& rr : recordRoutes)
        if (auto* h = sip_record_route_make(home, rr.c_str())) msg_header_insert(m, pub, reinterpret_cast<msg_header_t*>(h));
    return m;
}

SipService::Impl::PhoneRoute SipService::Impl::phoneRoute(const std::string& mac, const std::string& hostPort,
                                                          const std::string& transport) const {
    if (auto it = stack->tports.find(mac); it != stack->tports.end() && !tport_is_closed(it->second.get()))
        return {it->second.get(), {}};
    return {nullptr, fmt::format("sip:{};transport={}", hostPort, transport.empty() ? "udp" : transport)};
}

// Over the phone's registration: its TCP connection when it has one, else its Contact's
// address over the Contact's transport.
bool SipService::Impl::sendBranch(Proxied& t, msg_t* request, const std::string& mac, const std::string& transport,
                                  const std::string& requestUri) {
    auto& b = t.branches.emplace_back();
    b.txn = &t;
    b.mac = mac;
    b.transport = transport.empty() ? "udp" : transport;
    auto to = phoneRoute(mac, uriHostPort(requestUri), transport);
    b.orq = nta_outgoing_mcreate(stack->agent.get(), &Impl::onBranchResponse, reinterpret_cast<nta_outgoing_magic_t*>(&b),
                                 to.tport ? nullptr : URL_STRING_MAKE(to.url.c_str()), request,
                                 TAG_IF(to.tport, NTATAG_TPORT(to.tport)), TAG_END());
    if (!b.orq) {
        msg_destroy(request);
        t.branches.pop_back();
        spdlog::warn("sip: cannot forward {} to SEP{} at {}", t.detail, mac, requestUri);
        return false;
    }
    return true;
}

int SipService::Impl::onInvite(nta_incoming_t* irq, sip_t const* sip) {
    CallRequest c;
    if (sip->sip_request->rq_url->url_user) c.calledUser = sip->sip_request->rq_url->url_user;
    if (sip->sip_from && sip->sip_from->a_url->url_user) c.callerUser = sip->sip_from->a_url->url_user;
    if (sip->sip_max_forwards) c.maxForwards = static_cast<int>(sip->sip_max_forwards->mf_count);
    c.callerMac = identifyDevice(readCiscoContact(sip->sip_contact), std::nullopt).value_or("");
    sofia::Msg request{nta_incoming_getrequest(irq)};
    std::string transport, ip;
    {
        sofia::TportRef tp;
        ip = readOrigin(request.get(), transport, c.source, tp);
    }
    auto d = routeCall(c, registrar, Clock::now(), cfg.trunk ? &*cfg.trunk : nullptr);
    if (d.outcome != CallOutcome::Fork) {
        nta_incoming_treply(irq, d.status, sip_status_phrase(d.status), TAG_END());
        bus.publish(Service::Sip, EventKind::CallAttempt, Severity::Warning, d.callerMac, ip,
                    fmt::format("INVITE answered {} ({}): {}", d.status, toString(d.outcome), d.detail));
        return d.status;
    }
    if (dialogs.size() >= limits::kSipMaxCalls) {
        nta_incoming_treply(irq, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("30"), TAG_END());
        bus.publish(Service::Sip, EventKind::CallAttempt, Severity::Warning, d.callerMac, ip,
                    fmt::format("INVITE answered 503: {} calls in progress already (the most labcm follows)", limits::kSipMaxCalls));
        return 503;
    }
    nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());
    auto id = ++nextProxied;
    auto& t = stack->proxied[id];
    t.self = this;
    t.id = id;
    t.irq = irq;
    t.call = true;
    t.callerMac = d.callerMac;
    t.callerIp = ip;
    t.detail = d.detail;
    t.callId = sip->sip_call_id ? sip->sip_call_id->i_id : "";
    t.callerDn = c.callerUser;
    t.number = c.calledUser;
    ++callsAttempted;
    nta_incoming_bind(irq, &Impl::onProxiedRequest, reinterpret_cast<nta_incoming_magic_t*>(&t));
    // Record-Route: one entry, or one per side when the phones use different transports (RFC 5658).
    auto rr = [&](const std::string& tr) { return fmt::format("<sip:{}:{};transport={};lr>", cfg.advertisedHost, boundPort.load(), tr); };
    const DeviceView* caller = registrar.device(d.callerMac);
    const std::string callerName = caller ? caller->displayName(c.callerUser) : "";
    for (const auto& target : d.targets) {
        std::vector<std::string> routes{rr(transport)};
        if (target.transport != transport) routes.push_back(rr(target.transport));
        if (msg_t* m = forwardedRequest(request.get(), target.requestUri, routes)) {
            setCallerIdentity(m, c.callerUser, callerName, uriHost(cfg.advertisedHost));
            sendBranch(t, m, target.mac, target.transport, target.requestUri);
        }
    }
    bus.publish(Service::Sip, EventKind::CallAttempt, Severity::Info, d.callerMac, ip, d.detail);
    if (t.branches.empty()) {
        nta_incoming_treply(irq, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
        stack->proxied.erase(id);
        return 503;
    }
    countPending(t, +1);
    callChanged(c.callerUser, c.calledUser); // ringing
    return 0;
}

std::optional<SipService::Impl::DialogPeer> SipService::Impl::dialogPeer(const std::string& callId, const std::string& requestUri) const {
    if (uriHostPort(requestUri).empty()) return std::nullopt;
    auto call = dialogs.find(callId);
    if (call == dialogs.end()) return std::nullopt;
    const auto& c = call->second;
    // One of the call's own phones: never another phone, whatever the Request-URI says.
    if (const Binding* b = dialogTarget(registrar.binding(c.callerMac),
                                        c.calleeMac.empty() ? nullptr : registrar.binding(c.calleeMac), requestUri)) {
        if (!registrar.reachable(*b, Clock::now())) return std::nullopt;
        return DialogPeer{b->mac, b->transport, contactUri(b->contact)};
    }
    // A call labcm sent to the trunk: anything not for its phone goes to the trunk's address
    // (its Contact may name another address or port), the Request-URI as it is.
    if (cfg.trunk && c.calleeMac.empty()) return DialogPeer{"", cfg.trunk->transport, "sip:" + cfg.trunk->hostPort};
    return std::nullopt;
}

int SipService::Impl::forwardInDialog(nta_incoming_t* irq, sip_t const* sip) {
    if (!sip->sip_call_id || !dialogs.contains(sip->sip_call_id->i_id)) return 481;
    if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) return 483;
    sofia::Msg request{nta_incoming_getrequest(irq)};
    const auto peer = dialogPeer(sip->sip_call_id->i_id, requestUri(sip));
    if (!peer) return 404;
    auto id = ++nextProxied;
    auto& t = stack->proxied[id];
    t.self = this;
    t.id = id;
    t.irq = irq;
    t.detail = peer->mac.empty() ? fmt::format("{} to the trunk", sip->sip_request->rq_method_name)
                                 : fmt::format("{} to SEP{}", sip->sip_request->rq_method_name, peer->mac);
    t.callId = sip->sip_call_id->i_id;
    t.bye = sip->sip_request->rq_method == sip_method_bye;
    nta_incoming_bind(irq, &Impl::onProxiedRequest, reinterpret_cast<nta_incoming_magic_t*>(&t));
    if (msg_t* m = forwardedRequest(request.get(), "", {})) sendBranch(t, m, peer->mac, peer->transport, peer->uri);
    if (t.branches.empty()) {
        stack->proxied.erase(id);
        return 503;
    }
    return 0;
}

void SipService::Impl::forwardAck(sofia::Msg request, sip_t const* sip) {
    if (!sip->sip_route || !isUs(sip->sip_route->r_url)) return; // not a dialog labcm routed
    if (!sip->sip_call_id || !dialogs.contains(sip->sip_call_id->i_id)) return;
    const auto peer = dialogPeer(sip->sip_call_id->i_id, requestUri(sip));
    if (!peer) return;
    msg_t* m = forwardedRequest(request.get(), "", {});
    if (!m) return;
    auto to = phoneRoute(peer->mac, uriHostPort(peer->uri), peer->transport);
    nta_msg_tsend(stack->agent.get(), m, to.tport ? nullptr : URL_STRING_MAKE(to.url.c_str()),
                  TAG_IF(to.tport, NTATAG_TPORT(to.tport)), TAG_END());
}

void SipService::Impl::forwardStrayResponse(sofia::Msg response, sip_t const* sip) {
    if (finishCancelled(response.get(), sip)) return;
    // Only a 2xx to an INVITE of a call labcm set up (its own Via on top, another below): no
    // stranger can have labcm send a response anywhere else.
    if (!sip->sip_cseq || sip->sip_cseq->cs_method != sip_method_invite || sip->sip_status->st_status / 100 != 2) return;
    if (!sip->sip_call_id || !dialogs.contains(sip->sip_call_id->i_id)) return;
    if (!sip->sip_via || !sip->sip_via->v_next || !sip->sip_via->v_host) return;
    if (!su_casematch(sip->sip_via->v_host, cfg.advertisedHost.c_str()) && !su_casematch(sip->sip_via->v_host, cfg.bindAddress.c_str()))
        return;
    nta_msg_tsend(stack->agent.get(), response.release(), nullptr, TAG_END());
}

// A response from a branch (a copy, our Via off) to the caller.
void SipService::Impl::relay(Proxied& t, msg_t* response) {
    if (!response) return;
    msg_t* copy = msg_dup(response);
    if (!copy) return;
    sip_t* s = sip_object(copy);
    if (s->sip_via) msg_header_remove(copy, reinterpret_cast<msg_pub_t*>(s), reinterpret_cast<msg_header_t*>(s->sip_via));
    nta_incoming_mreply(t.irq, copy);
}

int SipService::Impl::onBranchResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip) {
    auto& b = *reinterpret_cast<Branch*>(magic);
    auto& t = *b.txn;
    auto* self = t.self;
    const int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
    const bool internal = nta_sip_is_internal(sip);
    const bool relayed = status < 200 ? status > 100 && !t.answered // a provisional, until the caller has its answer
                                      : b.status && status < 300;    // a retransmitted 2xx (the phone did not see the ACK yet)
    if (status < 200 || b.status) {
        if (relayed && !internal) self->relay(t, sofia::Msg{nta_outgoing_getresponse(orq)}.get());
        return 0;
    }
    self->branchAnswered(b, status, sofia::Msg{internal ? nullptr : nta_outgoing_getresponse(orq)}.get());
    return 0;
}

// A branch's final answer (`response`: null when sofia made it up, a timeout).
void SipService::Impl::branchAnswered(Branch& b, int status, msg_t* response) {
    auto& t = *b.txn;
    b.status = status;
    if (!b.cancelKey.empty()) {
        cancelled.erase(b.cancelKey);
        b.cancelKey.clear();
    }
    if (status < 300) {
        // Every 2xx goes to the caller (RFC 3261 16.7), one that crossed the caller's CANCEL
        // too: the call is followed, so the caller's ACK and BYE reach the phone that answered.
        relay(t, response);
        // The call is the first answer's (a 2xx that crossed the caller's CANCEL included). A
        // later 2xx of a shared line's other phone, that crossed labcm's CANCEL, reaches the
        // caller too but never replaces the call: that phone gets no ACK through labcm and ends
        // its side by itself (RFC 3261 13.3.1.4), the call that was answered first goes on.
        if (t.call && (!t.answered || t.answered == 487)) {
            if (auto old = dialogs.find(t.callId); old != dialogs.end()) countCall(old->second, -1); // a Call-ID used again
            auto& call = dialogs.insert_or_assign(t.callId, ActiveCall{t.callId, t.callerMac, t.callerDn, b.mac, t.number,
                                                                       std::chrono::system_clock::now()})
                             .first->second;
            countCall(call, +1);
            callsActive = dialogs.size();
        }
        if (!t.answered || t.answered == 487) {
            if (!t.answered) // after the caller's CANCEL the others are cancelled already
                for (auto& other : t.branches)
                    if (!other.status && other.orq) cancelBranch(other, "SIP;cause=200;text=\"Call completed elsewhere\"");
            setAnswered(t, status);
            if (t.call) {
                callChanged(t.callerDn, t.number); // in a call
                ++callsAnswered;
                bus.publish(Service::Sip, EventKind::CallAttempt, Severity::Info, t.callerMac, t.callerIp,
                                  fmt::format("{}: answered {} by {}", t.detail, status, b.mac.empty() ? "the trunk" : "SEP" + b.mac));
                if (!b.mac.empty())
                    bus.publish(Service::Sip, EventKind::CallAttempt, Severity::Info, b.mac, "",
                                      fmt::format("answered a call ({})", t.detail));
            }
        }
    } else if (!t.answered && (!t.bestStatus || rank(status) < rank(t.bestStatus))) {
        t.bestStatus = status;
        t.best.reset();
        if (response)
            if (msg_t* copy = msg_dup(response)) {
                sip_t* s = sip_object(copy);
                if (s->sip_via) msg_header_remove(copy, reinterpret_cast<msg_pub_t*>(s), reinterpret_cast<msg_header_t*>(s->sip_via));
                t.best.reset(copy);
            }
    }
    branchFinal(t);
}

void SipService::Impl::cancelBranch(Branch& b, const char* reason) {
    nta_outgoing_tcancel(b.orq, nullptr, nullptr, TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
    if (const char* key = nta_outgoing_branch(b.orq); key && b.cancelKey.empty()) {
        b.cancelKey = key;
        cancelled.insert_or_assign(b.cancelKey, Cancelled{&b, Clock::now()});
    }
}

bool SipService::Impl::finishCancelled(msg_t* response, sip_t const* sip) {
    if (!sip->sip_cseq || sip->sip_cseq->cs_method != sip_method_invite || sip->sip_status->st_status < 200) return false;
    if (!sip->sip_via || !sip->sip_via->v_branch || !sip->sip_to) return false;
    auto it = cancelled.find(sip->sip_via->v_branch);
    if (it == cancelled.end()) return false;
    Branch& b = *it->second.branch;
    const int status = sip->sip_status->st_status;
    if (status >= 300) ackCancelled(b, sip);
    branchAnswered(b, status, response); // a 2xx that crossed the CANCEL: relayed, the call goes on
    return true;
}

void SipService::Impl::ackCancelled(const Branch& b, sip_t const* sip) {
    // The ACK of a non-2xx answer: the INVITE's Request-URI, its Via (our branch), From,
    // Call-ID and CSeq number, the answer's To (RFC 3261 17.1.1.3).
    if (sofia::Msg invite{nta_outgoing_getrequest(b.orq)}; invite)
        if (sip_t const* inv = sip_object(invite.get()); inv && inv->sip_request && inv->sip_via && inv->sip_from && inv->sip_call_id && inv->sip_cseq)
            if (msg_t* ack = nta_msg_create(stack->agent.get(), 0)) {
                sip_t* a = sip_object(ack);
                su_home_t* home = msg_home(ack);
                const sip_via_t* v = inv->sip_via;
                auto via = fmt::format("{} {}{}{};branch={}", v->v_protocol, v->v_host, v->v_port ? ":" : "", v->v_port ? v->v_port : "",
                                       v->v_branch ? v->v_branch : "");
                sip_add_tl(ack, a,
                           SIPTAG_REQUEST(sip_request_create(home, SIP_METHOD_ACK,
                                                             reinterpret_cast<const url_string_t*>(inv->sip_request->rq_url), nullptr)),
                           SIPTAG_VIA_STR(via.c_str()), SIPTAG_MAX_FORWARDS_STR("70"), SIPTAG_FROM(inv->sip_from), SIPTAG_TO(sip->sip_to),
                           SIPTAG_CALL_ID(inv->sip_call_id), SIPTAG_CSEQ(sip_cseq_create(home, inv->sip_cseq->cs_seq, SIP_METHOD_ACK)),
                           TAG_IF(inv->sip_route, SIPTAG_ROUTE(inv->sip_route)), TAG_END());
                sofia::StackHome scratch;
                const char* uri = url_as_string(scratch.get(), inv->sip_request->rq_url);
                auto to = phoneRoute(b.mac, uri ? uriHostPort(uri) : "", b.transport);
                nta_msg_tsend(stack->agent.get(), ack, to.tport ? nullptr : URL_STRING_MAKE(to.url.c_str()), NTATAG_USER_VIA(1),
                              TAG_IF(to.tport, NTATAG_TPORT(to.tport)), TAG_END());
            }
}

void SipService::Impl::sweepCancelled(Clock::time_point now) {
    std::vector<Branch*> late;
    for (const auto& [key, c] : cancelled)
        if (now - c.at > limits::kSipCancelledWait) late.push_back(c.branch);
    for (Branch* b : late) {
        spdlog::info("sip: no final answer from SEP{} to a cancelled INVITE ({}): ended", b->mac, b->txn->detail);
        branchAnswered(*b, 408, nullptr);
    }
}

// Every branch final: the best answer to the caller when no 2xx went, then the transactions
// go (from a posted job: never inside one of their own callbacks).
void SipService::Impl::branchFinal(Proxied& t) {
    if (t.done || std::any_of(t.branches.begin(), t.branches.end(), [](const Branch& b) { return b.status == 0; })) return;
    t.done = true;
    if (auto call = t.bye ? dialogs.find(t.callId) : dialogs.end(); call != dialogs.end()) {
        auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - call->second.answered);
        bus.publish(Service::Sip, EventKind::CallAttempt, Severity::Info, call->second.callerMac, "",
                    fmt::format("call {} -> {} ({}) ended after {} s", call->second.callerDn, call->second.number,
                                call->second.calleeMac.empty() ? "the trunk" : "SEP" + call->second.calleeMac, seconds.count()));
        const auto ended = std::move(call->second);
        dialogs.erase(call);
        countCall(ended, -1);
        callsActive = dialogs.size();
        callChanged(ended.callerDn, ended.number);
    }
    if (!t.answered) {
        setAnswered(t, t.bestStatus ? t.bestStatus : 500);
        if (t.best) nta_incoming_mreply(t.irq, t.best.release());
        else nta_incoming_treply(t.irq, t.answered, sip_status_phrase(t.answered), TAG_END());
        if (t.call) {
            bus.publish(Service::Sip, EventKind::CallAttempt, Severity::Warning, t.callerMac, t.callerIp,
                        fmt::format("{}: answered {}", t.detail, t.answered));
            callChanged(t.callerDn, t.number); // not answered: idle again
        }
    }
    post([this, id = t.id] {
        auto it = stack->proxied.find(id);
        if (it == stack->proxied.end()) return;
        for (auto& b : it->second.branches)
            if (b.orq) nta_outgoing_destroy(b.orq);
        nta_incoming_destroy(it->second.irq);
        stack->proxied.erase(it);
    });
}

// The caller's CANCEL (nta answers it 200, then the INVITE 487): every pending branch is
// cancelled. An ACK to a non-2xx answer comes here too: nothing to do.
int SipService::Impl::onProxiedRequest(nta_incoming_magic_t* magic, nta_incoming_t*, sip_t const* sip) {
    auto& t = *reinterpret_cast<Proxied*>(magic);
    if (!sip || !sip->sip_request || sip->sip_request->rq_method != sip_method_cancel) return 0;
    if (!t.answered) t.self->setAnswered(t, 487);
    for (auto& b : t.branches)
        if (!b.status && b.orq) t.self->cancelBranch(b, nullptr);
    if (t.call) t.self->callChanged(t.callerDn, t.number); // the lamps stop ringing
    if (t.call)
        t.self->bus.publish(Service::Sip, EventKind::CallAttempt, Severity::Info, t.callerMac, t.callerIp,
                            fmt::format("{}: cancelled by the caller", t.detail));
    return 0;
}

void SipService::Impl::sweepDialogs() {
    const auto now = Clock::now();
    auto reachable = [&](const std::string& mac) {
        const Binding* b = registrar.binding(mac);
        return b && registrar.reachable(*b, now);
    };
    std::vector<ActiveCall> ended;
    std::erase_if(dialogs, [&](const auto& entry) {
        const auto& c = entry.second;
        if (reachable(c.callerMac) && (c.calleeMac.empty() || reachable(c.calleeMac))) return false; // "": the trunk
        spdlog::info("sip: call {} between SEP{} and SEP{} ended: a phone is no longer registered", c.callId, c.callerMac,
                     c.calleeMac);
        ended.push_back(c);
        return true;
    });
    callsActive = dialogs.size();
    for (const auto& c : ended) {
        countCall(c, -1);
        callChanged(c.callerDn, c.number);
    }
}

} // namespace labcm::sip
