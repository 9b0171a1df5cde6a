// One simulated phone's life, as an Asio coroutine: the boot steps of a Cisco SIP phone
// against a TFTP/HTTP server and a SIP registrar, keep-alives, and service-control restarts.
// Many phones run as many coroutines on one io_context (fleet.h).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "profiles.h"

namespace labcm::phone {

using Clock = std::chrono::steady_clock;

/// The boot steps, numbered as in the seed document (README "Phone simulator").
enum Step : int {
    kStepDhcp = 3,
    kStepCtl = 4,
    kStepItl = 5,
    kStepConfig = 6,
    kStepFirmware = 7,
    kStepDialRules = 8,
    kStepConnect = 9,
    kStepRegister = 10,
    kStepLocale = 11,
    kStepSoftkeys = 12,
    kStepRingtones = 13,
    kStepRegistered = 14, ///< registered; keep-alives and NOTIFYs from here on
};
inline constexpr int kStepCount = 15;
std::string_view stepName(int step);

struct PhoneSpec {
    Profile profile;
    std::string mac;           ///< 12 upper-case hex digits
    std::string localIp;       ///< the phone's address (sockets bind to it)
    int sipPort = 0;           ///< UDP listening port (0 = ephemeral); Via/Contact carry it
    std::string dhcpIface;     ///< the DHCP step's interface: broadcast there, and the leased address goes on it
    std::string dhcpRelay;     ///< relay mode: this DHCP server, with localIp as giaddr ("" = broadcast or skip)
    std::uint16_t dhcpPort = 67; ///< DHCP server (and relay agent) port; the client port is this + 1
    std::string activeLoad;    ///< firmware the phone runs
    std::string inactiveLoad;
    std::size_t index = 0;     ///< the phone's number in the run (its Switchboard slot)
};

struct Target {
    std::string server;        ///< TFTP/HTTP server address (what option 150 would say)
    std::uint16_t tftpPort = 69;
    std::uint16_t httpPort = 6970;
};

/// Fleet calls (--call-rate): the run hands each registered phone the numbers it is to call,
/// and every phone stays registered until the fleet's calls are over. All phones run on one
/// io_context thread: no locking.
struct Switchboard {
    std::vector<std::deque<std::string>> orders; ///< per phone: numbers to call, oldest first
    std::vector<std::function<void()>> wake;     ///< per phone, while it runs: ends its idle wait
    std::size_t outstanding = 0;                 ///< orders given whose call has not ended yet
    bool closed = false;                         ///< no more orders come
    bool stopped = false;                        ///< the run is over: nobody is woken any more

    explicit Switchboard(std::size_t phones) : orders(phones), wake(phones) {}
    /// @brief Hands phone `i` a number to call and wakes it.
    void order(std::size_t i, std::string dn) {
        orders[i].push_back(std::move(dn));
        ++outstanding;
        if (wake[i] && !stopped) wake[i]();
    }
    void wakeAll() {
        if (stopped) return;
        for (auto& w : wake)
            if (w) w();
    }
    /// @brief No more orders, and none in progress: phones may stop.
    bool over() const { return closed && outstanding == 0; }
};

/// What an incoming INVITE gets.
enum class AnswerMode { Auto, Busy };

struct RunOptions {
    int boots = 1;                                  ///< stop once this many boots registered
    std::chrono::milliseconds hold{0};              ///< stay registered this long after the last boot
    std::chrono::milliseconds keepalive{0};         ///< keep-alive interval; 0 = granted Expires - 5 s
    int keepalives = 0;                             ///< after the last boot, stop once this many keep-alives were answered (0: hold decides)
    bool fetchImages = true;                        ///< fetch the images a .loads lists
    std::chrono::milliseconds fileTimeout{1000};    ///< TFTP retransmit / HTTP connect-read timeout
    std::chrono::milliseconds sipTimeout{8000};     ///< wait for a SIP final response
    std::function<void(const std::string&)> log;    ///< per-step lines (nullptr = quiet)
    // Calls (README "Phone simulator", calls).
    std::string callDn;                             ///< once registered (last boot), call this number once
    std::chrono::milliseconds callHold{2000};       ///< an answered call is hung up (BYE) after this
    std::chrono::milliseconds callTimeout{30000};   ///< a call not answered by then is cancelled
    std::chrono::milliseconds answerDelay{0};       ///< 180 Ringing, then 200 OK after this
    AnswerMode answer = AnswerMode::Auto;
    int waitCalls = 0;                              ///< after the last boot, stay until this many calls to the phone ended
    Switchboard* switchboard = nullptr;             ///< fleet calls (nullptr: none)
};

/// One call a phone placed (or was asked to place and could not).
struct CallRecord {
    std::string to;            ///< the number dialled
    bool placed = false;       ///< the INVITE went out
    int status = 0;            ///< final answer to the INVITE (0: none)
    std::string reason;        ///< its reason phrase
    double setupMs = 0;        ///< INVITE -> 2xx
    int byeStatus = 0;         ///< the answer to the phone's BYE (0: none)
    bool finished = false;     ///< over, well or not
    std::string failure;       ///< "" when it went well (or is still going)
};

struct StepRecord {
    int boot = 1;
    int step = 0;
    std::string what;          ///< the file or action
    std::string outcome;       ///< "ok via http, 1234 bytes", "not found (http 404, tftp 1)", ...
    bool ok = true;            ///< false: the phone could not go on (or had to fall back)
    double ms = 0;
};

struct PhoneResult {
    std::string mac;
    int currentStep = 0;               ///< where the phone is now (for progress and timeouts)
    int bootsRegistered = 0;
    bool done = false;                 ///< finished by itself (success or failure)
    std::string failure;               ///< "" on success; else "step N: why"
    std::vector<StepRecord> steps;
    std::vector<double> bootToRegisteredMs;
    std::vector<std::string> warnings; ///< tolerated not-founds (locale, ring list, ...)
    std::string line;                  ///< primary DN it registered
    std::string transport;
    std::string activeLoad;            ///< at the end (after any upgrade)
    std::string inactiveLoad;
    int restarts = 0;                  ///< service-control restart/reset NOTIFYs obeyed
    int reportsUploaded = 0;           ///< problem reports posted on a prt-report NOTIFY (answered 200)
    int keepalives = 0;
    int upgrades = 0;
    int reconnects = 0;                ///< registered again after the server closed the connection
    int failovers = 0;                 ///< registered to a standby call manager after the active one stopped answering
    int failbacks = 0;                 ///< back to a higher-priority call manager once it answered again
    std::string callManager;           ///< host:port it is registered to
    int busyRetries = 0;               ///< files asked again after a "busy" answer
    std::vector<CallRecord> calls;     ///< calls it placed
    int callsReceived = 0;             ///< new INVITEs to it
    int callsAnsweredIn = 0;           ///< of those, answered 200 and ACKed
    int callsEndedIn = 0;              ///< of those, over (hung up by BYE, cancelled, refused)
};

/// @brief Runs one phone until it has registered `opt.boots` times and held for `opt.hold`,
/// or a step fails. Writes progress into `result` as it goes, so a caller that stops the
/// io_context at a deadline still sees where the phone was.
boost::asio::awaitable<void> runPhone(PhoneSpec spec, Target target, RunOptions opt, PhoneResult& result);

} // namespace labcm::phone
