// One simulated phone's life, as an Asio coroutine: the boot steps of a Cisco SIP phone
// against a TFTP/HTTP server and a SIP registrar, keep-alives, and service-control restarts.
// Many phones run as many coroutines on one io_context (fleet.h).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
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
};

struct Target {
    std::string server;        ///< TFTP/HTTP server address (what option 150 would say)
    std::uint16_t tftpPort = 69;
    std::uint16_t httpPort = 6970;
};

struct RunOptions {
    int boots = 1;                                  ///< stop once this many boots registered
    std::chrono::milliseconds hold{0};              ///< stay registered this long after the last boot
    std::chrono::milliseconds keepalive{0};         ///< keep-alive interval; 0 = granted Expires - 5 s
    int keepalives = 0;                             ///< after the last boot, stop once this many keep-alives were answered (0: hold decides)
    bool fetchImages = true;                        ///< fetch the images a .loads lists
    std::chrono::milliseconds fileTimeout{1000};    ///< TFTP retransmit / HTTP connect-read timeout
    std::chrono::milliseconds sipTimeout{8000};     ///< wait for a SIP final response
    std::function<void(const std::string&)> log;    ///< per-step lines (nullptr = quiet)
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
    int keepalives = 0;
    int upgrades = 0;
    int reconnects = 0;                ///< registered again after the server closed the connection
    int failovers = 0;                 ///< registered to a standby call manager after the active one stopped answering
    int failbacks = 0;                 ///< back to a higher-priority call manager once it answered again
    std::string callManager;           ///< host:port it is registered to
    int busyRetries = 0;               ///< files asked again after a "busy" answer
};

/// @brief Runs one phone until it has registered `opt.boots` times and held for `opt.hold`,
/// or a step fails. Writes progress into `result` as it goes, so a caller that stops the
/// io_context at a deadline still sees where the phone was.
boost::asio::awaitable<void> runPhone(PhoneSpec spec, Target target, RunOptions opt, PhoneResult& result);

} // namespace labcm::phone
