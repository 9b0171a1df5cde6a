#include <doctest/doctest.h>

#include <map>

#include <fmt/format.h>

#include "dhcp/allocator.h"
#include "store/device_store.h"
#include "dhcp/dhcp_store.h"
#include "store/migrations.h"

using namespace labcm;
using namespace labcm::dhcp;

namespace {

Pool makePool(const std::string& first = "10.150.0.100", const std::string& last = "10.150.0.199") {
    PoolSpec s;
    s.name = "lab";
    s.subnet = "10.150.0.0/24";
    s.rangeFirst = first;
    s.rangeLast = last;
    s.leaseSeconds = 3600;
    Pool p;
    auto e = buildPool(s, p);
    REQUIRE_MESSAGE(!e, (e ? e->field + ": " + e->message : ""));
    return p;
}

Addr ip(const char* text) { return *parseAddr(text); }
const std::string kA = "001122AABB01", kB = "001122AABB02", kC = "001122AABB03";
constexpr std::int64_t kHold = 60'000;

// DISCOVER, then REQUEST of what was offered: the address bound to `mac`.
Addr bind(Allocator& al, const Pool& pool, const std::string& mac, std::int64_t now) {
    std::string why;
    auto a = al.offer(pool, mac, std::nullopt, 0, now, why);
    REQUIRE_MESSAGE(a, why);
    REQUIRE(al.check(pool, mac, *a, 0, now).kind == Verdict::Grant);
    Lease l;
    l.address = *a;
    l.mac = mac;
    al.grant(pool, l, now);
    return *a;
}

} // namespace

TEST_CASE("pool: a spec is checked field by field") {
    PoolSpec s{"lab", "10.150.0.0/24", "10.150.0.100", "10.150.0.199", "10.150.0.1", "", "lab.example", "", "10.150.0.1,10.150.0.2", "", 3600};
    Pool p;
    REQUIRE(!buildPool(s, p));
    CHECK(p.mask() == ip("255.255.255.0"));
    CHECK(p.size() == 100);
    CHECK(p.tftp == std::vector<Addr>{ip("10.150.0.1"), ip("10.150.0.2")});
    auto fieldOf = [&](PoolSpec bad) {
        Pool q;
        auto e = buildPool(bad, q);
        return e ? e->field : std::string("(accepted)");
    };
    auto t = s;
    t.subnet = "10.150.0.7/24";
    CHECK(fieldOf(t) == "subnet"); // host bits
    t = s, t.subnet = "10.150.0.0/31";
    CHECK(fieldOf(t) == "subnet");
    t = s, t.subnet = "10.150.0.0";
    CHECK(fieldOf(t) == "subnet");
    t = s, t.rangeFirst = "10.150.1.5";
    CHECK(fieldOf(t) == "range");
    t = s, t.rangeFirst = "10.150.0.200";
    CHECK(fieldOf(t) == "range"); // first after last
    t = s, t.rangeFirst = "10.150.0.0";
    CHECK(fieldOf(t) == "range"); // the network address
    t = s, t.rangeLast = "10.150.0.255";
    CHECK(fieldOf(t) == "range"); // broadcast
    t = s, t.tftp = "10.150.0.1,tftp.lab";
    CHECK(fieldOf(t) == "tftp");
    t = s, t.leaseSeconds = 10;
    CHECK(fieldOf(t) == "lease_time");
    t = s, t.name = "a b";
    CHECK(fieldOf(t) == "name");
    t = s, t.option66 = "has space";
    CHECK(fieldOf(t) == "option66");
    Pool other = makePool();
    t = s, t.name = "b", t.subnet = "10.0.0.0/8", t.rangeFirst = "10.0.0.10", t.rangeLast = "10.0.0.20";
    Pool wide;
    REQUIRE(!buildPool(t, wide));
    CHECK(overlaps(other, wide));
    std::string list = " 10.0.0.1 , 10.0.0.2";
    CHECK(!canonicalAddressList("dns", list));
    CHECK(list == "10.0.0.1,10.0.0.2");
}

