// Phones: device add/list/show/edit/rm, the service-control actions, and CSV import/export.
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "cli/cli.h"
#include "core/text.h"

namespace labcm::cli {
namespace {

struct DeviceArgs {
    std::string name, model, description, load, filter, transport = "tcp", dhcpAddress;
    std::vector<std::string> lines;
    std::int64_t limit = 0;
    bool digest = false;
    std::string digestOnOff;
};

void addDeviceAdd(CLI::App* device, Runner& r, DeviceArgs& da) {
    auto* dAdd = device->add_subcommand("add", "Add a phone: labcm device add SEP001122AABBCC --model 8845 --line 1001");
    dAdd->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    dAdd->add_option("--model", da.model, "Model, e.g. 8845 (see 'labcm model list')")->required();
    dAdd->add_option("--description", da.description, "Description");
    dAdd->add_option("--load", da.load, "Firmware load for this phone (default: the model's)");
    dAdd->add_option("--line", da.lines, "DN for the next line (repeat for lines 1, 2, ...)");
    dAdd->add_option("--transport", da.transport, "SIP transport the phone uses: tcp or udp")->capture_default_str();
    dAdd->add_option("--dhcp-address", da.dhcpAddress, "DHCP reservation: this phone always gets this address");
    dAdd->add_flag("--digest", da.digest, "Challenge its REGISTER (digest, realm ccmsipline; lines' auth name/password)");
    dAdd->callback([&r, &da] {
        json::array lines;
        for (const auto& dn : da.lines) lines.push_back(json::object{{"dn", dn}});
        r.call({{"cmd", "device.add"},
                {"args", {{"device", da.name}, {"model", da.model}, {"description", da.description}, {"load", da.load},
                          {"transport", da.transport}, {"digest_auth", da.digest}, {"dhcp_address", da.dhcpAddress},
                          {"lines", lines}}}},
               [](const json::value& v) { std::cout << "added " << text(v.at("name")) << "\n"; });
    });
}

void addDeviceEdit(CLI::App* device, Runner& r, DeviceArgs& da) {
    auto* dEdit = device->add_subcommand("edit", "Change a phone's model, description or firmware load");
    dEdit->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    auto* eModel = dEdit->add_option("--model", da.model, "Model");
    auto* eDesc = dEdit->add_option("--description", da.description, "Description");
    auto* eLoad = dEdit->add_option("--load", da.load, "Firmware load ('' = model default)");
    auto* eTransport = dEdit->add_option("--transport", da.transport, "SIP transport: tcp or udp");
    auto* eDhcp = dEdit->add_option("--dhcp-address", da.dhcpAddress, "DHCP reservation ('' = none)");
    auto* eDigest = dEdit->add_option("--digest", da.digestOnOff, "Digest authentication of REGISTER: on or off")
                        ->check(CLI::IsMember({"on", "off"}));
    dEdit->callback([&r, &da, eModel, eDesc, eLoad, eTransport, eDhcp, eDigest] {
        json::object args{{"device", da.name}};
        if (eModel->count()) args["model"] = da.model;
        if (eDesc->count()) args["description"] = da.description;
        if (eLoad->count()) args["load"] = da.load;
        if (eTransport->count()) args["transport"] = da.transport;
        if (eDigest->count()) args["digest_auth"] = da.digestOnOff == "on";
        if (eDhcp->count()) args["dhcp_address"] = da.dhcpAddress;
        r.call({{"cmd", "device.edit"}, {"args", args}}, [](const json::value& v) { printDevice(v.as_object()); });
    });
}

} // namespace

void addDeviceCommands(CLI::App& app, Runner& r) {
    auto* device = app.add_subcommand("device", "Phones: add, list, show, edit, rm");
    device->require_subcommand(1);
    auto& da = r.keep<DeviceArgs>();

    addDeviceAdd(device, r, da);

    auto* dList = device->add_subcommand("list", "List phones");
    dList->add_option("--filter", da.filter, "Only phones whose name, MAC, model, description or DN contains this");
    dList->add_option("--limit", da.limit, "At most this many");
    dList->callback([&r, &da] {
        r.call({{"cmd", "device.list"}, {"args", {{"filter", da.filter}, {"limit", da.limit}}}},
               [](const json::value& v) { printDevices(v.as_array()); });
    });

    auto* dShow = device->add_subcommand("show", "Show one phone with its lines");
    dShow->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    dShow->callback([&r, &da] {
        r.call({{"cmd", "device.show"}, {"args", {{"device", da.name}}}},
               [](const json::value& v) { printDevice(v.as_object()); });
    });

    auto* dWhy = device->add_subcommand("why", "Why a phone is not registered: the boot step it reached and what to check");
    dWhy->add_option("device", da.name, "SEP<MAC> or the MAC (also of a phone not in the database)")->required();
    dWhy->callback([&r, &da] {
        r.call({{"cmd", "device.why"}, {"args", {{"device", da.name}}}}, [](const json::value& v) {
            const auto& o = v.as_object();
            std::cout << text(o.at("device")) << (o.at("known").as_bool() ? "" : " (not in the database)") << ": step "
                      << o.at("step").as_int64() << " (" << text(o.at("step_name")) << ")\n"
                      << (o.at("ok").as_bool() ? "ok: " : "problem: ") << text(o.at("what")) << "\n";
            if (!o.at("since").is_null()) std::cout << "since: " << isoTime(o.at("since").as_int64()) << "\n";
            if (!text(o.at("next")).empty()) std::cout << "next: " << text(o.at("next")) << "\n";
        });
    });

    auto& traceFull = r.keep<bool>();
    auto* dTrace = device->add_subcommand("trace", "A phone's last SIP messages as labcm sent (>) and received (<) them");
    dTrace->add_option("device", da.name, "SEP<MAC> or the MAC (also of a phone not in the database)")->required();
    dTrace->add_flag("--full", traceFull, "Each message in full, not only its first line");
    dTrace->callback([&r, &da, &traceFull] {
        r.call({{"cmd", "device.trace"}, {"args", {{"device", da.name}}}}, [&traceFull](const json::value& v) {
            const auto& o = v.as_object();
            const auto& list = o.at("messages").as_array();
            if (!o.at("enabled").as_bool()) std::cout << "the SIP trace is off (setting sip_trace_messages is 0)\n";
            else if (list.empty()) std::cout << "no SIP messages of " << text(o.at("device")) << " since labcm started\n";
            for (const auto& e : list) {
                const auto& m = e.as_object();
                const bool out = text(m.at("direction")) == "out";
                std::cout << preciseTime(m.at("time_us").to_number<std::int64_t>()) << "  " << (out ? "> " : "< ")
                          << text(m.at("transport")) << " " << text(m.at("address")) << ":" << m.at("port").to_number<int>()
                          << "  " << text(m.at("first_line")) << (m.at("truncated").as_bool() ? "  (not whole: sofia's log cut it short)" : "")
                          << "\n";
                if (!traceFull) continue;
                std::string_view body = m.at("text").as_string();
                while (!body.empty()) { // line by line, each made safe for a terminal
                    auto nl = body.find('\n');
                    auto line = body.substr(0, nl);
                    if (line.ends_with('\r')) line.remove_suffix(1);
                    std::cout << "    " << labcm::text::visible(line) << "\n";
                    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
                }
            }
        });
    });

    auto& pcapOut = r.keep<std::string>();
    auto* dPcap = device->add_subcommand("pcap", "Write a phone's last SIP messages to a pcap file (Wireshark, tshark)");
    dPcap->add_option("device", da.name, "SEP<MAC> or the MAC (also of a phone not in the database)")->required();
    dPcap->add_option("-o,--output", pcapOut, "The file to write")->required();
    dPcap->callback([&r, &da, &pcapOut] {
        auto found = r.result({{"cmd", "device.pcap"}, {"args", {{"device", da.name}}}});
        if (!found) return;
        if (!writeBase64File(pcapOut, found->at("pcap_base64").as_string())) {
            r.exitCode = std::max(r.exitCode, 1);
            return;
        }
        std::cout << "wrote " << found->at("messages").to_number<std::int64_t>() << " SIP messages to " << pcapOut << "\n";
    });

    auto* dReports = device->add_subcommand("reports", "The problem reports (PRT) a phone uploaded, newest first");
    dReports->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    dReports->callback([&r, &da] {
        r.call({{"cmd", "prt.list"}, {"args", {{"device", da.name}}}}, [](const json::value& v) {
            const auto& list = v.as_array();
            if (list.empty()) std::cout << "no problem reports\n";
            for (const auto& e : list) {
                const auto& o = e.as_object();
                std::cout << text(o.at("name")) << "  " << o.at("size").to_number<std::int64_t>() << " bytes  "
                          << isoTime(o.at("time_ms").to_number<std::int64_t>()) << "\n";
            }
        });
    });

    // Ask the phone for its problem report (CUCM's "Generate PRT"), then wait for it to arrive.
    auto* dPrt = device->add_subcommand("prt", "Ask a registered phone for its problem report and wait until it is uploaded");
    dPrt->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    auto& prtWait = r.keep<int>();
    prtWait = 180;
    dPrt->add_option("--wait", prtWait, "Seconds to wait for the upload (0: do not wait)")->check(CLI::Range(0, 3600));
    dPrt->callback([&r, &da, &prtWait] {
        auto names = [&r, &da]() -> std::optional<std::set<std::string>> {
            auto list = r.result({{"cmd", "prt.list"}, {"args", {{"device", da.name}}}});
            if (!list) return std::nullopt;
            std::set<std::string> out;
            for (const auto& e : list->as_array()) out.insert(std::string(e.at("name").as_string()));
            return out;
        };
        auto before = names();
        if (!before) return;
        auto answer = r.result({{"cmd", "device.control"}, {"args", {{"device", da.name}, {"action", "prt-report"}}}});
        if (!answer) return;
        std::cout << text(answer->at("detail")) << "\n";
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(prtWait);
        while (std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::seconds(1));
            auto now = names();
            if (!now) return;
            for (const auto& n : *now)
                if (!before->contains(n)) {
                    std::cout << "arrived: " << text(json::value(n)) << "\n";
                    return;
                }
        }
        if (prtWait > 0) {
            std::cerr << "labcm: no problem report arrived within " << prtWait << " s (is problemReportUploadURL reachable from the phone?)\n";
            r.exitCode = std::max(r.exitCode, 1);
        }
    });

