// The use-case layer: every state-changing and reading operation the front ends offer (the
// CLI directly or through the control socket of a running `serve`, and the admin API), by
// name, so a change made anywhere behaves the same and is seen at once. One file per
// domain: devices.cpp (devices, lines, speed dials, import, phone control), settings.cpp
// (settings, models, firmware), dhcp.cpp, admin.cpp (the admin login), views.cpp (status,
// listings, events, export). control::Commands is the request/reply facade over it.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "usecases/context.h"

namespace labcm::provision {
struct FirmwareImport;
struct LocaleInstall;
} // namespace labcm::provision

namespace labcm::usecases {

namespace detail {
class Table;
}

/// @brief One use case: its arguments (a JSON object) and the reply callback.
using Handler = std::function<void(const json::object& args, Reply reply)>;

class UseCases {
public:
    explicit UseCases(Context ctx);
    ~UseCases();
    UseCases(const UseCases&) = delete;
    UseCases& operator=(const UseCases&) = delete;

    /// @brief The use case of a command name ("device.add"), nullptr when there is none.
    const Handler* find(std::string_view name) const;
    /// @brief The names of all use cases, sorted.
    std::vector<std::string> names() const;

private:
    std::unique_ptr<detail::Table> table_;
};

/// @brief {"ok": true, "result": result}.
json::object okReply(json::value result);
/// @brief Builds the error reply for an exception (CommandError, store errors, ...).
json::object errorReply(std::exception_ptr e);

/// @brief What a firmware import or a locale install brought, as the API and `--json` show it.
json::object toJson(const provision::FirmwareImport& done);
json::object toJson(const provision::LocaleInstall& done);

} // namespace labcm::usecases
