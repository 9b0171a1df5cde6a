// What every use case works with: the stores, the event bus, the settings, the runtime
// counters, and the error a use case throws. The front ends (control socket, CLI direct mode,
// admin API) build one Context and reach the use cases through control::Commands.
//
// Status codes follow HTTP so the admin API maps them 1:1: 400 bad argument, 404 not found,
// 409 conflict, 422 invalid content, 500 internal, 503 busy.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include <boost/json.hpp>

#include "core/events.h"
#include "core/settings.h"
#include "store/sqlite.h"
#include "store/writer.h"

namespace labcm::sip {
class SipTrace;
}

namespace labcm::usecases {

namespace json = boost::json;

/// @brief The reply callback: called exactly once, with {"ok": true, "result": ...} or an
/// error reply (errorReply()).
using Reply = std::function<void(json::object)>;

class CommandError : public std::runtime_error {
public:
    CommandError(int status_, std::string code_, std::string field_, const std::string& message,
                 json::value details_ = nullptr)
        : std::runtime_error(message), status(status_), code(std::move(code_)), field(std::move(field_)),
          details(std::move(details_)) {}
    int status;
    std::string code;
    std::string field;
    json::value details;
};

/// @brief Counters the status command reports; owned by whoever runs the commands.
struct RuntimeInfo {
    std::string dataDir;
    std::string filesDir; ///< firmware and other files phones fetch
    std::string mode; ///< "server" (inside serve) or "direct" (CLI on the database file)
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::atomic<std::uint64_t> externalChanges{0};
    /// True once every listener (control socket, HTTP, TFTP, SIP UDP+TCP, admin, DHCP when
    /// on) is bound and the io thread runs; false again when the server stops. The status
    /// command, /api/health (labcm health) and systemd (sd_notify READY=1) report it.
    std::atomic<bool> ready{false};
    std::function<json::object()> extra; ///< more status fields (event sink counters, ...)
};

/// @brief What the use cases work with. `post` runs a function on the thread that owns
/// `reader` (completions of writes come back through it).
struct Context {
    store::Db& reader;
    store::Writer& writer;
    EventBus& bus;
    SettingsHolder& settings;
    RuntimeInfo& info;
    std::function<void(std::function<void()>)> post;
    /// @brief Sends a service-control NOTIFY (restart, reset, ...) to a registered phone and
    /// replies with the outcome; empty when no server runs (direct mode).
    std::function<void(const std::string& mac, const std::string& action, std::function<void(json::object)> reply)>
        phoneControl = {};
    /// @brief Tells the running DHCP server that the admin freed an address; empty in direct mode.
    std::function<void(std::uint32_t address)> dhcpLeaseRemoved = {};
    /// @brief Runs a long job (a firmware import) off the reader's thread; its result comes
    /// back through `post`. Empty: the job runs at once, on the caller's thread (direct mode).
    std::function<void(std::function<void()>)> background = {};
    /// @brief The calls in progress as the running SIP service knows them; empty in direct mode.
    std::function<json::array()> activeCalls = {};
    /// @brief The phones' SIP messages as the running SIP service sent and received them;
    /// null in direct mode.
    sip::SipTrace* trace = nullptr;
};

} // namespace labcm::usecases
