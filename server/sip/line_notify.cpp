// Unsolicited NOTIFYs to the phones' lines, the CUCM way (no subscription: a phone never
// SUBSCRIBEs for them; the REGISTER 200's optionsind grants `<unot/>`):
//  - message waiting (cisco-calls.md section 5): `Event: message-summary`, one per line, when a
//    mailbox's counts change and whenever a phone registers anew. The phone picks the line by
//    the Request-URI's user (a line name or contact, else 404): line 1 gets the registered
//    Contact, the others `sip:<DN>@<the phone's address>`.
//  - BLF lamps (next-features.md section 4): `Event: presence` with a PIDF body to every phone
//    whose BLF speed dials watch a number, when that number's state changes (registered or
//    gone, ringing, in a call) and when the watching phone registers; one Call-ID per lamp,
//    the CSeq rising.
// All over the phone's own connection (its TCP connection, else its Contact over UDP).
#include "sip/sofia_impl.h"

#include <algorithm>

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "sip/call_router.h"
#include "sip/source.h"

namespace labcm::sip {

bool SipService::Impl::notifyPhone(const Binding& b, const std::string& requestUri, NotifyCtx ctx, tag_type_t tag,
                                   tag_value_t value, ...) {
    auto& s = *stack;
    auto to = phoneRoute(b.mac, uriHostPort(contactUri(b.contact)), b.transport);
    // RFC 6665 8.2.1: a NOTIFY names its sender's Contact (CUCM: the number at the call manager).
    auto contact = fmt::format("<sip:{}@{}:{};transport={}>", ctx.dn, uriHost(cfg.advertisedHost), boundPort.load(),
                               b.transport.empty() ? "udp" : b.transport);
    auto& kept = s.notifies.emplace_back(std::move(ctx));
    kept.at = std::prev(s.notifies.end());
    ta_list ta;
    ta_start(ta, tag, value);
    auto* orq = nta_outgoing_tcreate(s.leg.get(), &Impl::onNotifyResponse, reinterpret_cast<nta_outgoing_magic_t*>(&kept),
                                     to.tport ? nullptr : URL_STRING_MAKE(to.url.c_str()), SIP_METHOD_NOTIFY,
                                     URL_STRING_MAKE(requestUri.c_str()), TAG_IF(to.tport, NTATAG_TPORT(to.tport)),
                                     SIPTAG_CONTACT_STR(contact.c_str()), ta_tags(ta));
    ta_end(ta);
    if (orq) return true;
    spdlog::warn("sip: cannot send the {} NOTIFY for {} to SEP{} at {}", kept.mwi ? "message-summary" : "presence", kept.dn,
                 b.mac, requestUri);
    s.notifies.pop_back();
    return false;
}

int SipService::Impl::onNotifyResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip) {
    const int status = nta_outgoing_status(orq);
    if (status < 200) return 0;
    sofia::Outgoing finished{orq};
    auto* ctx = reinterpret_cast<NotifyCtx*>(magic);
    Impl* self = ctx->self;
    const char* phrase = sip && sip->sip_status && sip->sip_status->st_phrase ? sip->sip_status->st_phrase : sip_status_phrase(status);
    if (ctx->mwi) {
        const Mailbox* m = nullptr;
        if (auto it = self->mailboxes.find(ctx->dn); it != self->mailboxes.end()) m = &it->second;
        self->bus.publish(Service::Sip, EventKind::MessageWaiting, status < 300 ? Severity::Info : Severity::Warning, ctx->mac, "",
                          fmt::format("message waiting on {} ({} new, {} old): NOTIFY answered {} {}", ctx->dn,
                                      m ? m->newMessages : 0, m ? m->oldMessages : 0, status, phrase ? phrase : ""));
    } else if (status >= 300) {
        spdlog::info("sip mac={}: the BLF lamp NOTIFY for {} was answered {} {}", ctx->mac, ctx->dn, status, phrase ? phrase : "");
        // RFC 6665 4.2.2: a NOTIFY refused as not in a subscription (481), or with one of the
        // codes that mean the subscriber cannot take it, ends the subscription it was sent in.
        static constexpr int kEnding[] = {404, 405, 410, 416, 480, 481, 482, 483, 484, 485, 489, 501, 604};
        auto lamp = self->lamps.find({ctx->mac, ctx->dn});
        if (std::find(std::begin(kEnding), std::end(kEnding), status) != std::end(kEnding) && lamp != self->lamps.end() &&
            lamp->second.subscribed && lamp->second.callId == ctx->callId)
            self->endSubscription(ctx->mac, ctx->dn, lamp->second);
    }
    finished.reset(); // nta_outgoing_destroy, then the context goes
    // (During the teardown the stack is going away and drops every context itself.)
    if (self->stack) self->stack->notifies.erase(ctx->at);
    return 0;
}

