// The server and its data: serve, migrate, backup, restore, health, status; and events.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "app/server.h"
#include "cli/cli.h"
#include "core/limits.h"
#include "store/backup.h"

namespace labcm::cli {

using labcm::app::DataDir;

namespace {

void addBackupRestore(CLI::App& app, Runner& r) {
    auto& backupFile = r.keep<std::string>();
    auto* backupCmd = app.add_subcommand("backup", "Copy the database to a file, online (the server keeps running)");
    backupCmd->add_option("file", backupFile, "Where to write the copy")->required();
    backupCmd->callback([&] {
        auto info = store::backupDatabase(DataDir{r.options.dataDir}.db().string(), backupFile);
        std::cout << fmt::format("backup {}: {} devices, schema {}, {} bytes\n", backupFile, info.devices, info.schema,
                                 info.bytes);
    });
    auto* restoreCmd = app.add_subcommand("restore", "Replace the database with a backup (stop the server first)");
    restoreCmd->add_option("file", backupFile, "A file written by 'labcm backup'")->required();
    restoreCmd->callback([&] {
        DataDir dir{r.options.dataDir};
        labcm::app::DataDirLock lock(dir);
        if (!lock.held())
            throw std::runtime_error("labcm serve is running on this data dir: stop it first (systemctl stop labcm, or "
                                     "docker compose stop), restore, then start it again");
        auto info = store::restoreDatabase(backupFile, dir.db().string());
        std::cout << fmt::format("restored {}: {} devices (schema {} brought up to date)\n", backupFile, info.devices,
                                 info.schema);
    });
}

} // namespace

void addSystemCommands(CLI::App& app, Runner& r) {
    auto* serveCmd = app.add_subcommand("serve", "Run the server (stops cleanly on SIGINT/SIGTERM)");
    serveCmd->callback([&] { r.exitCode = labcm::app::serve(DataDir{r.options.dataDir}); });

    auto* migrateCmd = app.add_subcommand("migrate", "Create or upgrade the database schema");
    migrateCmd->callback([&] {
        DataDir dir{r.options.dataDir};
        labcm::app::DataDirLock lock(dir);
        if (!lock.held()) throw std::runtime_error("a labcm server holds the data dir; it migrates at start");
        auto [from, to] = labcm::app::migrateDataDir(dir);
        std::cout << (from == to ? fmt::format("schema is at version {} (latest)\n", to)
                                 : fmt::format("schema migrated from version {} to {}\n", from, to));
    });

    addBackupRestore(app, r);

    auto* healthCmd = app.add_subcommand("health", "Ask the running server's admin port for /api/health (exit 0 when healthy)");
    healthCmd->callback([&] { r.exitCode = labcm::app::healthCheck(DataDir{r.options.dataDir}); });

    auto* statusCmd = app.add_subcommand("status", "Show the server's (or the database's) state");
    statusCmd->callback([&] {
        r.call({{"cmd", "status"}}, [](const json::value& v) {
            for (const auto& [k, x] : v.as_object()) std::cout << fmt::format("{:<18} {}\n", std::string(k), text(x));
        });
    });
}

void addCallCommands(CLI::App& app, Runner& r) {
    app.add_subcommand("calls", "Calls in progress (needs the running server)")->callback([&r] {
        r.call({{"cmd", "call.list"}}, [](const json::value& v) {
            if (v.as_array().empty()) std::cout << "no calls in progress\n";
            for (const auto& cv : v.as_array()) {
                const auto& c = cv.as_object();
                std::cout << fmt::format("{} ({}) -> {} ({}) for {} s  [{}]\n", text(c.at("caller_dn")), text(c.at("caller")),
                                         text(c.at("number")), text(c.at("callee")), c.at("seconds").to_number<std::int64_t>(),
                                         text(c.at("call_id")));
            }
        });
    });
}

// A server-wide capture: every SIP message labcm sends and receives, whoever's, for a time.
void addCaptureCommand(CLI::App& app, Runner& r) {
    struct Args {
        int seconds = 60;
        int maxMib = 100;
        std::string output;
    };
    auto& a = r.keep<Args>();
    auto* cap = app.add_subcommand("capture", "Capture every SIP message labcm sends and receives to a pcap file (needs the running server)");
    cap->add_option("--seconds", a.seconds, "How long")->check(CLI::Range(1, static_cast<int>(limits::kCaptureMaxTime.count())));
    cap->add_option("--max-mib", a.maxMib, "Stop earlier when the file is this large, MiB")->check(CLI::Range(1, 1024));
    cap->add_option("-o,--output", a.output, "The pcap file to write")->required();
    cap->callback([&r, &a] {
        auto started = r.result({{"cmd", "capture.start"},
                                 {"args", {{"seconds", a.seconds}, {"max_bytes", static_cast<std::int64_t>(a.maxMib) * 1024 * 1024}}}});
        if (!started) return;
        const std::string name(started->at("name").as_string());
        std::cout << "capturing for " << a.seconds << " s into " << name << "\n" << std::flush;
        // Bounded: the capture ends by its time on the server; a second past it at most.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.seconds + 5);
        std::optional<json::value> status;
        do {
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            status = r.result({{"cmd", "capture.status"}, {"args", {{"name", name}}}});
            if (!status) return;
        } while (!status->at("done").as_bool() && std::chrono::steady_clock::now() < deadline);
        if (!status->at("done").as_bool()) {
            std::cerr << "labcm: the capture did not end in time\n";
            r.exitCode = std::max(r.exitCode, 1);
            return;
        }
        std::error_code ec;
        std::filesystem::copy_file(std::string(status->at("path").as_string()), a.output,
                                   std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) {
            std::cerr << "labcm: cannot write " << a.output << ": " << ec.message() << "\n";
            r.exitCode = std::max(r.exitCode, 1);
            return;
        }
        std::cout << "wrote " << status->at("packets").to_number<std::int64_t>() << " packets to " << a.output << " (ended by "
                  << text(status->at("stopped")) << ")\n";
    });
}

void addMailboxCommands(CLI::App& app, Runner& r) {
    auto* mb = app.add_subcommand("mailbox", "Message waiting: a DN's voicemail counts (its phones' lamps follow)");
    mb->require_subcommand(1);
    mb->add_subcommand("list", "The mailboxes and their counts")->callback([&r] {
        r.call({{"cmd", "mailbox.list"}}, [](const json::value& v) {
            if (v.as_array().empty()) std::cout << "no mailboxes\n";
            for (const auto& mv : v.as_array()) {
                const auto& m = mv.as_object();
                std::cout << fmt::format("{:<16} {:>4} new {:>4} old  {}\n", text(m.at("dn")), m.at("new").to_number<int>(),
                                         m.at("old").to_number<int>(), m.at("waiting").as_bool() ? "waiting" : "");
            }
        });
    });
    struct Args {
        std::string dn;
        int newMessages = 0, oldMessages = 0;
    };
    auto& a = r.keep<Args>();
    auto* set = mb->add_subcommand("set", "Set a DN's counts: labcm mailbox set 1001 2 --old 5 (0 new: lamp off)");
    set->add_option("dn", a.dn, "Directory number")->required();
    set->add_option("new", a.newMessages, "New messages (0-9999)")->required();
    set->add_option("--old", a.oldMessages, "Old messages (0-9999)");
    set->callback([&r, &a] {
        r.call({{"cmd", "mailbox.set"}, {"args", {{"dn", a.dn}, {"new", a.newMessages}, {"old", a.oldMessages}}}}, printOk("ok"));
    });
    auto* rm = mb->add_subcommand("rm", "Remove a DN's mailbox (its lamps go off)");
    rm->add_option("dn", a.dn)->required();
    rm->callback([&r, &a] { r.call({{"cmd", "mailbox.rm"}, {"args", {{"dn", a.dn}}}}, printOk("ok")); });
}

void addEventCommands(CLI::App& app, Runner& r) {
    struct EventArgs {
        std::string device;
        std::int64_t limit = 50;
    };
    auto& ea = r.keep<EventArgs>();
    auto* events = app.add_subcommand("events", "Recent events (newest first), optionally of one phone");
    events->add_option("--device", ea.device, "SEP<MAC> or MAC");
    events->add_option("--limit", ea.limit, "How many")->capture_default_str();
    events->callback([&] {
        json::object args{{"limit", ea.limit}};
        if (!ea.device.empty()) args["device"] = ea.device;
        r.call({{"cmd", "events"}, {"args", args}}, [](const json::value& v) {
            for (const auto& ev : v.as_array()) {
                const auto& e = ev.as_object();
                std::cout << fmt::format("{} {:<7} {:<8} {:<22} {:<12} {}\n", e.at("time_ms").to_number<std::int64_t>(),
                                         text(e.at("severity")), text(e.at("service")), text(e.at("kind")),
                                         text(e.at("mac")), text(e.at("detail")));
            }
        });
    });
}

} // namespace labcm::cli
