// The DHCP server: dhcp pool set/rm/list, dhcp leases, dhcp lease rm.
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "cli/cli.h"

namespace labcm::cli {
namespace {

struct PoolArgs {
    std::string name, subnet, range, routers, dns, domain, ntp, tftp, option66, address;
    std::int64_t leaseTime = 0;
};

void addPoolSet(CLI::App* pool, Runner& r, PoolArgs& pa) {
    auto* pSet = pool->add_subcommand(
        "set", "Add or change a pool: labcm dhcp pool set lab --subnet 10.150.0.0/24 --range 10.150.0.100-10.150.0.199");
    pSet->add_option("name", pa.name, "Pool name")->required();
    std::vector<std::pair<const char*, CLI::Option*>> poolOptions{
        {"subnet", pSet->add_option("--subnet", pa.subnet, "Network and prefix, e.g. 10.150.0.0/24")},
        {"range", pSet->add_option("--range", pa.range, "First-last address handed out, e.g. 10.150.0.100-10.150.0.199")},
        {"routers", pSet->add_option("--routers", pa.routers, "Option 3: default gateway(s), comma separated")},
        {"dns", pSet->add_option("--dns", pa.dns, "Option 6: DNS servers, comma separated")},
        {"domain", pSet->add_option("--domain", pa.domain, "Option 15: domain name")},
        {"ntp", pSet->add_option("--ntp", pa.ntp, "Option 42: NTP servers, comma separated")},
        {"tftp", pSet->add_option("--tftp", pa.tftp, "Option 150: TFTP servers in order, comma separated (default: labcm's own address)")},
        {"option66", pSet->add_option("--option66", pa.option66, "Option 66: TFTP server name (default: the first option-150 address)")}};
    auto* pLease = pSet->add_option("--lease-time", pa.leaseTime, "Lease time in seconds (default 86400)");
    pSet->callback([&r, &pa, poolOptions, pLease] {
        json::object args{{"name", pa.name}};
        const std::map<std::string, std::string*> values{{"subnet", &pa.subnet}, {"range", &pa.range}, {"routers", &pa.routers},
                                                         {"dns", &pa.dns},       {"domain", &pa.domain}, {"ntp", &pa.ntp},
                                                         {"tftp", &pa.tftp},     {"option66", &pa.option66}};
        for (const auto& [field, opt] : poolOptions)
            if (opt->count()) args[field] = *values.at(field);
        if (pLease->count()) args["lease_time"] = pa.leaseTime;
        r.call({{"cmd", "dhcp.pool.set"}, {"args", args}}, [](const json::value& v) {
            const auto& p = v.as_object();
            std::cout << fmt::format("pool {}: {} {}-{}\n", text(p.at("name")), text(p.at("subnet")), text(p.at("range_first")),
                                     text(p.at("range_last")));
        });
    });
}

void printPools(const json::value& v) {
    for (const auto& pv : v.as_array()) {
        const auto& p = pv.as_object();
        std::cout << fmt::format("{}: subnet {} range {}-{} lease {} s routers '{}' dns '{}' domain '{}' ntp '{}' "
                                 "tftp(150) '{}' option66 '{}'\n",
                                 text(p.at("name")), text(p.at("subnet")), text(p.at("range_first")),
                                 text(p.at("range_last")), p.at("lease_time").to_number<std::int64_t>(),
                                 text(p.at("routers")), text(p.at("dns")), text(p.at("domain")), text(p.at("ntp")),
                                 text(p.at("tftp")).empty() ? "labcm's address" : text(p.at("tftp")),
                                 text(p.at("option66")));
    }
}

void printLeases(const json::value& v) {
    std::cout << fmt::format("{:<16} {:<13} {:<9} {:<17} {:<6} {:<10} {}\n", "ADDRESS", "MAC", "STATE", "DEVICE", "MODEL",
                             "POOL", "VENDOR CLASS");
    for (const auto& lv : v.as_array()) {
        const auto& l = lv.as_object();
        std::cout << fmt::format("{:<16} {:<13} {:<9} {:<17} {:<6} {:<10} {}\n", text(l.at("address")), text(l.at("mac")),
                                 text(l.at("state")), text(l.at("device")), text(l.at("model")), text(l.at("pool")),
                                 text(l.at("vendor_class")));
    }
}

} // namespace

void addDhcpCommands(CLI::App& app, Runner& r) {
    auto* dhcpCmd = app.add_subcommand("dhcp", "The DHCP server (off until a pool exists): pool set/rm/list, leases, lease rm");
    dhcpCmd->require_subcommand(1);
    auto* pool = dhcpCmd->add_subcommand("pool", "Address pools, one per subnet");
    pool->require_subcommand(1);
    auto& pa = r.keep<PoolArgs>();
    addPoolSet(pool, r, pa);
    auto* pRm = pool->add_subcommand("rm", "Remove a pool (its leases stay in the database)");
    pRm->add_option("name", pa.name, "Pool name")->required();
    pRm->callback([&r, &pa] { r.call({{"cmd", "dhcp.pool.rm"}, {"args", {{"name", pa.name}}}}, printOk("removed")); });
    pool->add_subcommand("list", "List the pools")->callback([&r] { r.call({{"cmd", "dhcp.pool.list"}}, printPools); });
    dhcpCmd->add_subcommand("leases", "Leases: address, MAC, state, model from option 60, vendor class")->callback([&r] {
        r.call({{"cmd", "dhcp.lease.list"}}, printLeases);
    });
    auto* dhcpLease = dhcpCmd->add_subcommand("lease", "One lease: rm");
    dhcpLease->require_subcommand(1);
    auto* leaseRm = dhcpLease->add_subcommand("rm", "Forget the lease of an address (it is free again)");
    leaseRm->add_option("address", pa.address, "The leased address")->required();
    leaseRm->callback([&r, &pa] {
        r.call({{"cmd", "dhcp.lease.rm"}, {"args", {{"address", pa.address}}}}, printOk("removed"));
    });
}

} // namespace labcm::cli
