#include "store/seen_phone_store.h"

namespace labcm::store {

namespace {
constexpr const char* kColumns = "mac, model, source, detail, address, first_seen, last_seen";

SeenPhone read(Stmt& s) {
    return {s.getText(0), s.getText(1), s.getText(2), s.getText(3), s.getText(4), s.getInt(5), s.getInt(6)};
}
} // namespace

void SeenPhoneStore::record(const SeenPhone& p, std::int64_t nowMs) {
    db_.prepare("INSERT INTO seen_phones (mac, model, source, detail, address, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mac) DO UPDATE SET "
                "model = CASE WHEN excluded.model = '' THEN model ELSE excluded.model END, "
                "source = excluded.source, detail = excluded.detail, address = excluded.address, "
                "last_seen = excluded.last_seen")
        .bind(1, p.mac)
        .bind(2, p.model)
        .bind(3, p.source)
        .bind(4, p.detail)
        .bind(5, p.address)
        .bind(6, nowMs)
        .bind(7, nowMs)
        .run();
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