    addDeviceEdit(device, r, da);

    for (const char* action : {"restart", "reset", "apply-config"}) {
        auto* dCtl = device->add_subcommand(
            action, std::string("Send a registered phone a service-control NOTIFY: ") + action +
                        (std::string(action) == "restart" ? " (re-read config, re-register)"
                         : std::string(action) == "reset" ? " (reboot)"
                                                          : " (apply a changed config without restarting)"));
        dCtl->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
        auto& wait = r.keep<int>();
        wait = 120;
        dCtl->add_option("--wait", wait,
                         "Seconds to wait for the outcome: applied once the phone fetched its config (and registered "
                         "again), failed at the step that failed, or no answer (0: only send the NOTIFY)")
            ->check(CLI::Range(0, 3600));
        dCtl->callback([&r, &da, &wait, action] {
            auto answer = r.result({{"cmd", "device.control"}, {"args", {{"device", da.name}, {"action", action}}}});
            if (!answer) return;
            std::cout << text(answer->at("detail")) << "\n" << std::flush;
            if (wait == 0) return;
            // The outcome only when it is true: poll until it is decided (bounded by --wait).
            const json::object args{{"device", da.name}, {"action", action}, {"since_ms", answer->at("since_ms")}, {"timeout", wait}};
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait + 5);
            std::optional<json::value> outcome;
            do {
                std::this_thread::sleep_for(std::chrono::seconds(1));
                outcome = r.result({{"cmd", "device.outcome"}, {"args", args}});
                if (!outcome) return;
            } while (!outcome->at("done").as_bool() && std::chrono::steady_clock::now() < deadline);
            std::cout << text(outcome->at("outcome_what")) << "\n";
            if (text(outcome->at("outcome")) != "applied") {
                if (!text(outcome->at("next")).empty()) std::cout << "next: " << text(outcome->at("next")) << "\n";
                r.exitCode = std::max(r.exitCode, 1);
            }
        });
    }

    auto* dRm = device->add_subcommand("rm", "Remove a phone and its lines");
    dRm->add_option("device", da.name, "SEP<MAC> or the MAC")->required();
    dRm->callback([&r, &da] { r.call({{"cmd", "device.rm"}, {"args", {{"device", da.name}}}}, printOk("removed")); });
}

