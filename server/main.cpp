// labcm: a lab replacement for Cisco Unified CM. This file is the command line: it parses
// arguments, turns each command into a control request and runs it on the running server
// (control socket) or, when none runs, directly on the database.
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/server.h"
#include "control/control_client.h"
#include "core/limits.h"
#include "core/log.h"
#include "sip/source.h"
#include "store/backup.h"
#include "store/migrations.h"
#include "usecases/passwords.h"

namespace json = boost::json;
using labcm::app::DataDir;

namespace {

struct Options {
    std::string dataDir = [] {
        const char* env = std::getenv("LABCM_DATA_DIR");
        return std::string(env && *env ? env : "./labcm-data");
    }();
    std::string logLevel = "info";
    bool json = false;
};

// Runs a request on the server if one answers on the control socket, else directly. A
// server that holds the data dir but is not listening yet is waited for, boundedly.
json::object run(const Options& o, json::object request) {
    DataDir dir{o.dataDir};
    const auto deadline = std::chrono::steady_clock::now() + labcm::limits::kControlStartWait;
    for (;;) {
        if (auto r = labcm::control::callServer(dir.socket(), request)) return r->as_object();
        try {
            return labcm::app::runDirect(dir, request).as_object();
        } catch (const labcm::app::ServerNotAnswering&) {
            if (std::chrono::steady_clock::now() >= deadline) throw;
            std::this_thread::sleep_for(labcm::limits::kControlRetryPause);
        }
    }
}

std::string text(const json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_null()) return "";
    return json::serialize(v);
}

void printDevices(const json::array& devices) {
    std::cout << fmt::format("{:<16} {:<6} {:<24} {:<20} {:<12} {:<16} {}\n", "NAME", "MODEL", "DESCRIPTION", "LINES",
                             "STATE", "ADDRESS", "ACTIVE LOAD");
    for (const auto& dv : devices) {
        const auto& d = dv.as_object();
        std::string lines;
        for (const auto& lv : d.at("lines").as_array()) {
            const auto& l = lv.as_object();
            lines += fmt::format("{}{}:{}", lines.empty() ? "" : " ", l.at("index").to_number<std::int64_t>(), text(l.at("dn")));
        }
        const auto& reg = d.at("registration").as_object();
        std::string address;
        if (auto* src = reg.if_contains("source"))
            if (auto s = labcm::sip::Source::parse(text(*src))) address = s->address; // "tcp:10.0.0.50:51234"
        std::cout << fmt::format("{:<16} {:<6} {:<24} {:<20} {:<12} {:<16} {}\n", text(d.at("name")), text(d.at("model")),
                                 text(d.at("description")), lines, text(reg.at("state")), address,
                                 reg.contains("active_load") ? text(reg.at("active_load")) : "");
    }
}

void printDevice(const json::object& d) {
    std::cout << fmt::format("name:        {}\nmac:         {}\nmodel:       {}\ndescription: {}\nload:        {}\n"
                             "transport:   {}\ndigest auth: {}\n",
                             text(d.at("name")), text(d.at("mac")), text(d.at("model")), text(d.at("description")),
                             text(d.at("load")).empty() ? "(model default)" : text(d.at("load")), text(d.at("transport")),
                             d.at("digest_auth").as_bool() ? "on" : "off");
    if (!text(d.at("dhcp_address")).empty()) std::cout << fmt::format("dhcp address: {} (reserved)\n", text(d.at("dhcp_address")));
    for (const auto& lv : d.at("lines").as_array()) {
        const auto& l = lv.as_object();
        std::string shared;
        for (const auto& s : l.at("shared_with").as_array()) shared.append(" ").append(text(s));
        std::cout << fmt::format("line {}:      dn={} display_name=\"{}\" label=\"{}\" auth_name={}{}{}\n",
                                 l.at("index").to_number<std::int64_t>(), text(l.at("dn")), text(l.at("display_name")),
                                 text(l.at("label")), text(l.at("auth_name")),
                                 l.at("auth_password_set").as_bool() ? " (password set)" : "",
                                 shared.empty() ? std::string() : fmt::format(" shared with{}", shared));
    }
    const auto& reg = d.at("registration").as_object();
    std::cout << fmt::format("registration: {}\n", text(reg.at("state")));
    if (reg.contains("source")) {
        std::cout << fmt::format("  from:          {} ({})\n  user agent:    {}\n  active load:   {}\n"
                                 "  inactive load: {}\n  last reason:   {}{}\n  contact:       {}\n",
                                 text(reg.at("source")), text(reg.at("transport")), text(reg.at("user_agent")),
                                 text(reg.at("active_load")), text(reg.at("inactive_load")), text(reg.at("last")),
                                 reg.at("alarm").to_number<std::int64_t>() >= 0
                                     ? fmt::format(" (cisco-alarm {})", reg.at("alarm").to_number<std::int64_t>())
                                     : std::string(),
                                 text(reg.at("contact")));
    }
    for (const auto& kv : d.at("speed_dials").as_array()) {
        const auto& k = kv.as_object();
        std::cout << fmt::format("button {}:    {}speed dial {} label=\"{}\"\n", k.at("button").to_number<std::int64_t>(),
                                 k.at("blf").as_bool() ? "BLF " : "", text(k.at("number")), text(k.at("label")));
    }
}

