// labcm-phone: simulates Cisco SIP phones booting against labcm (or any CUCM-like server),
// one or thousands at a time. README "Phone simulator" describes the steps and options.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
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
/// Most calls one fleet run places (--max-calls).
constexpr int kMaxFleetCalls = 1'000'000;

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

struct Options {
    std::vector<std::string> models{"8845"};
    std::string mac = "0011220A0001";
    std::string tftp, ip = "127.0.0.1", ipBase, activeLoad, inactiveLoad, dhcpIface, dhcpRelay;
    int tftpPort = 69, httpPort = 6970, sipPort = 0, count = 1, boots = 1, timeout = 60, dhcpPort = 67, keepalives = 0;
    double rate = 100, hold = 0, keepalive = 0;
    std::string call, answer = "auto";
    double callSeconds = 2, callTimeout = 30, callRate = 0;
    int answerDelayMs = 0, waitCalls = 0, maxCalls = 0;
    bool noImages = false, json = false, quiet = false, listModels = false, labNetwork = false;
};

void addOptions(CLI::App& app, Options& o) {
    app.add_option("--model", o.models, "model(s) to simulate, rotated over the phones (8845, 7821, 7975, ...)")->delimiter(',');
    app.add_option("--mac", o.mac, "MAC of the first phone; the others count up from it");
    app.add_option("--tftp", o.tftp, "TFTP/HTTP server address (what DHCP option 150 would give)");
    app.add_option("--dhcp", o.dhcpIface, "run the DHCP step on this interface (in a network namespace of your own) "
                                          "and take the TFTP server from option 150/66");
    app.add_option("--dhcp-relay", o.dhcpRelay, "ask this DHCP server through a relay agent at each phone's --ip/--ip-base "
                                                "address (giaddr; the phone binds port 67 there)");
    app.add_option("--dhcp-port", o.dhcpPort, "DHCP server and relay agent port (the client port is this + 1)")
        ->check(CLI::Range(1, 65534));
    app.add_option("--tftp-port", o.tftpPort, "TFTP port")->check(CLI::Range(1, 65535));
    app.add_option("--http-port", o.httpPort, "HTTP port the 78xx/88xx try first")->check(CLI::Range(1, 65535));
    app.add_option("--ip", o.ip, "the phone's own address (sockets bind to it)");
    app.add_option("--ip-base", o.ipBase, "give phone i the address ip-base + i (e.g. 127.1.0.1)");
    app.add_option("--sip-port", o.sipPort, "UDP port phones listen on (0 = ephemeral; 5060 with --ip-base)")->check(CLI::Range(0, 65535));
    app.add_option("--active-load", o.activeLoad, "the load the phones run (default: the profile's)");
    app.add_option("--inactive-load", o.inactiveLoad, "the other bank's load (default: the profile's)");
    app.add_option("--count", o.count, "number of phones")->check(CLI::Range(1, kMaxPhones));
    app.add_option("--rate", o.rate, "phones started per second (open loop)")->check(CLI::Range(0.1, 100000.0));
    app.add_option("--boots", o.boots, "stop after this many registrations per phone (restarts in between)")->check(CLI::Range(1, 100));
    app.add_option("--hold", o.hold, "seconds to stay registered after the last boot (answering NOTIFYs)")->check(CLI::Range(0.0, 3600.0));
    app.add_option("--keepalive", o.keepalive, "keep-alive interval, seconds (default: granted Expires - 5)")->check(CLI::Range(0.0, 3600.0));
    app.add_option("--keepalives", o.keepalives, "after the last boot, stay registered until this many keep-alives were "
                                                 "answered (instead of --hold; bounded by --timeout)")
        ->check(CLI::Range(0, 1000));
    app.add_option("--timeout", o.timeout, "stop everything after this many seconds")->check(CLI::Range(1, kMaxTimeout));
    app.add_option("--call", o.call, "once registered, call this number (every phone of the run), hold the call "
                                     "--call-seconds, hang up")->check(CLI::Validator([](std::string& v) {
        return !v.empty() && v.size() <= 32 && v.find_first_of(" \t\r\n<>@;:,\"") == std::string::npos
                   ? std::string() : std::string("not a number to dial");
    }, "DN"));
    app.add_option("--call-seconds", o.callSeconds, "how long an answered call is held before the BYE (default 2)")
        ->check(CLI::Range(0.0, 3600.0));
    app.add_option("--call-timeout", o.callTimeout, "a call not answered within this many seconds is cancelled (default 30)")
        ->check(CLI::Range(0.1, 3600.0));
    app.add_option("--call-rate", o.callRate, "fleet calls: once every phone registered, phone i calls the next phone's "
                                              "number, this many calls per second over the fleet")
        ->check(CLI::Range(0.01, 10000.0));
    app.add_option("--max-calls", o.maxCalls, "with --call-rate: place this many calls in all (default: one per phone)")
        ->check(CLI::Range(1, kMaxFleetCalls));
    app.add_option("--answer", o.answer, "what a call to a simulated phone gets: auto (180 Ringing, then 200 OK) or "
                                         "busy (486)")->check(CLI::IsMember({"auto", "busy"}));
    app.add_option("--answer-delay-ms", o.answerDelayMs, "ring this long before answering (default 0)")
        ->check(CLI::Range(0, 600000));
    app.add_option("--wait-calls", o.waitCalls, "after the last boot, stay registered until this many calls to the phone "
                                                "ended (instead of --hold; bounded by --timeout)")
        ->check(CLI::Range(0, 100000));
    app.add_flag("--no-images", o.noImages, "fetch .loads files but not the images they list");
    app.add_flag("--json", o.json, "print the final report as one JSON line");
    app.add_flag("--quiet,-q", o.quiet, "no per-step lines");
    app.add_flag("--list-models", o.listModels, "list the simulated models and exit");
    app.add_flag("--lab-network", o.labNetwork, "allow --count > 1 against a non-loopback server (a lab of your own)");
}

