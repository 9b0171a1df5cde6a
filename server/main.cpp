// labcm: a lab replacement for Cisco Unified CM. This file is the command line: it builds
// the app, adds each command group (server/cli/), parses and runs. Each command becomes a
// control request run on the running server (control socket) or, when none runs, directly
// on the database.
#include <sys/stat.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "core/log.h"

int main(int argc, char** argv) {
    // Whatever the caller's umask: the database, its WAL, backups and exports (which hold line
    // passwords) are 0640 at most, directories 0750.
    ::umask(::umask(0) | 027);
    labcm::cli::Runner r;
    CLI::App app{"labcm: Cisco IP phones in a lab, without CUCM.\n"
                 "While 'labcm serve' runs, commands go to it over its control socket; otherwise they\n"
                 "change the database in the data directory directly."};
    app.set_version_flag("--version", LABCM_VERSION);
    app.require_subcommand(1);
    app.option_defaults()->always_capture_default();
    app.add_option("--data-dir", r.options.dataDir, "Data directory (env LABCM_DATA_DIR)")->capture_default_str();
    app.add_flag("--json", r.options.json, "Print the raw JSON reply");
    app.add_option("--log-level", r.options.logLevel, "trace, debug, info, warn, error, off")->capture_default_str();

    app.parse_complete_callback([&] { labcm::log::init(r.options.logLevel); });

    namespace cli = labcm::cli;
    for (auto* add : {cli::addSystemCommands, cli::addDeviceCommands, cli::addLineCommands, cli::addCsvCommands,
                      cli::addSettingCommands, cli::addDhcpCommands, cli::addAdminCommands, cli::addFirmwareCommands,
                      cli::addLocaleCommands,
                      cli::addEventCommands,
                      cli::addCallCommands, cli::addCaptureCommand, cli::addMailboxCommands})
        add(app, r);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        std::cerr << "labcm: error: " << e.what() << "\n";
        return 1;
    }
    return r.exitCode;
}