// Prints the reply; returns the exit code.
int finish(const Options& o, const json::object& reply, const std::function<void(const json::value&)>& human) {
    if (o.json) {
        std::cout << json::serialize(reply) << "\n";
        return reply.at("ok").as_bool() ? 0 : 1;
    }
    if (reply.at("ok").as_bool()) {
        if (human) human(reply.at("result"));
        return 0;
    }
    const auto& err = reply.at("error").as_object();
    std::cerr << "labcm: error: " << text(err.at("message")) << "\n";
    if (auto* details = err.if_contains("details"); details && details->is_array())
        for (const auto& dv : details->as_array()) {
            const auto& d = dv.as_object();
            std::cerr << fmt::format("  row {}: {}: {}\n", d.at("row").to_number<std::int64_t>(), text(d.at("field")),
                                     text(d.at("message")));
        }
    return 1;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
    in.seekg(0, std::ios::end);
    auto size = static_cast<std::size_t>(in.tellg());
    if (size > labcm::limits::kMaxCsvBytes)
        throw std::runtime_error(fmt::format("{} is {} bytes, more than the limit of {}", path, size,
                                             labcm::limits::kMaxCsvBytes));
    in.seekg(0);
    std::string s(size, '\0');
    in.read(s.data(), static_cast<std::streamsize>(size));
    return s;
}