TEST_CASE("allocator: the lowest free address first, the same one again for the same MAC") {
    Allocator al(kHold);
    auto pool = makePool();
    al.setPools({pool});
    CHECK(al.poolFor(ip("10.150.0.1")) != nullptr);
    CHECK(al.poolFor(ip("10.151.0.1")) == nullptr);
    auto a = bind(al, pool, kA, 1000);
    CHECK(a == ip("10.150.0.100"));
    CHECK(bind(al, pool, kB, 1000) == ip("10.150.0.101"));
    // A's next DISCOVER gets its own address back.
    std::string why;
    CHECK(al.offer(pool, kA, std::nullopt, 0, 2000, why) == a);
    // The requested address (option 50) when free.
    CHECK(al.offer(pool, kC, ip("10.150.0.150"), 0, 2000, why) == ip("10.150.0.150"));
    // Not the server's own address.
    Allocator al2(kHold);
    al2.setPools({pool});
    CHECK(al2.offer(pool, kA, std::nullopt, ip("10.150.0.100"), 0, why) == ip("10.150.0.101"));
}

TEST_CASE("allocator: an offer is held for its client only until it lapses") {
    Allocator al(kHold);
    auto pool = makePool("10.150.0.100", "10.150.0.100"); // one address
    std::string why;
    CHECK(al.offer(pool, kA, std::nullopt, 0, 0, why) == ip("10.150.0.100"));
    CHECK(!al.offer(pool, kB, std::nullopt, 0, 1000, why));
    CHECK(why.find("no free address") != std::string::npos);
    CHECK(al.check(pool, kB, ip("10.150.0.100"), 0, 1000).kind == Verdict::Nak);
    // After the hold, B may have it.
    CHECK(al.offer(pool, kB, std::nullopt, 0, kHold + 1, why) == ip("10.150.0.100"));
    // The client chose another server: its offer goes at once.
    al.dropOffer(kB);
    CHECK(al.offersHeld() == 0);
}

TEST_CASE("allocator: exhaustion, then the lease that ended longest ago is reused first") {
    Allocator al(kHold);
    auto pool = makePool("10.150.0.100", "10.150.0.102"); // three addresses
    auto a = bind(al, pool, kA, 0);
    auto b = bind(al, pool, kB, 0);
    auto c = bind(al, pool, kC, 0);
    std::string why;
    CHECK(!al.offer(pool, "001122AABB04", std::nullopt, 0, 1000, why));
    // B releases first, then A: a new client gets B's address (ended longest ago).
    REQUIRE(al.release(kB, b, 2000));
    REQUIRE(al.release(kA, a, 3000));
    CHECK(al.offer(pool, "001122AABB04", std::nullopt, 0, 4000, why) == b);
    // C's lease runs out (3600 s): still C's until then, reusable after.
    CHECK(al.check(pool, "001122AABB05", c, 0, 3'599'000).kind == Verdict::Nak);
    CHECK(al.check(pool, "001122AABB05", c, 0, 3'600'001).kind == Verdict::Grant);
    // Release only by the holder.
    CHECK(!al.release(kA, c, 5000));
}

TEST_CASE("allocator: requests that must be refused") {
    Allocator al(kHold);
    auto pool = makePool();
    auto a = bind(al, pool, kA, 0);
    CHECK(al.check(pool, kB, a, 0, 1000).kind == Verdict::Nak);               // another client's
    CHECK(al.check(pool, kB, ip("10.150.0.50"), 0, 1000).kind == Verdict::Nak); // outside the range
    CHECK(al.check(pool, kB, ip("10.9.9.9"), 0, 1000).kind == Verdict::Nak);    // another network
    CHECK(al.check(pool, kB, ip("10.150.0.120"), 0, 1000).kind == Verdict::Grant);
    // Init-reboot / renew of its own address: granted, and the lease is extended.
    CHECK(al.check(pool, kA, a, 0, 1000).kind == Verdict::Grant);
    auto g = al.grant(pool, Lease{a, kA}, 1000);
    CHECK(g.save.size() == 1);
    CHECK(g.save.front().expiresMs == 1000 + 3'600'000);
}

