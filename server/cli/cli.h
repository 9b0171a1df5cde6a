// The command line's shared parts: the global options, the Runner that sends a request to
// the running server (control socket) or runs it directly on the database and prints the
// reply, and the printers several command groups use. Each group lives in its own file
// (system.cpp, device.cpp, line.cpp, settings.cpp, dhcp.cpp, admin.cpp) and adds its
// subcommands to the app; main.cpp only builds the app, adds the groups and parses.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

namespace labcm::cli {

namespace json = boost::json;

/// @brief The options every command has (--data-dir, --json, --log-level).
struct Options {
    std::string dataDir = [] {
        const char* env = std::getenv("LABCM_DATA_DIR");
        return std::string(env && *env ? env : "./labcm-data");
    }();
    std::string logLevel = "info";
    bool json = false;
};

/// @brief Prints a successful reply's result for a human (not called with --json).
using Human = std::function<void(const json::value&)>;

class Runner {
public:
    Options options;
    /// The process's exit code: the worst of every call (a printer may set it too).
    int exitCode = 0;

    /// @brief Runs a request on the server if one answers on the control socket, else
    /// directly; prints the reply (raw JSON with --json, else `human` or the error).
    void call(json::object request, const Human& human = {});
    /// @brief Runs a request like call() and hands back its result instead of printing it;
    /// an error is printed (exit code set) and gives nullopt.
    std::optional<json::value> result(json::object request);

    /// @brief A group's argument variables, alive as long as the runner (CLI11 binds them
    /// by reference and fills them during parsing).
    template <class T>
    T& keep() {
        auto p = std::make_shared<T>();
        kept_.push_back(p);
        return *p;
    }

private:
    std::vector<std::shared_ptr<void>> kept_;
};

/// @brief A Human that prints one fixed line.
Human printOk(std::string msg);
/// @brief A JSON value as text: strings bare, null empty, others serialized.
std::string text(const json::value& v); ///< for a terminal: control characters as \xNN
/// @brief Decodes base64 `data` into `path`; false (and a message on stderr) on failure.
bool writeBase64File(const std::string& path, std::string_view data);
std::string isoTime(std::int64_t ms);    ///< milliseconds since the epoch as "2026-12-01 22:45:23 UTC"
std::string preciseTime(std::int64_t us); ///< microseconds since the epoch as "2026-12-01 22:45:23.123456" (UTC)
/// @brief One device in full (device show and every command that replies with a device).
void printDevice(const json::object& d);
/// @brief The device table (device list).
void printDevices(const json::array& devices);
/// @brief A file's content, refused above the CSV size limit.
std::string readFile(const std::string& path);

// The command groups, in the order `labcm --help` lists them.
void addSystemCommands(CLI::App& app, Runner& r);   ///< serve, migrate, backup, restore, health, status
void addDeviceCommands(CLI::App& app, Runner& r);   ///< device add/list/show/edit/restart/reset/apply-config/rm
void addLineCommands(CLI::App& app, Runner& r);     ///< line add/edit/rm, speeddial add/rm
void addCsvCommands(CLI::App& app, Runner& r);      ///< import, export
void addSettingCommands(CLI::App& app, Runner& r);  ///< setting list/set/unset, model list/set
void addDhcpCommands(CLI::App& app, Runner& r);     ///< dhcp pool set/rm/list, leases, lease rm
void addAdminCommands(CLI::App& app, Runner& r);    ///< admin password
void addFirmwareCommands(CLI::App& app, Runner& r); ///< firmware import/check
void addLocaleCommands(CLI::App& app, Runner& r);   ///< locale install
void addEventCommands(CLI::App& app, Runner& r);    ///< events
void addCallCommands(CLI::App& app, Runner& r);     ///< calls
void addCaptureCommand(CLI::App& app, Runner& r);   ///< capture (a server-wide pcap)
void addMailboxCommands(CLI::App& app, Runner& r);  ///< mailbox list/set/rm

} // namespace labcm::cli