void listModels() {
    for (const auto& p : profiles())
        std::cout << fmt::format("{:<5} model {:<6} {:<22} {} {} {}\n  inferred: {}\n", p.model, p.typemodel, p.userAgent,
                                 toString(p.defaultTransport), p.httpFirst ? "http+tftp" : "tftp", p.activeLoad, p.inferred);
}

/// What the options resolve to: the profiles, the first MAC, the address base.
struct Plan {
    std::vector<Profile> profiles;
    std::string mac;
    std::optional<asio::ip::address_v4> base;
};

// Checks the options (a storm only against loopback or a lab of one's own); the plan, or the
// message for stderr.
std::variant<Plan, std::string> plan(const Options& o) {
    Plan p;
    for (const auto& m : o.models) {
        auto prof = findProfile(m);
        if (!prof) return "no profile for model '" + m + "' (see --list-models)";
        p.profiles.push_back(*prof);
    }
    if (o.tftp.empty() && o.dhcpIface.empty() && o.dhcpRelay.empty())
        return "give --tftp <server address>, or --dhcp <interface> to ask DHCP for it";
    if (!o.dhcpRelay.empty() && o.count > 1 && o.ipBase.empty())
        return "--dhcp-relay with --count > 1 needs --ip-base (one relay address per phone)";
    if (!o.dhcpRelay.empty() && o.count > 1 && !o.labNetwork && !isLoopback(o.dhcpRelay))
        return "--count > 1 sends a DHCP storm; it runs against loopback only unless --lab-network";
    if (!o.dhcpIface.empty() && o.count > 1 && !o.labNetwork)
        return "--count > 1 with --dhcp needs --lab-network (a namespace or lab of your own)";
    if (o.callRate > 0 && o.count < 2) return "--call-rate needs --count 2 or more (the phones call each other)";
    if (o.callRate > 0 && !o.call.empty()) return "give --call or --call-rate, not both";
    if (o.maxCalls > 0 && o.callRate <= 0) return "--max-calls goes with --call-rate";
    auto norm = labcm::normalizeMac(o.mac);
    if (!norm) return "'" + o.mac + "' is not a MAC address";
    p.mac = *norm;
    boost::system::error_code ec;
    if (!o.tftp.empty()) {
        auto tftpAddr = asio::ip::make_address(o.tftp, ec);
        if (ec || !tftpAddr.is_v4()) return "--tftp must be an IPv4 address";
    }
    if (o.count > 1 && !o.labNetwork && o.dhcpIface.empty() && o.dhcpRelay.empty() && !isLoopback(o.tftp))
        return "--count > 1 sends a boot storm; it runs against loopback only unless --lab-network";
    if (!o.ipBase.empty()) {
        auto b = asio::ip::make_address(o.ipBase, ec);
        if (ec || !b.is_v4()) return "--ip-base must be an IPv4 address";
        p.base = b.to_v4();
    }
    return p;
}

PhoneSpec phoneSpec(const Options& o, const Plan& p, int i) {
    PhoneSpec s;
    s.profile = p.profiles[static_cast<std::size_t>(i) % p.profiles.size()];
    s.mac = macPlus(p.mac, static_cast<unsigned long long>(i));
    s.localIp = p.base ? asio::ip::address_v4(p.base->to_uint() + static_cast<unsigned>(i)).to_string() : o.ip;
    s.sipPort = o.sipPort != 0 ? o.sipPort : (p.base ? 5060 : 0);
    s.dhcpIface = o.dhcpIface;
    s.dhcpRelay = o.dhcpRelay;
    s.dhcpPort = static_cast<std::uint16_t>(o.dhcpPort);
    s.activeLoad = o.activeLoad.empty() ? std::string(s.profile.activeLoad) : o.activeLoad;
    s.inactiveLoad = o.inactiveLoad.empty() ? std::string(s.profile.inactiveLoad) : o.inactiveLoad;
    s.index = static_cast<std::size_t>(i);
    return s;
}