// Reads one line from the terminal without echoing it.
std::string readHidden(const char* prompt) {
    std::cerr << prompt << std::flush;
    termios old{};
    bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
    return line;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"labcm: Cisco IP phones in a lab, without CUCM.\n"
                 "While 'labcm serve' runs, commands go to it over its control socket; otherwise they\n"
                 "change the database in the data directory directly."};
    app.set_version_flag("--version", LABCM_VERSION);
    app.require_subcommand(1);
    app.option_defaults()->always_capture_default();
    app.add_option("--data-dir", o.dataDir, "Data directory (env LABCM_DATA_DIR)")->capture_default_str();
    app.add_flag("--json", o.json, "Print the raw JSON reply");
    app.add_option("--log-level", o.logLevel, "trace, debug, info, warn, error, off")->capture_default_str();

    app.parse_complete_callback([&] { labcm::log::init(o.logLevel); });

    int exitCode = 0;
    auto call = [&](json::object request, std::function<void(const json::value&)> human = {}) {
        // The human printer may already have set a failing code (firmware check).
        exitCode = std::max(exitCode, finish(o, run(o, std::move(request)), human));
    };
    auto printOk = [](std::string msg) { return [msg](const json::value&) { std::cout << msg << "\n"; }; };

    // serve, migrate, status ------------------------------------------------------------
    auto* serveCmd = app.add_subcommand("serve", "Run the server (stops cleanly on SIGINT/SIGTERM)");
    serveCmd->callback([&] { exitCode = labcm::app::serve(DataDir{o.dataDir}); });

    auto* migrateCmd = app.add_subcommand("migrate", "Create or upgrade the database schema");
    migrateCmd->callback([&] {
        DataDir dir{o.dataDir};
        labcm::app::DataDirLock lock(dir);
        if (!lock.held()) throw std::runtime_error("a labcm server holds the data dir; it migrates at start");
        auto [from, to] = labcm::app::migrateDataDir(dir);
        std::cout << (from == to ? fmt::format("schema is at version {} (latest)\n", to)
                                 : fmt::format("schema migrated from version {} to {}\n", from, to));
    });

    std::string backupFile;
    auto* backupCmd = app.add_subcommand("backup", "Copy the database to a file, online (the server keeps running)");
    backupCmd->add_option("file", backupFile, "Where to write the copy")->required();
    backupCmd->callback([&] {
        auto info = labcm::store::backupDatabase(DataDir{o.dataDir}.db().string(), backupFile);
        std::cout << fmt::format("backup {}: {} devices, schema {}, {} bytes\n", backupFile, info.devices, info.schema,
                                 info.bytes);
    });
    auto* restoreCmd = app.add_subcommand("restore", "Replace the database with a backup (stop the server first)");
    restoreCmd->add_option("file", backupFile, "A file written by 'labcm backup'")->required();
    restoreCmd->callback([&] {
        DataDir dir{o.dataDir};
        labcm::app::DataDirLock lock(dir);
        if (!lock.held())
            throw std::runtime_error("labcm serve is running on this data dir: stop it first (systemctl stop labcm, or "
                                     "docker compose stop), restore, then start it again");
        auto info = labcm::store::restoreDatabase(backupFile, dir.db().string());
        std::cout << fmt::format("restored {}: {} devices (schema {} brought up to date)\n", backupFile, info.devices,
                                 info.schema);
    });
    auto* healthCmd = app.add_subcommand("health", "Ask the running server's admin port for /api/health (exit 0 when healthy)");
    healthCmd->callback([&] { exitCode = labcm::app::healthCheck(DataDir{o.dataDir}); });

    auto* statusCmd = app.add_subcommand("status", "Show the server's (or the database's) state");
    statusCmd->callback([&] {
        call({{"cmd", "status"}}, [](const json::value& r) {
            for (const auto& [k, v] : r.as_object()) std::cout << fmt::format("{:<18} {}\n", std::string(k), text(v));
        });
    });

    // device ------------------------------------------------------------------------------
    auto* device = app.add_subcommand("device", "Phones: add, list, show, edit, rm");
    device->require_subcommand(1);
    struct DeviceArgs {
        std::string name, model, description, load, filter, transport = "tcp", dhcpAddress;
        std::vector<std::string> lines;
        std::int64_t limit = 0;
        bool digest = false;
        std::string digestOnOff;
    } da;

    auto* dAdd = device->add_subcommand("add", "Add a phone: labcm device add SEP001122AABBCC --model 8845 --line 1001");
    dAdd->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    dAdd->add_option("--model", da.model, "Model, e.g. 8845 (see 'labcm model list')")->required();
    dAdd->add_option("--description", da.description, "Description");
    dAdd->add_option("--load", da.load, "Firmware load for this phone (default: the model's)");
    dAdd->add_option("--line", da.lines, "DN for the next line (repeat for lines 1, 2, ...)");
    dAdd->add_option("--transport", da.transport, "SIP transport the phone uses: tcp or udp")->capture_default_str();
    dAdd->add_option("--dhcp-address", da.dhcpAddress, "DHCP reservation: this phone always gets this address");
    dAdd->add_flag("--digest", da.digest, "Challenge its REGISTER (digest, realm ccmsipline; lines' auth name/password)");
    dAdd->callback([&] {
        json::array lines;
        for (const auto& dn : da.lines) lines.push_back(json::object{{"dn", dn}});
        call({{"cmd", "device.add"},
              {"args", {{"device", da.name}, {"model", da.model}, {"description", da.description}, {"load", da.load},
                        {"transport", da.transport}, {"digest_auth", da.digest}, {"dhcp_address", da.dhcpAddress},
                        {"lines", lines}}}},
             [](const json::value& r) { std::cout << "added " << text(r.at("name")) << "\n"; });
    });

    auto* dList = device->add_subcommand("list", "List phones");
    dList->add_option("--filter", da.filter, "Only phones whose name, MAC, model, description or DN contains this");
    dList->add_option("--limit", da.limit, "At most this many");
    dList->callback([&] {
        call({{"cmd", "device.list"}, {"args", {{"filter", da.filter}, {"limit", da.limit}}}},
             [](const json::value& r) { printDevices(r.as_array()); });
    });

    auto* dShow = device->add_subcommand("show", "Show one phone with its lines");
    dShow->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    dShow->callback([&] {
        call({{"cmd", "device.show"}, {"args", {{"device", da.name}}}},
             [](const json::value& r) { printDevice(r.as_object()); });
    });

    auto* dEdit = device->add_subcommand("edit", "Change a phone's model, description or firmware load");
    dEdit->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    auto* eModel = dEdit->add_option("--model", da.model, "Model");
    auto* eDesc = dEdit->add_option("--description", da.description, "Description");
    auto* eLoad = dEdit->add_option("--load", da.load, "Firmware load ('' = model default)");
    auto* eTransport = dEdit->add_option("--transport", da.transport, "SIP transport: tcp or udp");
    auto* eDhcp = dEdit->add_option("--dhcp-address", da.dhcpAddress, "DHCP reservation ('' = none)");
    auto* eDigest = dEdit->add_option("--digest", da.digestOnOff, "Digest authentication of REGISTER: on or off")
                        ->check(CLI::IsMember({"on", "off"}));
    dEdit->callback([&] {
        json::object args{{"device", da.name}};
        if (eModel->count()) args["model"] = da.model;
        if (eDesc->count()) args["description"] = da.description;
        if (eLoad->count()) args["load"] = da.load;
        if (eTransport->count()) args["transport"] = da.transport;
        if (eDigest->count()) args["digest_auth"] = da.digestOnOff == "on";
        if (eDhcp->count()) args["dhcp_address"] = da.dhcpAddress;
        call({{"cmd", "device.edit"}, {"args", args}}, [](const json::value& r) { printDevice(r.as_object()); });
    });

    for (const char* action : {"restart", "reset", "apply-config"}) {
        auto* dCtl = device->add_subcommand(
            action, std::string("Send a registered phone a service-control NOTIFY: ") + action +
                        (std::string(action) == "restart" ? " (re-read config, re-register)"
                         : std::string(action) == "reset" ? " (reboot)"
                                                          : " (apply a changed config without restarting)"));
        dCtl->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
        dCtl->callback([&, action] {
            call({{"cmd", "device.control"}, {"args", {{"device", da.name}, {"action", action}}}},
                 [](const json::value& r) { std::cout << text(r.at("detail")) << "\n"; });
        });
    }

    auto* dRm = device->add_subcommand("rm", "Remove a phone and its lines");
    dRm->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    dRm->callback([&] {
        call({{"cmd", "device.rm"}, {"args", {{"device", da.name}}}}, printOk("removed"));
    });

    // line ----------------------------------------------------------------------------------
    auto* line = app.add_subcommand("line", "Lines (buttons) of a phone: add, edit, rm");
    line->require_subcommand(1);
    struct LineArgs {
        std::string device, dn, displayName, label, authName, authPassword, contact;
        int index = 0;
    } la;
    auto* lAdd = line->add_subcommand("add", "Add a line: labcm line add SEP001122AABBCC 1002 --label Sales");
    lAdd->add_option("device", la.device, "SEP<MAC> or the MAC")->required();
    lAdd->add_option("dn", la.dn, "Directory number (may be shared with other phones)")->required();
    auto* lIndex = lAdd->add_option("--index", la.index, "Button number (default: the first free one)");
    lAdd->add_option("--display-name", la.displayName, "Caller-ID name");
    lAdd->add_option("--label", la.label, "Text next to the button");
    lAdd->add_option("--auth-name", la.authName, "Digest user name");
    lAdd->add_option("--auth-password", la.authPassword, "Digest password");
    lAdd->add_option("--contact", la.contact, "User part of the phone's Contact");
    lAdd->callback([&] {
        json::object args{{"device", la.device},         {"dn", la.dn},
                          {"display_name", la.displayName}, {"label", la.label},
                          {"auth_name", la.authName},     {"auth_password", la.authPassword},
                          {"contact", la.contact}};
        if (lIndex->count()) args["index"] = la.index;
        call({{"cmd", "line.add"}, {"args", args}}, [](const json::value& r) { printDevice(r.as_object()); });
    });
    auto* lEdit = line->add_subcommand("edit", "Change a line: labcm line edit SEP001122AABBCC 2 --label Sales");
    lEdit->add_option("device", la.device, "SEP<MAC> or the MAC")->required();
    lEdit->add_option("index", la.index, "Button number")->required();
    std::vector<std::pair<const char*, CLI::Option*>> lineEdits{
        {"dn", lEdit->add_option("--dn", la.dn, "Directory number")},
        {"display_name", lEdit->add_option("--display-name", la.displayName, "Caller-ID name")},
        {"label", lEdit->add_option("--label", la.label, "Text next to the button")},
        {"auth_name", lEdit->add_option("--auth-name", la.authName, "Digest user name")},
        {"auth_password", lEdit->add_option("--auth-password", la.authPassword, "Digest password")},
        {"contact", lEdit->add_option("--contact", la.contact, "User part of the phone's Contact")}};
    lEdit->callback([&] {
        const std::map<std::string, std::string*> values{{"dn", &la.dn}, {"display_name", &la.displayName},
                                                         {"label", &la.label}, {"auth_name", &la.authName},
                                                         {"auth_password", &la.authPassword}, {"contact", &la.contact}};
        json::object args{{"device", la.device}, {"index", la.index}};
        for (const auto& [field, opt] : lineEdits)
            if (opt->count()) args[field] = *values.at(field);
        call({{"cmd", "line.edit"}, {"args", args}}, [](const json::value& r) { printDevice(r.as_object()); });
    });
    auto* lRm = line->add_subcommand("rm", "Remove a line: labcm line rm SEP001122AABBCC 2");
    lRm->add_option("device", la.device, "SEP<MAC> or the MAC")->required();
    lRm->add_option("index", la.index, "Button number")->required();
    lRm->callback([&] {
        call({{"cmd", "line.rm"}, {"args", {{"device", la.device}, {"index", la.index}}}},
             [](const json::value& r) { printDevice(r.as_object()); });
    });

    // speed dials ---------------------------------------------------------------------------
    auto* speeddial = app.add_subcommand("speeddial", "Speed-dial and BLF keys of a phone: add, rm");
    speeddial->require_subcommand(1);
    struct KeyArgs {
        std::string device, number, label;
        int button = 0;
        bool blf = false;
    } ka;
    auto* kAdd = speeddial->add_subcommand("add", "Add a key: labcm speeddial add SEP001122AABBCC 1002 --label Bob --blf");
    kAdd->add_option("device", ka.device, "SEP<MAC> or the MAC")->required();
    kAdd->add_option("number", ka.number, "Number it dials")->required();
    kAdd->add_option("--label", ka.label, "Text next to the button");
    auto* kButton = kAdd->add_option("--button", ka.button, "Button number (default: the first free one)");
    kAdd->add_flag("--blf", ka.blf, "BLF speed dial: shows the line's state, picks up its calls");
    kAdd->callback([&] {
        json::object args{{"device", ka.device}, {"number", ka.number}, {"label", ka.label}, {"blf", ka.blf}};
        if (kButton->count()) args["button"] = ka.button;
        call({{"cmd", "speeddial.add"}, {"args", args}}, [](const json::value& r) { printDevice(r.as_object()); });
    });
    auto* kRm = speeddial->add_subcommand("rm", "Remove a key: labcm speeddial rm SEP001122AABBCC 3");
    kRm->add_option("device", ka.device, "SEP<MAC> or the MAC")->required();
    kRm->add_option("button", ka.button, "Button number")->required();
    kRm->callback([&] {
        call({{"cmd", "speeddial.rm"}, {"args", {{"device", ka.device}, {"button", ka.button}}}},
             [](const json::value& r) { printDevice(r.as_object()); });
    });

    // import / export -----------------------------------------------------------------------
    std::string csvPath, outPath;
    bool dryRun = false, update = false;
    auto* importCmd = app.add_subcommand("import", "Import phones from CSV, all or nothing");
    importCmd->add_option("csv", csvPath, "CSV file (header: mac,model,description,load,line1_dn,...)")->required();
    importCmd->add_flag("--dry-run", dryRun, "Check every row and report all problems; write nothing");
    importCmd->add_flag("--update", update, "Replace phones that already exist (default: refuse them)");
    importCmd->callback([&] {
        call({{"cmd", "import"}, {"args", {{"csv", readFile(csvPath)}, {"dry_run", dryRun}, {"update", update}}}},
             [&](const json::value& r) {
                 const auto& o2 = r.as_object();
                 if (o2.at("dry_run").as_bool())
                     std::cout << fmt::format("dry run: {} phones are valid; nothing written\n",
                                              o2.at("devices").to_number<std::int64_t>());
                 else
                     std::cout << fmt::format("imported {} phones ({} added, {} updated)\n",
                                              o2.at("devices").to_number<std::int64_t>(), o2.at("added").to_number<std::int64_t>(),
                                              o2.at("updated").to_number<std::int64_t>());
             });
    });
    auto* exportCmd = app.add_subcommand("export", "Export all phones as CSV (to stdout or -o FILE)");
    exportCmd->add_option("-o,--output", outPath, "Write to this file");
    exportCmd->callback([&] {
        call({{"cmd", "export"}}, [&](const json::value& r) {
            auto csv = text(r.at("csv"));
            if (outPath.empty()) {
                std::cout << csv;
            } else {
                std::ofstream f(outPath, std::ios::binary);
                f << csv;
                if (!f) throw std::runtime_error("cannot write " + outPath);
            }
        });
    });

    // settings and models -------------------------------------------------------------------
    auto* setting = app.add_subcommand("setting", "Server settings: list, set, unset");
    setting->require_subcommand(1);
    std::string key, value;
    setting->add_subcommand("list", "List settings with values, defaults and help")->callback([&] {
        call({{"cmd", "setting.list"}}, [](const json::value& r) {
            for (const auto& sv : r.as_array()) {
                const auto& s = sv.as_object();
                std::cout << fmt::format("{:<18} {:<16} {}{}\n", text(s.at("key")), text(s.at("value")),
                                         text(s.at("help")),
                                         s.at("changed").as_bool() ? "" : " (default)");
            }
        });
    });
    auto* sSet = setting->add_subcommand("set", "Set a setting: labcm setting set timezone Europe/Berlin");
    sSet->add_option("key", key)->required();
    sSet->add_option("value", value)->required();
    sSet->callback([&] {
        call({{"cmd", "setting.set"}, {"args", {{"key", key}, {"value", value}}}},
             [](const json::value& r) { std::cout << text(r.at("key")) << " = " << text(r.at("value")) << "\n"; });
    });
    auto* sUnset = setting->add_subcommand("unset", "Return a setting to its default");
    sUnset->add_option("key", key)->required();
    sUnset->callback([&] {
        call({{"cmd", "setting.unset"}, {"args", {{"key", key}}}},
             [](const json::value& r) { std::cout << text(r.at("key")) << " = " << text(r.at("value")) << "\n"; });
    });

    auto* model = app.add_subcommand("model", "Phone models and their default firmware: list, set");
    model->require_subcommand(1);
    model->add_subcommand("list", "Known models, CUCM model ids and default loads")->callback([&] {
        call({{"cmd", "model.list"}}, [](const json::value& r) {
            std::cout << fmt::format("{:<6} {:>9} {:<14} {}\n", "MODEL", "TYPEMODEL", "LOAD PREFIX", "DEFAULT LOAD");
            for (const auto& mv : r.as_array()) {
                const auto& m = mv.as_object();
                std::cout << fmt::format("{:<6} {:>9} {:<14} {}\n", text(m.at("model")), m.at("typemodel").to_number<std::int64_t>(),
                                         text(m.at("load_prefix")), text(m.at("default_load")));
            }
        });
    });
    std::string modelName, load;
    auto* mSet = model->add_subcommand("set", "Set a model's default load: labcm model set 8845 sip8845_65.14-2-1-0001-14");
    mSet->add_option("model", modelName)->required();
    mSet->add_option("load", load, "Load name without .loads ('' clears it)")->required();
    mSet->callback([&] {
        call({{"cmd", "model.set"}, {"args", {{"model", modelName}, {"load", load}}}}, [](const json::value& r) {
            const auto& o2 = r.as_object();
            if (auto* fw = o2.if_contains("firmware"))
                std::cerr << "labcm: warning: " << text(*fw) << "\n";
            std::cout << "ok\n";
        });
    });

    // dhcp ----------------------------------------------------------------------------------
    auto* dhcpCmd = app.add_subcommand("dhcp", "The DHCP server (off until a pool exists): pool set/rm/list, leases, lease rm");
    dhcpCmd->require_subcommand(1);
    auto* pool = dhcpCmd->add_subcommand("pool", "Address pools, one per subnet");
    pool->require_subcommand(1);
    struct PoolArgs {
        std::string name, subnet, range, routers, dns, domain, ntp, tftp, option66, address;
        std::int64_t leaseTime = 0;
    } pa;
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
    pSet->callback([&] {
        json::object args{{"name", pa.name}};
        const std::map<std::string, std::string*> values{{"subnet", &pa.subnet}, {"range", &pa.range}, {"routers", &pa.routers},
                                                         {"dns", &pa.dns},       {"domain", &pa.domain}, {"ntp", &pa.ntp},
                                                         {"tftp", &pa.tftp},     {"option66", &pa.option66}};
        for (const auto& [field, opt] : poolOptions)
            if (opt->count()) args[field] = *values.at(field);
        if (pLease->count()) args["lease_time"] = pa.leaseTime;
        call({{"cmd", "dhcp.pool.set"}, {"args", args}}, [](const json::value& r) {
            const auto& p = r.as_object();
            std::cout << fmt::format("pool {}: {} {}-{}\n", text(p.at("name")), text(p.at("subnet")), text(p.at("range_first")),
                                     text(p.at("range_last")));
        });
    });
    auto* pRm = pool->add_subcommand("rm", "Remove a pool (its leases stay in the database)");
    pRm->add_option("name", pa.name, "Pool name")->required();
    pRm->callback([&] { call({{"cmd", "dhcp.pool.rm"}, {"args", {{"name", pa.name}}}}, [](const json::value&) { std::cout << "removed\n"; }); });
    pool->add_subcommand("list", "List the pools")->callback([&] {
        call({{"cmd", "dhcp.pool.list"}}, [](const json::value& r) {
            for (const auto& pv : r.as_array()) {
                const auto& p = pv.as_object();
                std::cout << fmt::format("{}: subnet {} range {}-{} lease {} s routers '{}' dns '{}' domain '{}' ntp '{}' "
                                         "tftp(150) '{}' option66 '{}'\n",
                                         text(p.at("name")), text(p.at("subnet")), text(p.at("range_first")),
                                         text(p.at("range_last")), p.at("lease_time").to_number<std::int64_t>(),
                                         text(p.at("routers")), text(p.at("dns")), text(p.at("domain")), text(p.at("ntp")),
                                         text(p.at("tftp")).empty() ? "labcm's address" : text(p.at("tftp")),
                                         text(p.at("option66")));
            }
        });
    });
    dhcpCmd->add_subcommand("leases", "Leases: address, MAC, state, model from option 60, vendor class")->callback([&] {
        call({{"cmd", "dhcp.lease.list"}}, [](const json::value& r) {
            std::cout << fmt::format("{:<16} {:<13} {:<9} {:<17} {:<6} {:<10} {}\n", "ADDRESS", "MAC", "STATE", "DEVICE", "MODEL",
                                     "POOL", "VENDOR CLASS");
            for (const auto& lv : r.as_array()) {
                const auto& l = lv.as_object();
                std::cout << fmt::format("{:<16} {:<13} {:<9} {:<17} {:<6} {:<10} {}\n", text(l.at("address")), text(l.at("mac")),
                                         text(l.at("state")), text(l.at("device")), text(l.at("model")), text(l.at("pool")),
                                         text(l.at("vendor_class")));
            }
        });
    });
    auto* dhcpLease = dhcpCmd->add_subcommand("lease", "One lease: rm");
    dhcpLease->require_subcommand(1);
    auto* leaseRm = dhcpLease->add_subcommand("rm", "Forget the lease of an address (it is free again)");
    leaseRm->add_option("address", pa.address, "The leased address")->required();
    leaseRm->callback([&] {
        call({{"cmd", "dhcp.lease.rm"}, {"args", {{"address", pa.address}}}}, [](const json::value&) { std::cout << "removed\n"; });
    });

    // admin ------------------------------------------------------------------------------------
    auto* adminCmd = app.add_subcommand("admin", "The admin web page's login: password");
    adminCmd->require_subcommand(1);
    bool passwordStdin = false;
    auto* aPass = adminCmd->add_subcommand("password", "Set the admin password (prompted twice, or one line on stdin)");
    aPass->add_flag("--stdin", passwordStdin, "Read the password from the first line of stdin");
    aPass->callback([&] {
        std::string password;
        if (passwordStdin || !::isatty(STDIN_FILENO)) {
            std::getline(std::cin, password);
        } else {
            password = readHidden("New admin password: ");
            if (readHidden("Again: ") != password) throw std::runtime_error("the two passwords differ");
        }
        if (auto problem = labcm::usecases::passwordProblem(password); !problem.empty())
            throw std::runtime_error("the password " + problem);
        call({{"cmd", "admin.password"}, {"args", {{"hash", labcm::usecases::hashPassword(password)}}}},
             [](const json::value&) { std::cout << "admin password set; every admin session ends\n"; });
    });

    // firmware ------------------------------------------------------------------------------
    auto* firmware = app.add_subcommand("firmware", "Firmware in <data-dir>/files: check");
    firmware->require_subcommand(1);
    firmware->add_subcommand("check", "Check that every load in use has its .loads and image files (exit 1 if not)")
        ->callback([&] {
            call({{"cmd", "firmware.check"}}, [&](const json::value& r) {
                const auto& o2 = r.as_object();
                const auto& loads = o2.at("loads").as_array();
                if (loads.empty()) std::cout << "no firmware loads in use (set one with 'labcm model set')\n";
                for (const auto& lv : loads) {
                    const auto& l = lv.as_object();
                    std::string who;
                    for (const auto& u : l.at("used_by").as_array()) who += (who.empty() ? "" : ", ") + text(u);
                    std::cout << fmt::format("{} {} (used by {})\n", l.at("complete").as_bool() ? "ok  " : "FAIL",
                                             text(l.at("summary")), who);
                    if (!l.at("complete").as_bool()) exitCode = 1;
                }
            });
        });

    // events ----------------------------------------------------------------------------------
    std::string evDevice;
    std::int64_t evLimit = 50;
    auto* events = app.add_subcommand("events", "Recent events (newest first), optionally of one phone");
    events->add_option("--device", evDevice, "SEP<MAC> or MAC");
    events->add_option("--limit", evLimit, "How many")->capture_default_str();
    events->callback([&] {
        json::object args{{"limit", evLimit}};
        if (!evDevice.empty()) args["device"] = evDevice;
        call({{"cmd", "events"}, {"args", args}}, [](const json::value& r) {
            for (const auto& ev : r.as_array()) {
                const auto& e = ev.as_object();
                std::cout << fmt::format("{} {:<7} {:<8} {:<22} {:<12} {}\n", e.at("time_ms").to_number<std::int64_t>(),
                                         text(e.at("severity")), text(e.at("service")), text(e.at("kind")),
                                         text(e.at("mac")), text(e.at("detail")));
            }
        });
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        std::cerr << "labcm: error: " << e.what() << "\n";
        return 1;
    }
    return exitCode;
}