TEST_CASE("allocator: a client moving to another address releases its old one; a failed commit is undone") {
    Allocator al(kHold);
    auto pool = makePool();
    auto a = bind(al, pool, kA, 0);
    auto g = al.grant(pool, Lease{ip("10.150.0.150"), kA}, 1000);
    REQUIRE(g.save.size() == 2);
    CHECK(g.save[1].address == a);
    CHECK((g.save[1].state == LeaseState::Released));
    al.revert(g);
    CHECK(al.find(ip("10.150.0.150")) == nullptr);
    REQUIRE(al.find(a));
    CHECK((al.find(a)->state == LeaseState::Bound));
}

TEST_CASE("allocator: reservations go to their MAC only, even outside the range") {
    Allocator al(kHold);
    auto pool = makePool();
    al.setReservations({{kA, ip("10.150.0.10")}, {kB, ip("10.150.0.100")}});
    std::string why;
    CHECK(al.offer(pool, kA, std::nullopt, 0, 0, why) == ip("10.150.0.10"));
    // C never gets B's reserved address, though it is the lowest of the range.
    CHECK(al.offer(pool, kC, std::nullopt, 0, 0, why) == ip("10.150.0.101"));
    CHECK(al.check(pool, kC, ip("10.150.0.100"), 0, 0).kind == Verdict::Nak);
    // A asking for another address is told no: its reservation is the answer.
    CHECK(al.check(pool, kA, ip("10.150.0.120"), 0, 0).kind == Verdict::Nak);
    CHECK(al.check(pool, kA, ip("10.150.0.10"), 0, 0).kind == Verdict::Grant);
}