// One progress line (fleets on a terminal); true when every phone is done.
bool progress(const std::vector<PhoneResult>& results, Clock::time_point started, bool show) {
    std::size_t done = 0, registered = 0, failed = 0;
    std::array<int, kStepCount> inStep{};
    for (const auto& r : results) {
        if (r.done) ++done;
        if (!r.failure.empty()) ++failed;
        if (r.bootsRegistered > 0) ++registered;
        if (!r.done && r.currentStep > 0 && r.currentStep < kStepCount) ++inStep[static_cast<std::size_t>(r.currentStep)];
    }
    if (show) {
        std::string line = fmt::format("\r{:6.1f}s done {}/{} registered {} failed {} |",
                                       std::chrono::duration<double>(Clock::now() - started).count(), done, results.size(),
                                       registered, failed);
        for (int s = kStepCtl; s < kStepCount; ++s)
            if (inStep[static_cast<std::size_t>(s)]) line += fmt::format(" {} {}", stepName(s), inStep[static_cast<std::size_t>(s)]);
        std::cerr << line << "   " << std::flush;
    }
    return done == results.size();
}

/// Fleet calls asked for (--call-rate) that no phone was given, and why.
struct Unplaced {
    std::size_t calls = 0;
    std::string why;
};

// With --call-rate: once every phone has registered (or given up), hands the calls out at
// the rate, phone i calling the next registered phone's number; then closes the board.
asio::awaitable<void> dispatchCalls(const Options& o, const std::vector<PhoneResult>& results, Switchboard& board,
                                    Unplaced& unplaced) {
    const auto wanted = static_cast<std::size_t>(o.maxCalls > 0 ? o.maxCalls : o.count);
    unplaced = {wanted, "not placed: the run stopped first"};
    asio::steady_timer t(co_await asio::this_coro::executor);
    auto settled = [&] {
        return std::all_of(results.begin(), results.end(),
                           [&](const PhoneResult& r) { return r.done || r.bootsRegistered >= o.boots; });
    };
    while (!settled()) { // bounded by the run's deadline: the io_context stops then
        t.expires_after(std::chrono::milliseconds(50));
        co_await t.async_wait(asio::use_awaitable);
    }
    std::vector<std::size_t> up;
    for (std::size_t i = 0; i < results.size(); ++i)
        if (!results[i].done && results[i].bootsRegistered >= o.boots) up.push_back(i);
    if (up.size() < 2) {
        unplaced.why = "not placed: fewer than two phones registered";
    } else {
        const auto start = Clock::now();
        for (std::size_t k = 0; k < wanted; ++k) {
            auto due = start + std::chrono::microseconds(static_cast<long long>(static_cast<double>(k) * 1e6 / o.callRate));
            if (due > Clock::now()) {
                t.expires_at(due);
                co_await t.async_wait(asio::use_awaitable);
            }
            const auto caller = up[k % up.size()], callee = up[(k + 1) % up.size()];
            if (results[caller].done) continue; // stays unplaced: the calling phone stopped
            board.order(caller, results[callee].line);
            --unplaced.calls;
        }
        unplaced.why = "not placed: the calling phone had stopped";
    }
    board.closed = true;
    board.wakeAll();
}

