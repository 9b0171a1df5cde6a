#include "dhcp/allocator.h"

#include <fmt/format.h>

namespace labcm::dhcp {

std::string_view toString(LeaseState s) {
    switch (s) {
    case LeaseState::Bound: return "bound";
    case LeaseState::Released: return "released";
    case LeaseState::Declined: return "declined";
    }
    return "?";
}

std::optional<LeaseState> leaseStateFromString(std::string_view s) {
    for (auto st : {LeaseState::Bound, LeaseState::Released, LeaseState::Declined})
        if (toString(st) == s) return st;
    return std::nullopt;
}

void Allocator::setPools(std::vector<Pool> pools) { pools_ = std::move(pools); }

void Allocator::setReservations(std::map<std::string, Addr> reservations) {
    reservedByMac_ = std::move(reservations);
    reservedByAddr_.clear();
    for (const auto& [mac, a] : reservedByMac_) reservedByAddr_[a] = mac;
}

void Allocator::load(const std::vector<Lease>& leases) {
    leases_.clear();
    offers_.clear();
    for (const auto& l : leases) leases_[l.address] = l;
}

const Pool* Allocator::poolFor(Addr link) const {
    for (const auto& p : pools_)
        if (p.inSubnet(link)) return &p;
    return nullptr;
}

std::optional<Addr> Allocator::reservationOf(const std::string& mac) const {
    auto it = reservedByMac_.find(mac);
    if (it == reservedByMac_.end()) return std::nullopt;
    return it->second;
}

bool Allocator::freeFor(const std::string& mac, Addr a, Addr self, std::int64_t nowMs) const {
    if (a == self) return false;
    if (auto r = reservedByAddr_.find(a); r != reservedByAddr_.end() && r->second != mac) return false;
    if (auto l = leases_.find(a); l != leases_.end() && l->second.mac != mac && l->second.active(nowMs)) return false;
    // A declined address stays out even for the client that declined it.
    if (auto l = leases_.find(a); l != leases_.end() && l->second.state == LeaseState::Declined && l->second.active(nowMs))
        return false;
    if (auto o = offers_.find(a); o != offers_.end() && o->second.mac != mac && o->second.expiresMs > nowMs) return false;
    return true;
}

std::optional<Addr> Allocator::offer(const Pool& pool, const std::string& mac, std::optional<Addr> requested, Addr self,
                                     std::int64_t nowMs, std::string& why) {
    auto hold = [&](Addr a) {
        // One offer per client: a new DISCOVER replaces the last one.
        dropOffer(mac);
        offers_[a] = Offer{mac, nowMs + offerHoldMs_};
        return a;
    };
    if (auto r = reservationOf(mac); r && pool.inSubnet(*r)) {
        if (freeFor(mac, *r, self, nowMs)) return hold(*r);
        why = fmt::format("its reserved address {} is held by another client", addrText(*r));
        return std::nullopt;
    }
    for (const auto& [a, l] : leases_)
        if (l.mac == mac && l.pool == pool.name && l.state != LeaseState::Declined && pool.inRange(a) &&
            freeFor(mac, a, self, nowMs))
            return hold(a);
    if (requested && pool.inRange(*requested) && freeFor(mac, *requested, self, nowMs) &&
        !leases_.contains(*requested))
        return hold(*requested);
    for (Addr a = pool.first;; ++a) {
        if (!leases_.contains(a) && freeFor(mac, a, self, nowMs)) return hold(a);
        if (a == pool.last) break;
    }
    // Every address has been used once: the lease that ended longest ago goes first.
    std::optional<Addr> best;
    std::int64_t bestEnd = 0;
    for (auto it = leases_.lower_bound(pool.first); it != leases_.end() && it->first <= pool.last; ++it) {
        const auto& l = it->second;
        if (l.active(nowMs) || !freeFor(mac, it->first, self, nowMs)) continue;
        if (!best || l.expiresMs < bestEnd) {
            best = it->first;
            bestEnd = l.expiresMs;
        }
    }
    if (best) return hold(*best);
    why = fmt::format("pool {} has no free address ({} addresses, all leased, offered, reserved or declined)",
                      pool.name, pool.size());
    return std::nullopt;
}

Verdict Allocator::check(const Pool& pool, const std::string& mac, Addr address, Addr self, std::int64_t nowMs) const {
    if (!pool.inSubnet(address))
        return {Verdict::Nak, fmt::format("{} is not on this network ({}/{})", addrText(address), addrText(pool.network), pool.prefix)};
    auto reserved = reservationOf(mac);
    if (reserved && pool.inSubnet(*reserved) && *reserved != address)
        return {Verdict::Nak, fmt::format("this MAC has the reserved address {}", addrText(*reserved))};
    if (!(reserved && *reserved == address) && !pool.inRange(address))
        return {Verdict::Nak, fmt::format("{} is outside the range of pool {}", addrText(address), pool.name)};
    if (!freeFor(mac, address, self, nowMs)) {
        auto l = leases_.find(address);
        if (l != leases_.end() && l->second.state == LeaseState::Declined)
            return {Verdict::Nak, fmt::format("{} was declined (in use by another host)", addrText(address))};
        return {Verdict::Nak, fmt::format("{} is held by another client", addrText(address))};
    }
    return {Verdict::Grant, {}};
}

Allocator::Granted Allocator::grant(const Pool& pool, Lease lease, std::int64_t nowMs) {
    Granted g;
    if (auto it = leases_.find(lease.address); it != leases_.end()) g.previous.push_back(it->second);
    lease.pool = pool.name;
    lease.state = LeaseState::Bound;
    lease.expiresMs = nowMs + std::int64_t{pool.leaseSeconds} * 1000;
    lease.updatedMs = nowMs;
    g.save.push_back(lease);
    for (auto& [a, l] : leases_)
        if (a != lease.address && l.mac == lease.mac && l.pool == pool.name && l.state == LeaseState::Bound &&
            l.active(nowMs)) {
            g.previous.push_back(l);
            l.state = LeaseState::Released;
            l.expiresMs = nowMs;
            l.updatedMs = nowMs;
            g.save.push_back(l);
        }
    offers_.erase(lease.address);
    leases_[lease.address] = lease;
    return g;
}

void Allocator::revert(const Granted& g) {
    leases_.erase(g.save.front().address);
    for (const auto& l : g.previous) leases_[l.address] = l;
}

std::optional<Lease> Allocator::release(const std::string& mac, Addr address, std::int64_t nowMs) {
    auto it = leases_.find(address);
    if (it == leases_.end() || it->second.mac != mac || it->second.state != LeaseState::Bound) return std::nullopt;
    it->second.state = LeaseState::Released;
    it->second.expiresMs = nowMs;
    it->second.updatedMs = nowMs;
    return it->second;
}

std::optional<Lease> Allocator::decline(const std::string& mac, Addr address, std::int64_t holdMs, std::int64_t nowMs) {
    auto it = leases_.find(address);
    bool offered = false;
    if (auto o = offers_.find(address); o != offers_.end() && o->second.mac == mac) offered = true;
    if (!offered && (it == leases_.end() || it->second.mac != mac)) return std::nullopt;
    Lease l = it != leases_.end() ? it->second : Lease{};
    l.address = address;
    l.mac = mac;
    l.state = LeaseState::Declined;
    l.expiresMs = nowMs + holdMs;
    l.updatedMs = nowMs;
    if (l.pool.empty())
        if (auto* p = poolFor(address)) l.pool = p->name;
    offers_.erase(address);
    leases_[address] = l;
    return l;
}

bool Allocator::forget(Addr address) {
    offers_.erase(address);
    return leases_.erase(address) > 0;
}

void Allocator::dropOffer(const std::string& mac) {
    std::erase_if(offers_, [&](const auto& kv) { return kv.second.mac == mac; });
}

const Lease* Allocator::find(Addr address) const {
    auto it = leases_.find(address);
    return it == leases_.end() ? nullptr : &it->second;
}

std::string ciscoOnlyRefusal(std::string_view vendorClass, bool knownDevice) {
    if (knownDevice) return {};
    if (modelFromVendorClass(vendorClass)) return {};
    // "Cisco Systems, Inc. IP Phone" without a model, or a 6901's bare "Cisco Systems, Inc.".
    if (vendorClass.starts_with("Cisco Systems") &&
        (vendorClass.find("Phone") != std::string_view::npos || vendorClass.find_first_not_of('\0', 19) == std::string_view::npos))
        return {};
    if (vendorClass.empty()) return "cisco-only mode: no vendor class (option 60) and not a configured device";
    return fmt::format("cisco-only mode: vendor class '{}' is not a Cisco phone's and the MAC is not a configured device",
                       vendorClass.substr(0, 64));
}

} // namespace labcm::dhcp
