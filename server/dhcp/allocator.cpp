#include "dhcp/allocator.h"

#include <fmt/format.h>

namespace labcm::dhcp {

std::string_view toString(LeaseState s) {
    switch (s) {
    case LeaseState::Bound: return "bound";
    case LeaseState::Released: return "released";
    case LeaseState::Declined: return "declined";
    case LeaseState::Expired: return "expired";
    }
    return "?";
}

std::optional<LeaseState> leaseStateFromString(std::string_view s) {
    for (auto st : {LeaseState::Bound, LeaseState::Released, LeaseState::Declined, LeaseState::Expired})
        if (toString(st) == s) return st;
    return std::nullopt;
}

void Allocator::setPools(std::vector<Pool> pools) {
    pools_ = std::move(pools);
    fresh_.clear(); // each pool's cursor starts again at its first address
}

void Allocator::setReservations(std::map<std::string, Addr> reservations) {
    reservedByMac_ = std::move(reservations);
    reservedByAddr_.clear();
    for (const auto& [mac, a] : reservedByMac_) reservedByAddr_[a] = mac;
    fresh_.clear(); // the cursors skipped the old reserved addresses
}

void Allocator::load(const std::vector<Lease>& leases) {
    leases_.clear();
    leasesOfMac_.clear();
    byEnd_.clear();
    boundByEnd_.clear();
    offers_.clear();
    offerOfMac_.clear();
    offerOrder_.clear();
    fresh_.clear();
    for (const auto& l : leases) put(l);
}

void Allocator::put(const Lease& l) {
    if (auto it = leases_.find(l.address); it != leases_.end()) {
        byEnd_.erase({it->second.expiresMs, l.address});
        boundByEnd_.erase({it->second.expiresMs, l.address});
        if (it->second.mac != l.mac) {
            auto m = leasesOfMac_.find(it->second.mac);
            m->second.erase(l.address);
            if (m->second.empty()) leasesOfMac_.erase(m);
        }
    }
    leases_[l.address] = l;
    leasesOfMac_[l.mac].insert(l.address);
    byEnd_.insert({l.expiresMs, l.address});
    if (l.state == LeaseState::Bound) boundByEnd_.insert({l.expiresMs, l.address});
}

void Allocator::drop(Addr a) {
    auto it = leases_.find(a);
    if (it == leases_.end()) return;
    byEnd_.erase({it->second.expiresMs, a});
    boundByEnd_.erase({it->second.expiresMs, a});
    auto m = leasesOfMac_.find(it->second.mac);
    m->second.erase(a);
    if (m->second.empty()) leasesOfMac_.erase(m);
    leases_.erase(it);
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
    if (auto l = leases_.find(a); l != leases_.end() && l->second.active(nowMs)) {
        if (l->second.mac != mac) return false;
        // A declined address stays out even for the client that declined it.
        if (l->second.state == LeaseState::Declined) return false;
    }
    if (auto o = offers_.find(a); o != offers_.end() && o->second.mac != mac && o->second.expiresMs > nowMs) return false;
    return true;
}

void Allocator::giveBack(Addr a) {
    if (leases_.contains(a)) return; // used: found through byEnd_ once it has ended
    for (auto& [name, f] : fresh_)
        if (a >= f.first && a <= f.last && (f.next == 0 || a < f.next)) f.returned.insert(a);
}

void Allocator::eraseOffer(Addr a) {
    auto it = offers_.find(a);
    if (it == offers_.end()) return;
    if (auto m = offerOfMac_.find(it->second.mac); m != offerOfMac_.end() && m->second == a) offerOfMac_.erase(m);
    offers_.erase(it);
}

void Allocator::lapseOffers(std::int64_t nowMs) {
    while (!offerOrder_.empty() && offerOrder_.front().first <= nowMs) {
        auto [expires, a] = offerOrder_.front();
        offerOrder_.pop_front();
        // Only the offer this entry was made for: a later offer of the address has its own entry.
        if (auto it = offers_.find(a); it != offers_.end() && it->second.expiresMs == expires) {
            eraseOffer(a);
            giveBack(a);
        }
    }
}

Addr Allocator::hold(const std::string& mac, Addr a, std::int64_t nowMs) {
    // One offer per client: a new DISCOVER replaces the last one.
    dropOffer(mac);
    eraseOffer(a); // a lapsed offer to another client still in place
    auto expires = nowMs + offerHoldMs_;
    offers_[a] = Offer{mac, expires};
    offerOfMac_[mac] = a;
    offerOrder_.emplace_back(expires, a);
    return a;
}

std::optional<Addr> Allocator::neverUsed(const Pool& pool, const std::string& mac, Addr self, std::int64_t nowMs) {
    auto [it, added] = fresh_.try_emplace(pool.name);
    auto& f = it->second;
    if (added || f.first != pool.first || f.last != pool.last) f = Fresh{pool.first, pool.last, pool.first, {}};
    auto usable = [&](Addr a) { return !leases_.contains(a) && pool.inRange(a) && freeFor(mac, a, self, nowMs); };
    // The candidates, lowest first: a returned address (below the cursor), the cursor's, and
    // the address this client was offered last (its DISCOVER again gets the same offer).
    std::optional<Addr> best;
    while (!f.returned.empty() && !best) {
        Addr a = *f.returned.begin();
        if (usable(a)) best = a;
        else f.returned.erase(f.returned.begin()); // held again: given back again when it is free
    }
    // The cursor passes each address once: leased, offered to another, reserved or our own.
    while (f.next != 0 && !usable(f.next)) f.next = f.next == f.last ? 0 : f.next + 1;
    if (f.next != 0 && (!best || f.next < *best)) best = f.next;
    if (auto own = offerOfMac_.find(mac); own != offerOfMac_.end() && usable(own->second) && (!best || own->second < *best))
        best = own->second;
    if (!best) return std::nullopt;
    if (*best == f.next) f.next = f.next == f.last ? 0 : f.next + 1;
    else f.returned.erase(*best);
    return best;
}

std::optional<Addr> Allocator::endedLongestAgo(const Pool& pool, const std::string& mac, Addr self,
                                               std::int64_t nowMs) const {
    // byEnd_ is ordered by end time: the leases that ended come first, the oldest first.
    for (auto it = byEnd_.begin(); it != byEnd_.end() && it->first <= nowMs; ++it) {
        const auto& l = leases_.at(it->second);
        if (pool.inRange(it->second) && !l.active(nowMs) && freeFor(mac, it->second, self, nowMs)) return it->second;
    }
    return std::nullopt;
}

std::optional<Addr> Allocator::offer(const Pool& pool, const std::string& mac, std::optional<Addr> requested, Addr self,
                                     std::int64_t nowMs, std::string& why) {
    lapseOffers(nowMs);
    if (auto r = reservationOf(mac); r && pool.inSubnet(*r)) {
        if (freeFor(mac, *r, self, nowMs)) return hold(mac, *r, nowMs);
        why = fmt::format("its reserved address {} is held by another client", addrText(*r));
        return std::nullopt;
    }
    if (auto own = leasesOfMac_.find(mac); own != leasesOfMac_.end())
        for (Addr a : own->second) {
            const auto& l = leases_.at(a);
            if (l.pool == pool.name && l.state != LeaseState::Declined && pool.inRange(a) && freeFor(mac, a, self, nowMs))
                return hold(mac, a, nowMs);
        }
    if (requested && pool.inRange(*requested) && freeFor(mac, *requested, self, nowMs) && !leases_.contains(*requested))
        return hold(mac, *requested, nowMs);
    if (auto a = neverUsed(pool, mac, self, nowMs)) return hold(mac, *a, nowMs);
    // Every address has been used once: the lease that ended longest ago goes first.
    if (auto a = endedLongestAgo(pool, mac, self, nowMs)) return hold(mac, *a, nowMs);
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
    if (auto own = leasesOfMac_.find(lease.mac); own != leasesOfMac_.end()) {
        std::vector<Lease> moved; // collected first: put() changes the set walked here
        for (Addr a : own->second) {
            const auto& l = leases_.at(a);
            if (a != lease.address && l.pool == pool.name && l.state == LeaseState::Bound && l.active(nowMs))
                moved.push_back(l);
        }
        for (auto l : moved) {
            g.previous.push_back(l);
            l.state = LeaseState::Released;
            l.expiresMs = nowMs;
            l.updatedMs = nowMs;
            put(l);
            g.save.push_back(l);
        }
    }
    eraseOffer(lease.address);
    put(lease);
    return g;
}

void Allocator::revert(const Granted& g) {
    drop(g.save.front().address);
    for (const auto& l : g.previous) put(l);
    giveBack(g.save.front().address);
}

std::optional<Lease> Allocator::release(const std::string& mac, Addr address, std::int64_t nowMs) {
    auto it = leases_.find(address);
    if (it == leases_.end() || it->second.mac != mac || it->second.state != LeaseState::Bound) return std::nullopt;
    Lease l = it->second;
    l.state = LeaseState::Released;
    l.expiresMs = nowMs;
    l.updatedMs = nowMs;
    put(l);
    return l;
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
    eraseOffer(address);
    put(l);
    return l;
}

std::vector<Lease> Allocator::expire(std::int64_t nowMs, std::size_t max) {
    std::vector<Lease> out;
    while (!boundByEnd_.empty() && boundByEnd_.begin()->first <= nowMs && out.size() < max) {
        Lease l = leases_.at(boundByEnd_.begin()->second);
        l.state = LeaseState::Expired;
        l.updatedMs = nowMs;
        put(l); // leaves boundByEnd_
        out.push_back(std::move(l));
    }
    return out;
}

bool Allocator::forget(Addr address) {
    eraseOffer(address);
    bool had = leases_.contains(address);
    drop(address);
    giveBack(address);
    return had;
}

void Allocator::dropOffer(const std::string& mac) {
    auto it = offerOfMac_.find(mac);
    if (it == offerOfMac_.end()) return;
    Addr a = it->second;
    eraseOffer(a);
    giveBack(a);
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