void addCsvCommands(CLI::App& app, Runner& r) {
    struct CsvArgs {
        std::string csvPath, outPath;
        bool dryRun = false, update = false;
    };
    auto& ca = r.keep<CsvArgs>();
    auto* importCmd = app.add_subcommand("import", "Import phones from CSV, all or nothing");
    importCmd->add_option("csv", ca.csvPath, "CSV file (header: mac,model,description,load,line1_dn,...)")->required();
    importCmd->add_flag("--dry-run", ca.dryRun, "Check every row and report all problems; write nothing");
    importCmd->add_flag("--update", ca.update, "Replace phones that already exist (default: refuse them)");
    importCmd->callback([&r, &ca] {
        r.call({{"cmd", "import"}, {"args", {{"csv", readFile(ca.csvPath)}, {"dry_run", ca.dryRun}, {"update", ca.update}}}},
               [](const json::value& v) {
                   const auto& o = v.as_object();
                   if (o.at("dry_run").as_bool())
                       std::cout << fmt::format("dry run: {} phones are valid; nothing written\n",
                                                o.at("devices").to_number<std::int64_t>());
                   else
                       std::cout << fmt::format("imported {} phones ({} added, {} updated)\n",
                                                o.at("devices").to_number<std::int64_t>(),
                                                o.at("added").to_number<std::int64_t>(),
                                                o.at("updated").to_number<std::int64_t>());
               });
    });
    auto* exportCmd = app.add_subcommand("export", "Export all phones as CSV (to stdout or -o FILE)");
    exportCmd->add_option("-o,--output", ca.outPath, "Write to this file");
    exportCmd->callback([&r, &ca] {
        r.call({{"cmd", "export"}}, [&ca](const json::value& v) {
            auto csv = std::string(v.at("csv").as_string()); // the file itself, not text for a terminal
            if (ca.outPath.empty()) {
                std::cout << csv;
            } else {
                std::ofstream f(ca.outPath, std::ios::binary);
                f << csv;
                if (!f) throw std::runtime_error("cannot write " + ca.outPath);
            }
        });
    });
}

} // namespace labcm::cli