// --- message waiting ----------------------------------------------------------------------

void SipService::Impl::applyMailboxes(std::vector<Mailbox> all) {
    std::map<std::string, Mailbox> next;
    for (auto& m : all) next.emplace(m.dn, std::move(m));
    std::vector<Mailbox> changed;
    for (const auto& [dn, m] : next)
        if (auto it = mailboxes.find(dn); it == mailboxes.end() || !(it->second == m)) changed.push_back(m);
    for (const auto& [dn, m] : mailboxes)
        if (!next.contains(dn)) changed.push_back(Mailbox{dn, 0, 0}); // removed: the lamp goes off
    mailboxes = std::move(next);
    const auto now = Clock::now();
    for (const auto& m : changed)
        if (const auto* macs = registrar.devicesOnDn(m.dn))
            for (const auto& mac : *macs)
                if (const Binding* b = registrar.binding(mac); b && registrar.reachable(*b, now)) sendMwi(*b, m.dn, m);
}

void SipService::Impl::sendMwi(const Binding& b, const std::string& dn, const Mailbox& m) {
    const std::string contact = contactUri(b.contact);
    const bool primary = !b.dns.empty() && b.dns.front() == dn;
    const std::string uri = primary ? contact
                                    : fmt::format("sip:{}@{};transport={}", dn, uriHostPort(contact),
                                                  b.transport.empty() ? "udp" : b.transport);
    const auto host = uriHost(cfg.advertisedHost);
    auto to = fmt::format("<sip:{}@{}>", dn, host);
    auto from = fmt::format("{};tag=mwi{}", to, b.mac);
    auto body = messageSummaryBody(m.newMessages, m.oldMessages, fmt::format("sip:{}@{}", dn, host));
    notifyPhone(b, uri, NotifyCtx{this, b.mac, dn, true, ""}, SIPTAG_FROM_STR(from.c_str()), SIPTAG_TO_STR(to.c_str()),
                SIPTAG_EVENT_STR("message-summary"), SIPTAG_SUBSCRIPTION_STATE_STR("active"),
                SIPTAG_CONTENT_TYPE_STR("application/simple-message-summary"), SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
}

// --- registrations: message waiting again, and the lamps ------------------------------------

void SipService::Impl::phoneRegistered(const std::string& mac) {
    const auto now = Clock::now();
    const Binding* b = registrar.binding(mac);
    if (!b || !registrar.reachable(*b, now)) return;
    for (const auto& dn : b->dns)
        if (auto it = mailboxes.find(dn); it != mailboxes.end()) sendMwi(*b, dn, it->second);
    if (const DeviceView* d = registrar.device(mac))
        for (const auto& target : d->blfTargets) sendLamp(*b, target, lineState(target, now), LampSend::Always);
    linesChanged(mac);
}

std::vector<std::string> SipService::Impl::dnsOf(const std::string& mac) const {
    const DeviceView* d = registrar.device(mac);
    return d ? d->dns : std::vector<std::string>{};
}

void SipService::Impl::linesChanged(const std::string& mac) {
    if (const DeviceView* d = registrar.device(mac))
        for (const auto& dn : d->dns) lampsOn(dn);
}

void SipService::Impl::callChanged(const std::string& callerDn, const std::string& number) {
    lampsOn(callerDn);
    if (number != callerDn) lampsOn(number);
}

// --- BLF lamps ------------------------------------------------------------------------------

LineState SipService::Impl::lineState(const std::string& dn, Clock::time_point now) const {
    const auto* macs = registrar.devicesOnDn(dn);
    const bool reachable = macs && std::any_of(macs->begin(), macs->end(), [&](const std::string& mac) {
                               const Binding* b = registrar.binding(mac);
                               return b && registrar.reachable(*b, now);
                           });
    if (!reachable) return LineState::Unregistered;
    auto it = lineCounts.find(dn);
    if (it == lineCounts.end()) return LineState::Idle;
    if (it->second.inCall > 0 || it->second.callingOut > 0) return LineState::Busy;
    return it->second.ringing > 0 ? LineState::Ringing : LineState::Idle;
}

void SipService::Impl::countLine(const std::string& dn, int LineCounts::*field, int delta) {
    if (dn.empty()) return;
    auto it = lineCounts.try_emplace(dn).first;
    it->second.*field += delta;
    if (it->second.inCall <= 0 && it->second.callingOut <= 0 && it->second.ringing <= 0) lineCounts.erase(it);
}

void SipService::Impl::countCall(const ActiveCall& c, int delta) {
    countLine(c.callerDn, &LineCounts::inCall, delta);
    if (c.number != c.callerDn) countLine(c.number, &LineCounts::inCall, delta);
}

void SipService::Impl::countPending(const Proxied& t, int delta) {
    countLine(t.callerDn, &LineCounts::callingOut, delta);
    countLine(t.number, &LineCounts::ringing, delta);
}

void SipService::Impl::setAnswered(Proxied& t, int status) {
    if (t.call && !t.answered) countPending(t, -1);
    t.answered = status;
}

void SipService::Impl::lampsOn(const std::string& dn) {
    const auto* watchers = registrar.watchersOf(dn);
    auto subscribed = subscribers.find(dn);
    if (!watchers && subscribed == subscribers.end()) return;
    std::set<std::string> macs;
    if (watchers) macs.insert(watchers->begin(), watchers->end());
    if (subscribed != subscribers.end()) macs.insert(subscribed->second.begin(), subscribed->second.end());
    const auto now = Clock::now();
    const LineState state = lineState(dn, now);
    for (const auto& mac : macs)
        if (const Binding* b = registrar.binding(mac); b && registrar.reachable(*b, now)) sendLamp(*b, dn, state, LampSend::IfChanged);
}

void SipService::Impl::phoneGone(const std::string& mac, const std::vector<std::string>& dns) {
    for (auto it = lamps.lower_bound({mac, ""}); it != lamps.end() && it->first.first == mac;) {
        if (it->second.subscribed)
            if (auto sub = subscribers.find(it->first.second); sub != subscribers.end() && (sub->second.erase(mac), sub->second.empty()))
                subscribers.erase(sub);
        it = lamps.erase(it);
    }
    for (const auto& dn : dns) lampsOn(dn);
}

void SipService::Impl::deviceChanged(const std::string& mac, const std::vector<std::string>& oldDns) {
    const auto now = Clock::now();
    const DeviceView* d = registrar.device(mac);
    if (!d) return;
    if (const Binding* b = registrar.binding(mac); b && registrar.reachable(*b, now))
        for (const auto& target : d->blfTargets) sendLamp(*b, target, lineState(target, now), LampSend::IfChanged);
    std::set<std::string> dns(oldDns.begin(), oldDns.end());
    dns.insert(d->dns.begin(), d->dns.end());
    for (const auto& dn : dns) lampsOn(dn);
}

void SipService::Impl::relightLamps() {
    const auto now = Clock::now();
    std::map<std::string, LineState> states; // each number's state, once
    auto stateOf = [&](const std::string& dn) {
        auto [it, fresh] = states.try_emplace(dn);
        if (fresh) it->second = lineState(dn, now);
        return it->second;
    };
    for (const auto& [mac, b] : registrar.bindings()) {
        if (!registrar.reachable(b, now)) continue;
        std::set<std::string> numbers; // its BLF keys' and its subscriptions'
        if (const DeviceView* d = registrar.device(mac)) numbers.insert(d->blfTargets.begin(), d->blfTargets.end());
        for (auto it = lamps.lower_bound({mac, ""}); it != lamps.end() && it->first.first == mac; ++it)
            if (it->second.subscribed) numbers.insert(it->first.second);
        for (const auto& dn : numbers) sendLamp(b, dn, stateOf(dn), LampSend::IfChanged);
    }
}

int SipService::Impl::onSubscribe(nta_incoming_t* irq, sip_t const* sip) {
    if (!sip->sip_event || !sip->sip_event->o_type || !su_casematch(sip->sip_event->o_type, "presence")) return 489;
    const std::string dn = sip->sip_request->rq_url->url_user ? sip->sip_request->rq_url->url_user : "";
    // The subscriber: a phone registered from the address the SUBSCRIBE came from.
    const std::string mac = identifyDevice(readCiscoContact(sip->sip_contact), std::nullopt).value_or("");
    const Binding* b = mac.empty() ? nullptr : registrar.binding(mac);
    std::string transport, source;
    {
        sofia::Msg request{nta_incoming_getrequest(irq)};
        sofia::TportRef tp;
        readOrigin(request.get(), transport, source, tp);
    }
    const auto now = Clock::now();
    if (!b || !registrar.reachable(*b, now) || sourceAddress(b->source) != sourceAddress(source) || !sip->sip_from || !sip->sip_to ||
        !sip->sip_from->a_tag || !sip->sip_call_id || !sip->sip_contact)
        return 403;
    if (dn.empty() || !registrar.devicesOnDn(dn)) return 404; // (told only to a registered phone)
    std::size_t held = 0;
    for (auto it = lamps.lower_bound({mac, ""}); it != lamps.end() && it->first.first == mac; ++it)
        if (it->second.subscribed && it->second.expiresAt >= now && it->first.second != dn) ++held; // lapsed ones do not count
    if (held >= limits::kSipMaxSubscriptionsPerPhone) {
        nta_incoming_treply(irq, 403, "Too Many Subscriptions", TAG_END());
        spdlog::info("sip mac={}: SUBSCRIBE to {} refused: {} subscriptions already", mac, dn, held);
        return 403;
    }
    const long asked = sip->sip_expires ? static_cast<long>(sip->sip_expires->ex_delta) : 3600;
    const long granted = std::clamp(asked, 0L, 3600L);
    const char* tag = nta_incoming_tag(irq, nullptr);
    auto expires = std::to_string(granted);
    auto contact = fmt::format("<sip:{}:{};transport={}>", uriHost(cfg.advertisedHost), boundPort.load(), transport.empty() ? "udp" : transport);
    nta_incoming_treply(irq, SIP_200_OK, SIPTAG_EXPIRES_STR(expires.c_str()), SIPTAG_CONTACT_STR(contact.c_str()), TAG_END());
    Lamp& lamp = lamps[{mac, dn}];
    {
        sofia::StackHome scratch;
        const char* toUri = url_as_string(scratch.get(), sip->sip_to->a_url);
        const char* fromUri = url_as_string(scratch.get(), sip->sip_from->a_url);
        const char* target = url_as_string(scratch.get(), sip->sip_contact->m_url);
        if (lamp.callId != sip->sip_call_id->i_id) lamp.cseq = 0;
        lamp.callId = sip->sip_call_id->i_id;
        lamp.from = fmt::format("<{}>;tag={}", toUri ? toUri : "", tag ? tag : "labcm");
        lamp.to = fmt::format("<{}>;tag={}", fromUri ? fromUri : "", sip->sip_from->a_tag);
        lamp.target = target ? target : "";
    }
    lamp.subscribed = true;
    lamp.expiresAt = now + std::chrono::seconds(granted);
    subscribers[dn].insert(mac);
    sendLamp(*b, dn, lineState(dn, now), LampSend::Subscription);
    if (granted == 0) endSubscription(mac, dn, lamp); // that NOTIFY said terminated
    return 200;
}

void SipService::Impl::endSubscription(const std::string& watcher, const std::string& dn, Lamp& lamp) {
    lamp.subscribed = false;
    lamp.callId.clear(); // a BLF key's lamp goes on in a Call-ID of its own
    if (auto sub = subscribers.find(dn); sub != subscribers.end() && (sub->second.erase(watcher), sub->second.empty()))
        subscribers.erase(sub);
}

void SipService::Impl::sendLamp(const Binding& watcher, const std::string& dn, LineState state, LampSend mode) {
    auto [at, fresh] = lamps.try_emplace({watcher.mac, dn});
    Lamp& lamp = at->second;
    if (!fresh && mode == LampSend::IfChanged && lamp.state == state) return;
    const auto now = Clock::now();
    // A subscription the phone did not renew: unsolicited again, if its keys watch the number.
    // (Not for the SUBSCRIBE itself: an unsubscribe's last NOTIFY says terminated.)
    if (lamp.subscribed && now > lamp.expiresAt && mode != LampSend::Subscription) {
        endSubscription(watcher.mac, dn, lamp);
        const auto* watchers = registrar.watchersOf(dn);
        if (!watchers || !std::binary_search(watchers->begin(), watchers->end(), watcher.mac)) return;
    }
    const auto host = uriHost(cfg.advertisedHost);
    if (!lamp.subscribed) {
        // A Call-ID of its own each time a lamp starts (the phone may still know an earlier
        // one's CSeq: a lower CSeq in the same Call-ID is refused).
        if (lamp.callId.empty()) lamp.callId = fmt::format("blf-{}-{}-{}@{}", watcher.mac, dn, ++lampsStarted, cfg.advertisedHost);
        lamp.from = fmt::format("<sip:{}@{}>;tag=blf{}", dn, host, watcher.mac);
        lamp.to = fmt::format("<sip:{}@{}>", watcher.dns.empty() ? dn : watcher.dns.front(), host);
        lamp.target = contactUri(watcher.contact);
    }
    lamp.state = state;
    ++lamp.cseq;
    auto cseq = fmt::format("{} NOTIFY", lamp.cseq);
    auto subscription = !lamp.subscribed ? std::string("active")
                        : now >= lamp.expiresAt
                            ? std::string("terminated;reason=timeout")
                            : fmt::format("active;expires={}",
                                          std::chrono::duration_cast<std::chrono::seconds>(lamp.expiresAt - now).count());
    auto body = presenceBody(dn, host, state);
    notifyPhone(watcher, lamp.target, NotifyCtx{this, watcher.mac, dn, false, lamp.callId}, SIPTAG_FROM_STR(lamp.from.c_str()),
                SIPTAG_TO_STR(lamp.to.c_str()), SIPTAG_CALL_ID_STR(lamp.callId.c_str()), SIPTAG_CSEQ_STR(cseq.c_str()),
                SIPTAG_EVENT_STR("presence"), SIPTAG_SUBSCRIPTION_STATE_STR(subscription.c_str()),
                SIPTAG_CONTENT_TYPE_STR("application/pidf+xml"), SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
}

} // namespace labcm::sip
