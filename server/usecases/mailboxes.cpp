// Message waiting (issue 21): a DN's mailbox counts. Set from the CLI, the API or the page
// (or a voicemail system through the API); the SIP service NOTIFYs the phones on the DN.
#include <fmt/format.h>

#include "core/mailbox.h"
#include "store/settings_store.h"
#include "usecases/table.h"

namespace labcm::usecases::detail {

namespace {

json::object mailboxJson(const Mailbox& m) {
    return {{"dn", m.dn}, {"new", m.newMessages}, {"old", m.oldMessages}, {"waiting", m.waiting()}};
}

// A count from the request: absent is `fallback`; out of int range is refused as invalid.
int messageCount(const json::object& a, std::string_view key, int fallback) {
    auto n = optInt(a, key);
    if (!n) return fallback;
    if (*n < 0 || *n > kMaxMailboxMessages)
        invalid({std::string(key), fmt::format("{} is not a number of messages from 0 to {}", *n, kMaxMailboxMessages)});
    return static_cast<int>(*n);
}

} // namespace

void addMailboxUseCases(Table& t) {
    t.add("mailbox.list", [&t](const json::object&, Reply reply) {
        json::array out;
        for (const auto& m : store::MailboxStore(t.ctx.reader).all()) out.push_back(mailboxJson(m));
        reply(okReply(std::move(out)));
    });

    t.add("mailbox.set", [&t](const json::object& a, Reply reply) {
        Mailbox m{reqString(a, "dn"), messageCount(a, "new", 0), messageCount(a, "old", 0)};
        if (auto e = validateMailbox(m)) invalid(*e);
        auto now = nowMs();
        t.write(
            [m, now](store::Db& db) -> json::value {
                store::MailboxStore(db).set(m, now);
                return mailboxJson(m);
            },
            [&t, m](json::value&) {
                t.ctx.bus.publish(Service::Admin, EventKind::MailboxChanged, Severity::Info, "", "",
                                  fmt::format("mailbox {}: {} new, {} old message(s)", m.dn, m.newMessages, m.oldMessages));
            },
            reply);
    });

    t.add("mailbox.rm", [&t](const json::object& a, Reply reply) {
        auto dn = reqString(a, "dn");
        t.write(
            [dn](store::Db& db) -> json::value {
                store::MailboxStore(db).remove(dn);
                return json::object{{"removed", dn}};
            },
            [&t, dn](json::value&) {
                t.ctx.bus.publish(Service::Admin, EventKind::MailboxChanged, Severity::Info, "", "",
                                  fmt::format("mailbox {} removed (no messages waiting)", dn));
            },
            reply);
    });
}

} // namespace labcm::usecases::detail
