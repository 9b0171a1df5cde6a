// DHCP: the address pools (one per subnet, no two overlapping) and the leases.
#include <fmt/format.h>

#include "core/mac.h"
#include "core/text.h"
#include "dhcp/pool.h"
#include "dhcp/dhcp_store.h"
#include "usecases/table.h"

namespace labcm::usecases::detail {
namespace {

json::object poolJson(const dhcp::PoolSpec& p) {
    return {{"name", p.name},       {"subnet", p.subnet}, {"range_first", p.rangeFirst}, {"range_last", p.rangeLast},
            {"routers", p.routers}, {"dns", p.dns},       {"domain", p.domain},          {"ntp", p.ntp},
            {"tftp", p.tftp},       {"option66", p.option66}, {"lease_time", p.leaseSeconds}};
}

// The pool spec after applying the given fields to `base` (a new pool or the stored one).
dhcp::PoolSpec poolFromArgs(const json::object& a, dhcp::PoolSpec base) {
    if (auto v = optString(a, "subnet")) base.subnet = *v;
    if (auto v = optString(a, "range")) {
        auto dash = v->find('-');
        if (dash == std::string::npos) badArg("range", fmt::format("'{}' is not a range like 10.0.0.100-10.0.0.199", *v));
        base.rangeFirst = std::string(text::trim(v->substr(0, dash)));
        base.rangeLast = std::string(text::trim(v->substr(dash + 1)));
    }
    for (auto [key, field] : {std::pair{"routers", &dhcp::PoolSpec::routers}, std::pair{"dns", &dhcp::PoolSpec::dns},
                              std::pair{"ntp", &dhcp::PoolSpec::ntp}, std::pair{"tftp", &dhcp::PoolSpec::tftp}})
        if (auto v = optString(a, key)) {
            base.*field = *v;
            if (auto e = dhcp::canonicalAddressList(key, base.*field)) invalid(*e);
        }
    if (auto v = optString(a, "domain")) base.domain = *v;
    if (auto v = optString(a, "option66")) base.option66 = *v;
    if (auto v = optInt(a, "lease_time")) base.leaseSeconds = *v;
    return base;
}

// Saves a pool inside the transaction; refuses one that overlaps another pool.
json::value savePool(store::Db& db, const dhcp::PoolSpec& spec, const dhcp::Pool& pool, std::int64_t now) {
    dhcp::DhcpStore ds(db);
    for (const auto& other : ds.pools()) {
        dhcp::Pool o;
        if (other.name == spec.name || dhcp::buildPool(other, o)) continue;
        if (dhcp::overlaps(pool, o))
            throw store::Conflict("subnet", fmt::format("{} overlaps pool '{}' ({})", spec.subnet, o.name, other.subnet));
    }
    ds.savePool(spec, now);
    return poolJson(spec);
}

void addPools(Table& t) {
    t.add("dhcp.pool.list", [&t](const json::object&, Reply reply) {
        json::array out;
        for (const auto& p : dhcp::DhcpStore(t.ctx.reader).pools()) out.push_back(poolJson(p));
        reply(okReply(std::move(out)));
    });

    t.add("dhcp.pool.set", [&t](const json::object& a, Reply reply) {
        auto name = reqString(a, "name");
        auto existing = dhcp::DhcpStore(t.ctx.reader).pool(name);
        dhcp::PoolSpec base;
        base.name = name;
        if (!existing) {
            if (!a.contains("subnet")) badArg("subnet", "a new pool needs its subnet, e.g. 10.150.0.0/24");
            if (!a.contains("range")) badArg("range", "a new pool needs its range, e.g. 10.150.0.100-10.150.0.199");
        }
        auto spec = poolFromArgs(a, existing.value_or(base));
        dhcp::Pool pool;
        if (auto e = dhcp::buildPool(spec, pool)) invalid(*e);
        auto now = nowMs();
        t.write([spec, pool, now](store::Db& db) { return savePool(db, spec, pool, now); },
                [&t, name, existed = existing.has_value()](json::value& r) {
                    t.ctx.bus.publish(Service::Admin, EventKind::DhcpPoolChanged, Severity::Info, "", "",
                                      fmt::format("DHCP pool {} {}: {} {}-{}", name, existed ? "changed" : "added",
                                                  r.as_object()["subnet"].as_string().c_str(),
                                                  r.as_object()["range_first"].as_string().c_str(),
                                                  r.as_object()["range_last"].as_string().c_str()));
                },
                reply);
    });

    t.add("dhcp.pool.rm", [&t](const json::object& a, Reply reply) {
        auto name = reqString(a, "name");
        t.write(
            [name](store::Db& db) -> json::value {
                dhcp::DhcpStore(db).removePool(name);
                return json::object{{"removed", name}};
            },
            [&t, name](json::value&) {
                t.ctx.bus.publish(Service::Admin, EventKind::DhcpPoolChanged, Severity::Info, "", "",
                                  fmt::format("DHCP pool {} removed", name));
            },
            reply);
    });
}

json::array leaseList(store::Db& reader) {
    auto now = nowMs();
    auto macs = store::DeviceStore(reader).macs();
    json::array out;
    for (const auto& l : dhcp::DhcpStore(reader).leases()) {
        std::string state(dhcp::toString(l.state));
        if (l.state == dhcp::LeaseState::Bound && l.expiresMs <= now) state = "expired";
        out.push_back({{"address", dhcp::addrText(l.address)},
                       {"mac", l.mac},
                       {"device", macs.contains(l.mac) ? deviceName(l.mac) : ""},
                       {"state", state},
                       {"expires_ms", l.expiresMs},
                       {"pool", l.pool},
                       {"vendor_class", l.vendorClass},
                       {"model", l.model},
                       {"hostname", l.hostname},
                       {"updated_ms", l.updatedMs}});
    }
    return out;
}

void addLeases(Table& t) {
    t.add("dhcp.lease.list", [&t](const json::object&, Reply reply) { reply(okReply(leaseList(t.ctx.reader))); });

    t.add("dhcp.lease.rm", [&t](const json::object& a, Reply reply) {
        auto text = reqString(a, "address");
        auto address = dhcp::parseAddr(text);
        if (!address) badArg("address", fmt::format("'{}' is not an IPv4 address", text));
        t.write(
            [address = *address, text](store::Db& db) -> json::value {
                if (!dhcp::DhcpStore(db).removeLease(address)) throw store::NotFound(fmt::format("no lease for {}", text));
                return json::object{{"removed", dhcp::addrText(address)}};
            },
            [&t, address = *address](json::value&) {
                if (t.ctx.dhcpLeaseRemoved) t.ctx.dhcpLeaseRemoved(address);
                t.ctx.bus.publish(Service::Admin, EventKind::DhcpPoolChanged, Severity::Info, "", dhcp::addrText(address),
                                  fmt::format("DHCP lease of {} removed: the address is free again", dhcp::addrText(address)));
            },
            reply);
    });
}

} // namespace

void addDhcpUseCases(Table& t) {
    addPools(t);
    addLeases(t);
}

} // namespace labcm::usecases::detail