// Boots the phones, `rate` per second, until all are done or the timeout; fills `results`.
Unplaced runFleet(const Options& o, const Plan& p, std::vector<PhoneResult>& results, Clock::time_point started) {
    RunOptions opt;
    opt.boots = o.boots;
    opt.hold = std::chrono::milliseconds(static_cast<long long>(o.hold * 1000));
    opt.keepalive = std::chrono::milliseconds(static_cast<long long>(o.keepalive * 1000));
    opt.keepalives = o.keepalives;
    opt.fetchImages = !o.noImages;
    opt.callDn = o.call;
    opt.callHold = std::chrono::milliseconds(static_cast<long long>(o.callSeconds * 1000));
    opt.callTimeout = std::chrono::milliseconds(static_cast<long long>(o.callTimeout * 1000));
    opt.answerDelay = std::chrono::milliseconds(o.answerDelayMs);
    opt.answer = o.answer == "busy" ? AnswerMode::Busy : AnswerMode::Auto;
    opt.waitCalls = o.waitCalls;
    // Declared before the io_context: the phones' coroutines (destroyed with it) still see it.
    Switchboard board(results.size());
    Unplaced unplaced;
    if (o.callRate > 0) opt.switchboard = &board;
    if (!o.quiet) opt.log = [](const std::string& s) { std::cerr << s << '\n'; };
    Target target{o.tftp, static_cast<std::uint16_t>(o.tftpPort), static_cast<std::uint16_t>(o.httpPort)};

    asio::io_context io;
    auto spawnAll = [&]() -> asio::awaitable<void> {
        asio::steady_timer t(io);
        for (int i = 0; i < o.count; ++i) {
            auto due = started + std::chrono::microseconds(static_cast<long long>(i * 1e6 / o.rate));
            if (due > Clock::now()) {
                t.expires_at(due);
                co_await t.async_wait(asio::use_awaitable);
            }
            auto s = phoneSpec(o, p, i);
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
    if (opt.switchboard) asio::co_spawn(io, dispatchCalls(o, results, board, unplaced), asio::detached);

    // Progress every 200 ms (for fleets), and the global deadline.
    auto deadline = started + std::chrono::seconds(o.timeout);
    bool showProgress = o.count > 1 && !o.json && isatty(STDERR_FILENO);
    for (;;) {
        io.run_for(std::chrono::milliseconds(200));
        if (progress(results, started, showProgress) || io.stopped() || Clock::now() >= deadline) break;
    }
    if (showProgress) std::cerr << '\n';
    io.stop();
    board.stopped = true;
    return unplaced;
}

void printCalls(const Plan& p, const PhoneResult& r) {
    for (const auto& c : r.calls) {
        std::string what;
        if (!c.placed) {
            what = c.failure;
        } else if (c.status >= 200 && c.status < 300) {
            what = fmt::format("answered {} in {:.1f} ms, ", c.status, c.setupMs);
            if (!c.failure.empty()) what += c.failure;
            else if (!c.finished) what += "not over when the phone stopped";
            else what += c.byeStatus ? fmt::format("hung up (BYE {})", c.byeStatus) : "hung up by the other side";
        } else if (c.failure.empty()) {
            what = c.finished ? fmt::format("{} {}", c.status, c.reason) : "not over when the phone stopped";
        } else {
            bool named = c.status == 0 || c.failure.find(std::to_string(c.status)) != std::string::npos;
            what = named ? c.failure : fmt::format("{} {}: {}", c.status, c.reason, c.failure);
        }
        std::cout << fmt::format("SEP{} {}: call to {}: {}\n", r.mac, p.profiles.front().model, c.to, what);
    }
    if (r.callsReceived > 0)
        std::cout << fmt::format("SEP{} {}: calls received {}, answered {}\n", r.mac, p.profiles.front().model,
                                 r.callsReceived, r.callsAnsweredIn);
}

void printOne(const Options& o, const Plan& p, const PhoneResult& r, bool ok) {
    if (ok)
        std::cout << fmt::format("SEP{} {}: registered {} boot(s) as {} over {}, active {} inactive {}, boot-to-registered {:.1f} ms\n",
                                 r.mac, p.profiles.front().model, r.bootsRegistered, r.line, r.transport, r.activeLoad,
                                 r.inactiveLoad, r.bootToRegisteredMs.empty() ? 0.0 : r.bootToRegisteredMs.back());
    else
        std::cout << fmt::format("SEP{} {}: {}\n", r.mac, p.profiles.front().model,
                                 r.failure.empty() ? fmt::format("step {}: timeout after {} s ({})", r.currentStep, o.timeout,
                                                                 stepName(r.currentStep))
                                                   : r.failure);
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"labcm-phone: simulated Cisco SIP phones booting against labcm"};
    Options o;
    addOptions(app, o);
    CLI11_PARSE(app, argc, argv);
    if (o.listModels) {
        listModels();
        return 0;
    }
    auto planned = plan(o);
    if (auto* why = std::get_if<std::string>(&planned)) {
        std::cerr << "labcm-phone: " << *why << "\n";
        return 2;
    }
    const auto& p = std::get<Plan>(planned);
    raiseFileLimit(static_cast<std::size_t>(o.count) * 3 + 64);

    std::vector<PhoneResult> results(static_cast<std::size_t>(o.count)); // outlives the io_context
    auto started = Clock::now();
    auto unplaced = runFleet(o, p, results, started);
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    auto report = summarize(results, o.boots, seconds);
    addUnplacedCalls(report, unplaced.calls, unplaced.why);
    if (o.count == 1) {
        printOne(o, p, results.front(), report.failed == 0);
        printCalls(p, results.front());
    }
    if (o.json)
        std::cout << reportJson(report) << '\n';
    else if (o.count > 1)
        std::cout << formatReport(report);
    return report.failed == 0 && report.callsFailed == 0 ? 0 : 1;
}
