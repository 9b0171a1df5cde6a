// Message waiting (issue 21, cisco-calls.md section 5): CUCM's unsolicited `Event:
// message-summary` NOTIFY, one per line, when a mailbox's counts change and whenever a phone
// registers anew. A phone picks the line by the Request-URI's user (a line name or contact,
// else 404): line 1 gets the registered Contact, the others `sip:<DN>@<the phone's address>`,
// all over the phone's own connection. No subscription: phones never SUBSCRIBE for MWI.
#include "sip/sofia_impl.h"

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sip/call_router.h"

namespace labcm::sip {

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

void SipService::Impl::notifyMailboxes(const std::string& mac) {
    const Binding* b = registrar.binding(mac);
    if (!b || !registrar.reachable(*b, Clock::now())) return;
    for (const auto& dn : b->dns)
        if (auto it = mailboxes.find(dn); it != mailboxes.end()) sendMwi(*b, dn, it->second);
}

void SipService::Impl::sendMwi(const Binding& b, const std::string& dn, const Mailbox& m) {
    auto& s = *stack;
    const std::string contact = contactUri(b.contact);
    const std::string hostPort = uriHostPort(contact);
    const bool primary = !b.dns.empty() && b.dns.front() == dn;
    const std::string uri = primary ? contact
                                    : fmt::format("sip:{}@{};transport={}", dn, hostPort, b.transport.empty() ? "udp" : b.transport);
    auto to = phoneRoute(b.mac, hostPort, b.transport);
    auto from = fmt::format("<sip:{}@{}>", dn, cfg.advertisedHost);
    auto toHeader = fmt::format("<sip:{}@{}>", dn, cfg.advertisedHost);
    auto body = messageSummaryBody(m.newMessages, m.oldMessages, fmt::format("sip:{}@{}", dn, cfg.advertisedHost));
    auto& ctx = s.mwis.emplace_back(MwiCtx{this, b.mac, dn});
    auto* orq = nta_outgoing_tcreate(s.leg.get(), &Impl::onMwiResponse, reinterpret_cast<nta_outgoing_magic_t*>(&ctx),
                                     to.tport ? nullptr : URL_STRING_MAKE(to.url.c_str()), SIP_METHOD_NOTIFY,
                                     URL_STRING_MAKE(uri.c_str()), SIPTAG_FROM_STR(from.c_str()), SIPTAG_TO_STR(toHeader.c_str()),
                                     SIPTAG_EVENT_STR("message-summary"), SIPTAG_SUBSCRIPTION_STATE_STR("active"),
                                     SIPTAG_CONTENT_TYPE_STR("application/simple-message-summary"),
                                     SIPTAG_PAYLOAD_STR(body.c_str()), TAG_IF(to.tport, NTATAG_TPORT(to.tport)), TAG_END());
    if (!orq) {
        s.mwis.pop_back();
        spdlog::warn("sip: cannot send the message-summary NOTIFY for {} to SEP{} at {}", dn, b.mac, uri);
    }
}

int SipService::Impl::onMwiResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip) {
    const int status = nta_outgoing_status(orq);
    if (status < 200) return 0;
    sofia::Outgoing finished{orq};
    auto* ctx = reinterpret_cast<MwiCtx*>(magic);
    Impl* self = ctx->self;
    const char* phrase = sip && sip->sip_status && sip->sip_status->st_phrase ? sip->sip_status->st_phrase : sip_status_phrase(status);
    const Mailbox* m = nullptr;
    if (auto it = self->mailboxes.find(ctx->dn); it != self->mailboxes.end()) m = &it->second;
    self->bus.publish(Service::Sip, EventKind::MessageWaiting, status < 300 ? Severity::Info : Severity::Warning, ctx->mac, "",
                      fmt::format("message waiting on {} ({} new, {} old): NOTIFY answered {} {}", ctx->dn,
                                  m ? m->newMessages : 0, m ? m->oldMessages : 0, status, phrase ? phrase : ""));
    finished.reset(); // nta_outgoing_destroy, then the context goes
    if (self->stack) self->stack->mwis.remove_if([ctx](const MwiCtx& c) { return &c == ctx; });
    return 0;
}

} // namespace labcm::sip
