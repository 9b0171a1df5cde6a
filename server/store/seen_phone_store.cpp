#include "store/seen_phone_store.h"

#include <chrono>

#include "core/limits.h"
#include "core/text.h"

namespace labcm::store {

namespace {
constexpr const char* kColumns = "mac, model, source, detail, address, first_seen, last_seen";

SeenPhone read(Stmt& s) {
    return {s.getText(0), s.getText(1), s.getText(2), s.getText(3), s.getText(4), s.getInt(5), s.getInt(6)};
}
} // namespace

void SeenPhoneStore::record(const SeenPhone& p, std::int64_t nowMs) {
    // What the network sent is kept short: a User-Agent can be 63 KB in a UDP REGISTER.
    std::string detail = text::cutUtf8(p.detail, limits::kSeenPhoneDetail);
    db_.prepare("INSERT INTO seen_phones (mac, model, source, detail, address, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mac) DO UPDATE SET "
                "model = CASE WHEN excluded.model = '' THEN model ELSE excluded.model END, "
                "source = excluded.source, detail = excluded.detail, address = excluded.address, "
                "last_seen = excluded.last_seen")
        .bind(1, p.mac)
        .bind(2, p.model)
        .bind(3, p.source)
        .bind(4, detail)
        .bind(5, p.address)
        .bind(6, nowMs)
        .bind(7, nowMs)
        .run();
    // Bounded by age and count, the longest unseen first (index seen_phones_by_last_seen).
    auto old = db_.prepare("DELETE FROM seen_phones WHERE last_seen < ?");
    old.bind(1, nowMs - std::chrono::duration_cast<std::chrono::milliseconds>(limits::kSeenPhoneMaxAge).count());
    old.run();
    auto over = db_.prepare("DELETE FROM seen_phones WHERE mac IN (SELECT mac FROM seen_phones ORDER BY last_seen "
                            "LIMIT max(0, (SELECT count(*) FROM seen_phones) - ?))");
    over.bind(1, static_cast<std::int64_t>(limits::kSeenPhonesMax));
    over.run();
}

std::optional<SeenPhone> SeenPhoneStore::get(const std::string& mac) {
    auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM seen_phones WHERE mac = ?");
    s.bind(1, mac);
    if (!s.step()) return std::nullopt;
    return read(s);
}

std::vector<SeenPhone> SeenPhoneStore::all() {
    auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM seen_phones ORDER BY mac");
    std::vector<SeenPhone> out;
    while (s.step()) out.push_back(read(s));
    return out;
}

} // namespace labcm::store
