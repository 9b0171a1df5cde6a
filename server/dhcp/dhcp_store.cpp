#include "dhcp/dhcp_store.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "store/device_store.h"

namespace labcm::dhcp {

namespace {
constexpr const char* kPoolColumns =
    "name, subnet, range_first, range_last, routers, dns, domain, ntp, tftp, option66, lease_seconds";
constexpr const char* kLeaseColumns = "address, mac, state, expires, pool, vendor_class, model, hostname, updated_at";

PoolSpec readPool(store::Stmt& s) {
    return {s.getText(0), s.getText(1), s.getText(2), s.getText(3), s.getText(4), s.getText(5),
            s.getText(6), s.getText(7), s.getText(8), s.getText(9), s.getInt(10)};
}
} // namespace

std::vector<PoolSpec> DhcpStore::pools() {
    auto s = db_.prepare(fmt::format("SELECT {} FROM dhcp_pools ORDER BY name", kPoolColumns));
    std::vector<PoolSpec> out;
    while (s.step()) out.push_back(readPool(s));
    return out;
}

std::optional<PoolSpec> DhcpStore::pool(const std::string& name) {
    auto s = db_.prepare(fmt::format("SELECT {} FROM dhcp_pools WHERE name = ?", kPoolColumns));
    s.bind(1, name);
    if (!s.step()) return std::nullopt;
    return readPool(s);
}

void DhcpStore::savePool(const PoolSpec& p, std::int64_t nowMs) {
    db_.prepare(fmt::format("INSERT OR REPLACE INTO dhcp_pools ({}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            kPoolColumns))
        .bind(1, p.name).bind(2, p.subnet).bind(3, p.rangeFirst).bind(4, p.rangeLast).bind(5, p.routers)
        .bind(6, p.dns).bind(7, p.domain).bind(8, p.ntp).bind(9, p.tftp).bind(10, p.option66)
        .bind(11, p.leaseSeconds).bind(12, nowMs)
        .run();
}

void DhcpStore::removePool(const std::string& name) {
    auto s = db_.prepare("DELETE FROM dhcp_pools WHERE name = ?");
    s.bind(1, name);
    s.run();
    if (db_.changes() == 0) throw store::NotFound(fmt::format("DHCP pool '{}' does not exist", name));
}

std::vector<Lease> DhcpStore::leases() {
    auto s = db_.prepare(fmt::format("SELECT {} FROM dhcp_leases", kLeaseColumns));
    std::vector<Lease> out;
    while (s.step()) {
        auto address = parseAddr(s.getText(0));
        auto state = leaseStateFromString(s.getText(2));
        if (!address || !state) {
            spdlog::warn("dhcp: lease row '{}' ({}) is not valid and is ignored", s.getText(0), s.getText(2));
            continue;
        }
        out.push_back({*address, s.getText(1), *state, s.getInt(3), s.getText(4), s.getText(5), s.getText(6),
                       s.getText(7), s.getInt(8)});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
    return out;
}

void DhcpStore::saveLease(const Lease& l) {
    static const std::string save =
        fmt::format("INSERT OR REPLACE INTO dhcp_leases ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", kLeaseColumns);
    db_.prepare(save)
        .bind(1, addrText(l.address)).bind(2, l.mac).bind(3, toString(l.state)).bind(4, l.expiresMs)
        .bind(5, l.pool).bind(6, l.vendorClass).bind(7, l.model).bind(8, l.hostname).bind(9, l.updatedMs)
        .run();
}

bool DhcpStore::removeLease(Addr address) {
    auto s = db_.prepare("DELETE FROM dhcp_leases WHERE address = ?");
    s.bind(1, addrText(address));
    s.run();
    return db_.changes() > 0;
}

} // namespace labcm::dhcp