TEST_CASE("allocator: a declined address is kept out for everyone until the quarantine ends") {
    Allocator al(kHold);
    auto pool = makePool("10.150.0.100", "10.150.0.101");
    std::string why;
    auto a = al.offer(pool, kA, std::nullopt, 0, 0, why);
    REQUIRE(a);
    CHECK(!al.decline(kB, *a, 600'000, 0)); // not B's to decline
    auto d = al.decline(kA, *a, 600'000, 0);
    REQUIRE(d);
    CHECK((d->state == LeaseState::Declined));
    CHECK(al.offer(pool, kA, std::nullopt, 0, 1000, why) == ip("10.150.0.101"));
    CHECK(al.check(pool, kB, *a, 0, 1000).kind == Verdict::Nak);
    CHECK(al.check(pool, kB, *a, 0, 600'001).kind == Verdict::Grant);
}

TEST_CASE("allocator: leases loaded at start are honoured (a restart never hands out a bound address)") {
    auto pool = makePool("10.150.0.100", "10.150.0.101");
    Allocator al(kHold);
    al.load({Lease{ip("10.150.0.100"), kA, LeaseState::Bound, 10'000'000, "lab"}});
    std::string why;
    CHECK(al.offer(pool, kB, std::nullopt, 0, 1000, why) == ip("10.150.0.101"));
    CHECK(al.offer(pool, kA, std::nullopt, 0, 1000, why) == ip("10.150.0.100"));
}

TEST_CASE("cisco-only: phones by vendor class, configured devices by MAC, nothing else") {
    CHECK(ciscoOnlyRefusal("Cisco Systems, Inc. IP Phone CP-8845", false).empty());
    CHECK(ciscoOnlyRefusal(std::string("Cisco Systems, Inc. IP Phone CP-7975G\0", 38), false).empty());
    CHECK(ciscoOnlyRefusal("Cisco Systems, Inc. IP Phone", false).empty());
    CHECK(ciscoOnlyRefusal("Cisco Systems, Inc.", false).empty()); // 6901
    CHECK(!ciscoOnlyRefusal("MSFT 5.0", false).empty());
    CHECK(!ciscoOnlyRefusal("", false).empty());
    CHECK(!ciscoOnlyRefusal("Cisco AP c2700", false).empty());
    CHECK(ciscoOnlyRefusal("", true).empty());
    CHECK(ciscoOnlyRefusal("dhcpcd-9.4.1:Linux", true).empty());
}

TEST_CASE("dhcp store: pools and leases round trip; one row per address") {
    store::Db db(":memory:");
    store::migrate(db);
    dhcp::DhcpStore ds(db);
    PoolSpec s{"lab", "10.150.0.0/24", "10.150.0.100", "10.150.0.199", "", "", "", "", "", "", 3600};
    ds.savePool(s, 1);
    REQUIRE(ds.pool("lab"));
    CHECK(ds.pool("lab")->rangeLast == "10.150.0.199");
    s.rangeLast = "10.150.0.150";
    ds.savePool(s, 2);
    CHECK(ds.pools().size() == 1);
    CHECK(ds.pool("lab")->rangeLast == "10.150.0.150");
    CHECK_THROWS_AS(ds.removePool("nope"), store::NotFound);

    Lease l{ip("10.150.0.100"), kA, LeaseState::Bound, 5000, "lab", "Cisco Systems, Inc. IP Phone CP-8845", "8845", "", 1};
    ds.saveLease(l);
    l.mac = kB; // the same address written again replaces the row: never two MACs
    ds.saveLease(l);
    ds.saveLease(Lease{ip("10.150.0.9"), kC, LeaseState::Declined, 9000, "lab"});
    auto all = ds.leases();
    REQUIRE(all.size() == 2);
    CHECK(all[0].address == ip("10.150.0.9")); // sorted by address, not as text
    CHECK(all[1].mac == kB);
    CHECK(all[1].model == "8845");
    CHECK(ds.removeLease(ip("10.150.0.9")));
    CHECK(!ds.removeLease(ip("10.150.0.9")));
    db.exec("INSERT INTO dhcp_leases (address, mac, state, expires, pool, updated_at) VALUES ('x', 'y', 'bound', 0, 'p', 0)");
    CHECK(ds.leases().size() == 1); // the bad row is skipped
    CHECK_THROWS(db.exec("INSERT INTO dhcp_leases (address, mac, state, expires, pool, updated_at) VALUES ('1.2.3.4', 'y', 'gone', 0, 'p', 0)"));
}

TEST_CASE("device store: a DHCP reservation belongs to one device") {
    store::Db db(":memory:");
    store::migrate(db);
    store::DeviceStore ds(db);
    Device a;
    a.mac = kA;
    a.model = "8845";
    a.dhcpAddress = "10.150.0.10";
    REQUIRE(!validateDevice(a));
    ds.insert(a, 1);
    Device b = a;
    b.mac = kB;
    CHECK_THROWS_AS(ds.insert(b, 1), store::Conflict);
    b.dhcpAddress = "10.150.0.11";
    ds.insert(b, 1);
    CHECK(ds.reservations() == std::map<std::string, std::string>{{kA, "10.150.0.10"}, {kB, "10.150.0.11"}});
    CHECK(ds.get(kA)->dhcpAddress == "10.150.0.10");
    b.dhcpAddress = "10.150.0.10";
    CHECK_THROWS_AS(ds.update(b, false, 2), store::Conflict);
    Device bad = a;
    bad.dhcpAddress = "300.1.1.1";
    CHECK(validateDevice(bad)->field == "dhcp_address");
    bad.dhcpAddress = "224.0.0.1";
    CHECK(validateDevice(bad)->field == "dhcp_address");
}

namespace {

// The allocator as it was first written: every rule by a walk over all leases and offers
// (its cost grew with the lab). The indexed allocator must decide exactly as it did.
struct WalkingAllocator {
    std::int64_t hold;
    std::map<Addr, Lease> leases;
    std::map<Addr, std::pair<std::string, std::int64_t>> offers;
    std::map<Addr, std::string> reservedByAddr;
    std::map<std::string, Addr> reservedByMac;

    bool freeFor(const std::string& mac, Addr a, Addr self, std::int64_t now) const {
        if (a == self) return false;
        if (auto r = reservedByAddr.find(a); r != reservedByAddr.end() && r->second != mac) return false;
        if (auto l = leases.find(a); l != leases.end() && l->second.mac != mac && l->second.active(now)) return false;
        if (auto l = leases.find(a); l != leases.end() && l->second.state == LeaseState::Declined && l->second.active(now))
            return false;
        if (auto o = offers.find(a); o != offers.end() && o->second.first != mac && o->second.second > now) return false;
        return true;
    }
    Addr take(const std::string& mac, Addr a, std::int64_t now) {
        std::erase_if(offers, [&](const auto& kv) { return kv.second.first == mac; });
        offers[a] = {mac, now + hold};
        return a;
    }
    std::optional<Addr> offer(const Pool& pool, const std::string& mac, std::optional<Addr> requested, Addr self,
                              std::int64_t now) {
        if (auto r = reservedByMac.find(mac); r != reservedByMac.end() && pool.inSubnet(r->second))
            return freeFor(mac, r->second, self, now) ? std::optional(take(mac, r->second, now)) : std::nullopt;
        for (const auto& [a, l] : leases)
            if (l.mac == mac && l.pool == pool.name && l.state != LeaseState::Declined && pool.inRange(a) &&
                freeFor(mac, a, self, now))
                return take(mac, a, now);
        if (requested && pool.inRange(*requested) && freeFor(mac, *requested, self, now) && !leases.contains(*requested))
            return take(mac, *requested, now);
        for (Addr a = pool.first; a <= pool.last; ++a)
            if (!leases.contains(a) && freeFor(mac, a, self, now)) return take(mac, a, now);
        std::optional<Addr> best;
        std::int64_t bestEnd = 0;
        for (const auto& [a, l] : leases)
            if (pool.inRange(a) && !l.active(now) && freeFor(mac, a, self, now) && (!best || l.expiresMs < bestEnd)) {
                best = a;
                bestEnd = l.expiresMs;
            }
        if (best) return take(mac, *best, now);
        return std::nullopt;
    }
    void grant(const Pool& pool, Lease l, std::int64_t now) {
        l.pool = pool.name;
        l.state = LeaseState::Bound;
        l.expiresMs = now + std::int64_t{pool.leaseSeconds} * 1000;
        for (auto& [a, o] : leases)
            if (a != l.address && o.mac == l.mac && o.pool == pool.name && o.state == LeaseState::Bound && o.active(now)) {
                o.state = LeaseState::Released;
                o.expiresMs = now;
            }
        offers.erase(l.address);
        leases[l.address] = l;
    }
};

} // namespace

TEST_CASE("allocator: decides as the walking allocator did, over 20,000 random requests") {
    auto pool = makePool("10.150.0.100", "10.150.0.129"); // 30 addresses, 40 clients: exhaustion and reuse
    pool.leaseSeconds = 30;
    Allocator al(kHold);
    al.setPools({pool});
    WalkingAllocator ref{kHold, {}, {}, {}, {}};
    std::uint32_t seed = 20261201;
    auto rnd = [&](std::uint32_t n) {
        seed = seed * 1664525u + 1013904223u;
        return (seed >> 8) % n;
    };
    std::int64_t now = 0;
    const Addr self = ip("10.150.0.110");
    for (int step = 0; step < 20000; ++step) {
        now += rnd(4000); // lease 30 s, offers 60 s: both lapse often
        auto mac = fmt::format("0011223344{:02X}", rnd(40));
        switch (rnd(10)) {
        case 0: { // the admin reserves an address for a client, or takes the reservations away
            std::map<std::string, Addr> r;
            if (rnd(2)) r[mac] = pool.first + rnd(32); // sometimes outside the range
            al.setReservations(r);
            ref.reservedByMac = r;
            ref.reservedByAddr.clear();
            for (const auto& [m, a] : r) ref.reservedByAddr[a] = m;
            break;
        }
        case 1: { // RELEASE of what it holds
            Addr a = pool.first + rnd(30);
            auto got = al.release(mac, a, now);
            auto it = ref.leases.find(a);
            bool refOk = it != ref.leases.end() && it->second.mac == mac && it->second.state == LeaseState::Bound;
            REQUIRE(got.has_value() == refOk);
            if (refOk) it->second.state = LeaseState::Released, it->second.expiresMs = now;
            break;
        }
        case 2: { // the admin removes a lease
            Addr a = pool.first + rnd(30);
            REQUIRE(al.forget(a) == (ref.leases.erase(a) > 0));
            ref.offers.erase(a);
            break;
        }
        case 3: al.dropOffer(mac); std::erase_if(ref.offers, [&](const auto& kv) { return kv.second.first == mac; }); break;
        default: { // DISCOVER (sometimes asking for an address), then REQUEST of the offer most of the time
            std::optional<Addr> requested;
            if (rnd(4) == 0) requested = pool.first + rnd(34);
            std::string why;
            auto got = al.offer(pool, mac, requested, self, now, why);
            auto want = ref.offer(pool, mac, requested, self, now);
            REQUIRE_MESSAGE(got == want, "step ", step, " mac ", mac, ": got ", got ? addrText(*got) : "none", ", want ",
                            want ? addrText(*want) : "none");
            if (!got || rnd(5) == 0) break;
            auto v = al.check(pool, mac, *got, self, now);
            REQUIRE(v.kind == (ref.freeFor(mac, *got, self, now) ? Verdict::Grant : Verdict::Nak));
            if (v.kind != Verdict::Grant) break;
            Lease l;
            l.address = *got;
            l.mac = mac;
            al.grant(pool, l, now);
            ref.grant(pool, l, now);
        }
        }
    }
    CHECK(al.leases().size() == ref.leases.size());
}

TEST_CASE("allocator: bound leases that ended are marked expired, the oldest first, a batch at a time") {
    auto pool = makePool("10.150.0.100", "10.150.0.103");
    Allocator al(kHold);
    al.load({Lease{ip("10.150.0.100"), kA, LeaseState::Bound, 3000, "lab"},
             Lease{ip("10.150.0.101"), kB, LeaseState::Bound, 1000, "lab"},
             Lease{ip("10.150.0.102"), kC, LeaseState::Released, 500, "lab"},
             Lease{ip("10.150.0.103"), "001122AABB04", LeaseState::Bound, 9000, "lab"}});
    CHECK(al.expire(900, 10).empty()); // nothing ended yet (the released one is not bound)
    auto first = al.expire(5000, 1);
    REQUIRE(first.size() == 1);
    CHECK(first[0].address == ip("10.150.0.101")); // ended first
    CHECK((first[0].state == LeaseState::Expired));
    CHECK(first[0].expiresMs == 1000);             // the end stays what it was
    CHECK(first[0].updatedMs == 5000);
    auto rest = al.expire(5000, 10);
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].address == ip("10.150.0.100"));
    CHECK(al.expire(5000, 10).empty()); // once
    CHECK((al.find(ip("10.150.0.103"))->state == LeaseState::Bound));
    // An expired lease goes back to its client first, and is the client's to renew.
    std::string why;
    CHECK(al.offer(pool, kB, std::nullopt, 0, 6000, why) == ip("10.150.0.101"));
    CHECK(al.check(pool, kB, ip("10.150.0.101"), 0, 6000).kind == Verdict::Grant);
    Lease l;
    l.address = ip("10.150.0.101");
    l.mac = kB;
    al.grant(pool, l, 6000);
    CHECK((al.find(ip("10.150.0.101"))->state == LeaseState::Bound));
    CHECK(al.expire(6000, 10).empty());
    // Another client gets the address that ended longest ago once none is left unused.
    CHECK(al.offer(pool, "001122AABB05", std::nullopt, 0, 6000, why) == ip("10.150.0.102"));
}
