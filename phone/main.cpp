// labcm-phone: simulates Cisco SIP phones booting against labcm (or any CUCM-like server),
// one or thousands at a time. README "Phone simulator" describes the steps and options.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "boot.h"
#include "core/mac.h"
#include "profiles.h"
#include "report.h"

namespace asio = boost::asio;
using namespace labcm::phone;

namespace {

/// Most phones one run simulates: each holds a socket or two; 10,000 is the scale the
/// performance issue asks for.
constexpr int kMaxPhones = 10'000;
/// Longest run, seconds: every run stops by itself.
constexpr int kMaxTimeout = 3600;

void raiseFileLimit(std::size_t need) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur >= need) return;
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, need);
    setrlimit(RLIMIT_NOFILE, &rl);
}

std::string macPlus(const std::string& mac, unsigned long long i) {
    unsigned long long v = std::stoull(mac, nullptr, 16) + i;
    return fmt::format("{:012X}", v & 0xFFFFFFFFFFFFULL);
}

bool isLoopback(const std::string& ip) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(ip, ec);
    return !ec && a.is_loopback();
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"labcm-phone: simulated Cisco SIP phones booting against labcm"};
    std::vector<std::string> models{"8845"};
    std::string mac = "0011220A0001";
    std::string tftp, ip = "127.0.0.1", ipBase, activeLoad, inactiveLoad, dhcpIface, dhcpRelay;
    int tftpPort = 69, httpPort = 6970, sipPort = 0, count = 1, boots = 1, timeout = 60, dhcpPort = 67;
    double rate = 100, hold = 0, keepalive = 0;
    bool noImages = false, json = false, quiet = false, listModels = false, labNetwork = false;
    app.add_option("--model", models, "model(s) to simulate, rotated over the phones (8845, 7821, 7975, ...)")->delimiter(',');
    app.add_option("--mac", mac, "MAC of the first phone; the others count up from it");
    app.add_option("--tftp", tftp, "TFTP/HTTP server address (what DHCP option 150 would give)");
    app.add_option("--dhcp", dhcpIface, "run the DHCP step on this interface (in a network namespace of your own) "
                                        "and take the TFTP server from option 150/66");
    app.add_option("--dhcp-relay", dhcpRelay, "ask this DHCP server through a relay agent at each phone's --ip/--ip-base "
                                              "address (giaddr; the phone binds port 67 there)");
    app.add_option("--dhcp-port", dhcpPort, "DHCP server and relay agent port (the client port is this + 1)")
        ->check(CLI::Range(1, 65534));
    app.add_option("--tftp-port", tftpPort, "TFTP port")->check(CLI::Range(1, 65535));
    app.add_option("--http-port", httpPort, "HTTP port the 78xx/88xx try first")->check(CLI::Range(1, 65535));
    app.add_option("--ip", ip, "the phone's own address (sockets bind to it)");
    app.add_option("--ip-base", ipBase, "give phone i the address ip-base + i (e.g. 127.1.0.1)");
    app.add_option("--sip-port", sipPort, "UDP port phones listen on (0 = ephemeral; 5060 with --ip-base)")->check(CLI::Range(0, 65535));
    app.add_option("--active-load", activeLoad, "the load the phones run (default: the profile's)");
    app.add_option("--inactive-load", inactiveLoad, "the other bank's load (default: the profile's)");
    app.add_option("--count", count, "number of phones")->check(CLI::Range(1, kMaxPhones));
    app.add_option("--rate", rate, "phones started per second (open loop)")->check(CLI::Range(0.1, 100000.0));
    app.add_option("--boots", boots, "stop after this many registrations per phone (restarts in between)")->check(CLI::Range(1, 100));
    app.add_option("--hold", hold, "seconds to stay registered after the last boot (answering NOTIFYs)")->check(CLI::Range(0.0, 3600.0));
    app.add_option("--keepalive", keepalive, "keep-alive interval, seconds (default: granted Expires - 5)")->check(CLI::Range(0.0, 3600.0));
    app.add_option("--timeout", timeout, "stop everything after this many seconds")->check(CLI::Range(1, kMaxTimeout));
    app.add_flag("--no-images", noImages, "fetch .loads files but not the images they list");
    app.add_flag("--json", json, "print the final report as one JSON line");
    app.add_flag("--quiet,-q", quiet, "no per-step lines");
    app.add_flag("--list-models", listModels, "list the simulated models and exit");
    app.add_flag("--lab-network", labNetwork, "allow --count > 1 against a non-loopback server (a lab of your own)");
    CLI11_PARSE(app, argc, argv);

    if (listModels) {
        for (const auto& p : profiles())
            std::cout << fmt::format("{:<5} model {:<6} {:<22} {} {} {}\n  inferred: {}\n", p.model, p.typemodel, p.userAgent,
                                     toString(p.defaultTransport), p.httpFirst ? "http+tftp" : "tftp", p.activeLoad, p.inferred);
        return 0;
    }
    std::vector<Profile> profs;
    for (const auto& m : models) {
        auto p = findProfile(m);
        if (!p) {
            std::cerr << "labcm-phone: no profile for model '" << m << "' (see --list-models)\n";
            return 2;
        }
        profs.push_back(*p);
    }
    if (tftp.empty() && dhcpIface.empty() && dhcpRelay.empty()) {
        std::cerr << "labcm-phone: give --tftp <server address>, or --dhcp <interface> to ask DHCP for it\n";
        return 2;
    }
    if (!dhcpRelay.empty() && count > 1 && ipBase.empty()) {
        std::cerr << "labcm-phone: --dhcp-relay with --count > 1 needs --ip-base (one relay address per phone)\n";
        return 2;
    }
    if (!dhcpRelay.empty() && count > 1 && !labNetwork && !isLoopback(dhcpRelay)) {
        std::cerr << "labcm-phone: --count > 1 sends a DHCP storm; it runs against loopback only unless --lab-network\n";
        return 2;
    }
    if (!dhcpIface.empty() && count > 1 && !labNetwork) {
        std::cerr << "labcm-phone: --count > 1 with --dhcp needs --lab-network (a namespace or lab of your own)\n";
        return 2;
    }
    auto norm = labcm::normalizeMac(mac);
    if (!norm) {
        std::cerr << "labcm-phone: '" << mac << "' is not a MAC address\n";
        return 2;
    }
    boost::system::error_code ec;
    if (!tftp.empty()) {
        auto tftpAddr = asio::ip::make_address(tftp, ec);
        if (ec || !tftpAddr.is_v4()) {
            std::cerr << "labcm-phone: --tftp must be an IPv4 address\n";
            return 2;
        }
    }
    if (count > 1 && !labNetwork && dhcpIface.empty() && dhcpRelay.empty() && !isLoopback(tftp)) {
        std::cerr << "labcm-phone: --count > 1 sends a boot storm; it runs against loopback only unless --lab-network\n";
        return 2;
    }
    std::optional<asio::ip::address_v4> base;
    if (!ipBase.empty()) {
        auto b = asio::ip::make_address(ipBase, ec);
        if (ec || !b.is_v4()) {
            std::cerr << "labcm-phone: --ip-base must be an IPv4 address\n";
            return 2;
        }
        base = b.to_v4();
    }
    raiseFileLimit(static_cast<std::size_t>(count) * 3 + 64);

    RunOptions opt;
    opt.boots = boots;
    opt.hold = std::chrono::milliseconds(static_cast<long long>(hold * 1000));
    opt.keepalive = std::chrono::milliseconds(static_cast<long long>(keepalive * 1000));
    opt.fetchImages = !noImages;
    if (!quiet) opt.log = [](const std::string& s) { std::cerr << s << '\n'; };
    Target target{tftp, static_cast<std::uint16_t>(tftpPort), static_cast<std::uint16_t>(httpPort)};

    std::vector<PhoneResult> results(static_cast<std::size_t>(count)); // outlives the io_context
    auto started = Clock::now();
    {
        asio::io_context io;
        auto spawnAll = [&]() -> asio::awaitable<void> {
            asio::steady_timer t(io);
            for (int i = 0; i < count; ++i) {
                auto due = started + std::chrono::microseconds(static_cast<long long>(i * 1e6 / rate));
                if (due > Clock::now()) {
                    t.expires_at(due);
                    co_await t.async_wait(asio::use_awaitable);
                }
                PhoneSpec s;
                s.profile = profs[static_cast<std::size_t>(i) % profs.size()];
                s.mac = macPlus(*norm, static_cast<unsigned long long>(i));
                s.localIp = base ? asio::ip::address_v4(base->to_uint() + static_cast<unsigned>(i)).to_string() : ip;
                s.sipPort = sipPort != 0 ? sipPort : (base ? 5060 : 0);
                s.dhcpIface = dhcpIface;
                s.dhcpRelay = dhcpRelay;
                s.dhcpPort = static_cast<std::uint16_t>(dhcpPort);
                s.activeLoad = activeLoad.empty() ? std::string(s.profile.activeLoad) : activeLoad;
                s.inactiveLoad = inactiveLoad.empty() ? std::string(s.profile.inactiveLoad) : inactiveLoad;
                auto& r = results[static_cast<std::size_t>(i)];
                r.mac = s.mac;
                asio::co_spawn(io, runPhone(std::move(s), target, opt, r), [&r](std::exception_ptr e) {
                    if (!e) return;
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                        if (r.failure.empty()) r.failure = fmt::format("step {}: internal error: {}", r.currentStep, ex.what());
                        r.done = true;
                    }
                });
            }
        };
        asio::co_spawn(io, spawnAll(), asio::detached);

        // Progress once a second (for fleets), and the global deadline.
        auto deadline = started + std::chrono::seconds(timeout);
        bool showProgress = count > 1 && !json && isatty(STDERR_FILENO);
        for (;;) {
            io.run_for(std::chrono::milliseconds(200));
            std::size_t done = 0, registered = 0, failed = 0;
            std::array<int, kStepCount> inStep{};
            for (const auto& r : results) {
                if (r.done) ++done;
                if (!r.failure.empty()) ++failed;
                if (r.bootsRegistered > 0) ++registered;
                if (!r.done && r.currentStep > 0 && r.currentStep < kStepCount) ++inStep[static_cast<std::size_t>(r.currentStep)];
            }
            if (showProgress) {
                std::string line = fmt::format("\r{:6.1f}s done {}/{} registered {} failed {} |",
                                               std::chrono::duration<double>(Clock::now() - started).count(), done, count,
                                               registered, failed);
                for (int s = kStepCtl; s < kStepCount; ++s)
                    if (inStep[static_cast<std::size_t>(s)]) line += fmt::format(" {} {}", stepName(s), inStep[static_cast<std::size_t>(s)]);
                std::cerr << line << "   " << std::flush;
            }
            if (done == results.size() || io.stopped() || Clock::now() >= deadline) break;
        }
        if (showProgress) std::cerr << '\n';
        io.stop();
    }
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    auto report = summarize(results, boots, seconds);
    if (count == 1) {
        const auto& r = results.front();
        if (report.failed == 0)
            std::cout << fmt::format("SEP{} {}: registered {} boot(s) as {} over {}, active {} inactive {}, boot-to-registered {:.1f} ms\n",
                                     r.mac, profs.front().model, r.bootsRegistered, r.line, r.transport, r.activeLoad,
                                     r.inactiveLoad, r.bootToRegisteredMs.empty() ? 0.0 : r.bootToRegisteredMs.back());
        else
            std::cout << fmt::format("SEP{} {}: {}\n", r.mac, profs.front().model,
                                     r.failure.empty() ? fmt::format("step {}: timeout after {} s ({})", r.currentStep, timeout,
                                                                     stepName(r.currentStep))
                                                       : r.failure);
    }
    if (json)
        std::cout << reportJson(report) << '\n';
    else if (count > 1)
        std::cout << formatReport(report);
    return report.failed == 0 ? 0 : 1;
}
