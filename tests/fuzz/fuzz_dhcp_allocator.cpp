// Fuzz the DHCP pool parser and the allocator as a state machine. The input is split in two:
// the first line is a pool spec ("subnet|first|last|tftp"), the rest a program of operations
// (discover, request, renew, release, decline, forget, advance the clock) by a handful of
// MACs. Properties after every step: no address is active for two MACs, an offer or a grant
// never lands on an address another MAC holds or has reserved, nothing outside the pool's
// subnet is handed out, and everything else throws nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "dhcp/allocator.h"

using namespace labcm::dhcp;

namespace {

const char* kMacs[] = {"000000000001", "000000000002", "000000000003", "000000000004", "000000000005"};

void checkInvariants(const Allocator& al, const Pool& pool, std::int64_t now) {
    for (const auto& [addr, lease] : al.leases()) {
        if (lease.address != addr) std::abort();
        if (lease.state == LeaseState::Bound && !pool.inSubnet(addr)) std::abort();
        (void)now;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto nl = text.find('\n');
    std::string spec = text.substr(0, nl);
    std::string program = nl == std::string::npos ? std::string() : text.substr(nl + 1);
    PoolSpec s;
    s.name = "f";
    std::string* fields[] = {&s.subnet, &s.rangeFirst, &s.rangeLast, &s.tftp};
    std::size_t f = 0;
    for (char c : spec) {
        if (c == '|') {
            if (++f == 4) break;
            continue;
        }
        *fields[f] += c;
    }
    Pool pool;
    if (buildPool(s, pool)) {
        // An invalid spec: use a small fixed pool so the program still runs.
        s = PoolSpec{"f", "10.0.0.0/28", "10.0.0.2", "10.0.0.6", "", "", "", "", "", "", 3600};
        if (buildPool(s, pool)) std::abort();
    }
    if (pool.size() > 4096) pool.last = pool.first + 4095; // keep each scan cheap
    Allocator al(1000);
    al.setPools({pool});
    al.setReservations({{kMacs[4], pool.first}});
    std::int64_t now = 0;
    std::map<std::string, Addr> held; // what each MAC was last given
    for (std::size_t i = 0; i + 2 < program.size(); i += 3) {
        auto op = static_cast<unsigned char>(program[i]) % 7;
        const std::string mac = kMacs[static_cast<unsigned char>(program[i + 1]) % 5];
        Addr target = pool.first + static_cast<unsigned char>(program[i + 2]) % 16;
        std::string why;
        switch (op) {
        case 0: { // DISCOVER (maybe asking for target)
            auto a = al.offer(pool, mac, program[i + 2] & 1 ? std::optional<Addr>(target) : std::nullopt, 0, now, why);
            if (a) {
                if (!pool.inSubnet(*a)) std::abort();
                if (auto* l = al.find(*a); l && l->mac != mac && l->active(now)) std::abort();
                if (*a == pool.first && mac != kMacs[4]) std::abort(); // reserved for another MAC
                held[mac] = *a;
            } else if (why.empty()) {
                std::abort();
            }
            break;
        }
        case 1:   // REQUEST what was offered, or target
        case 2: { // REQUEST target (init-reboot / renew)
            Addr a = op == 1 && held.contains(mac) ? held[mac] : target;
            auto v = al.check(pool, mac, a, 0, now);
            if (v.kind == Verdict::Grant) {
                if (auto* l = al.find(a); l && l->mac != mac && l->active(now)) std::abort();
                Lease l;
                l.address = a;
                l.mac = mac;
                auto g = al.grant(pool, l, now);
                if (g.save.empty() || g.save.front().address != a) std::abort();
                if (program[i + 2] & 2) al.revert(g); // the commit failed
            } else if (v.why.empty()) {
                std::abort();
            }
            break;
        }
        case 3: (void)al.release(mac, target, now); break;
        case 4: (void)al.decline(mac, target, 5000, now); break;
        case 5: (void)al.forget(target); break;
        case 6: now += static_cast<unsigned char>(program[i + 2]) * 100; break;
        }
        // No two MACs active on one address: the map is keyed by address, so check that
        // each active MAC holds at most one bound address in the pool.
        std::map<std::string, int> bound;
        for (const auto& [addr, l] : al.leases())
            if (l.state == LeaseState::Bound && l.active(now) && ++bound[l.mac] > 1) std::abort();
        checkInvariants(al, pool, now);
    }
    return 0;
}
