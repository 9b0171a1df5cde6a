// Settings and models: setting list/set/unset, model list/set; firmware check.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "cli/cli.h"
#include "provision/firmware.h"
#include "provision/firmware_import.h"
#include "usecases/usecases.h"

namespace labcm::cli {
namespace {

void addModelCommands(CLI::App& app, Runner& r) {
    auto* model = app.add_subcommand("model", "Phone models and their default firmware: list, set");
    model->require_subcommand(1);
    model->add_subcommand("list", "Known models, CUCM model ids and default loads")->callback([&r] {
        r.call({{"cmd", "model.list"}}, [](const json::value& v) {
            std::cout << fmt::format("{:<6} {:>9} {:<14} {}\n", "MODEL", "TYPEMODEL", "LOAD PREFIX", "DEFAULT LOAD");
            for (const auto& mv : v.as_array()) {
                const auto& m = mv.as_object();
                std::cout << fmt::format("{:<6} {:>9} {:<14} {}\n", text(m.at("model")), m.at("typemodel").to_number<std::int64_t>(),
                                         text(m.at("load_prefix")), text(m.at("default_load")));
            }
        });
    });
    struct ModelArgs {
        std::string model, load;
    };
    auto& ma = r.keep<ModelArgs>();
    auto* mSet = model->add_subcommand("set", "Set a model's default load: labcm model set 8845 sip8845_65.14-2-1-0001-14");
    mSet->add_option("model", ma.model)->required();
    mSet->add_option("load", ma.load, "Load name without .loads ('' clears it)")->required();
    mSet->callback([&r, &ma] {
        r.call({{"cmd", "model.set"}, {"args", {{"model", ma.model}, {"load", ma.load}}}}, [](const json::value& v) {
            const auto& o = v.as_object();
            if (auto* fw = o.if_contains("firmware")) std::cerr << "labcm: warning: " << text(*fw) << "\n";
            std::cout << "ok\n";
        });
    });
}

void addDialPlanCommands(CLI::App& app, Runner& r) {
    auto* dial = app.add_subcommand("dialplan", "The phones' dial plan: your own patterns besides those of the DNs");
    dial->require_subcommand(1);
    dial->add_subcommand("list", "Your dial patterns")->callback([&r] {
        r.call({{"cmd", "dialplan.list"}}, [](const json::value& v) {
            if (v.as_array().empty()) std::cout << "no dial patterns of your own (the DNs' patterns are always there)\n";
            for (const auto& pv : v.as_array()) {
                const auto& p = pv.as_object();
                std::cout << fmt::format("{:<34} timeout {:>2} s  {}\n", text(p.at("pattern")), p.at("timeout").to_number<int>(),
                                         text(p.at("route")));
            }
        });
    });
    struct DialArgs {
        std::string pattern, route;
        int timeout = 0;
    };
    auto& da = r.keep<DialArgs>();
    auto* set = dial->add_subcommand("set", "Add or change a pattern: labcm dialplan set 9.......... --timeout 0");
    set->add_option("pattern", da.pattern, "Digits and . (any digit) * # + ,")->required();
    set->add_option("--timeout", da.timeout, "Seconds the phone waits for more digits (0-60, default 0)");
    set->add_option("--route", da.route, "sip: URI calls that match go to (used once labcm carries calls)");
    set->callback([&r, &da] {
        json::object args{{"pattern", da.pattern}, {"timeout", da.timeout}};
        if (!da.route.empty()) args["route"] = da.route;
        r.call({{"cmd", "dialplan.set"}, {"args", std::move(args)}}, printOk("ok"));
    });
    auto* rm = dial->add_subcommand("rm", "Remove a pattern");
    rm->add_option("pattern", da.pattern)->required();
    rm->callback([&r, &da] { r.call({{"cmd", "dialplan.rm"}, {"args", {{"pattern", da.pattern}}}}, printOk("ok")); });
}

void addPhoneSettingCommands(CLI::App& app, Runner& r) {
    auto* ps = app.add_subcommand("phone-setting",
                                  "Phone settings (web/SSH access, PC port, display timers, date format...) for the lab, a model or a phone");
    ps->require_subcommand(1);
    struct Args {
        std::string key, value, model, device;
    };
    auto& pa = r.keep<Args>();
    auto level = [&pa](json::object args) {
        if (!pa.model.empty()) args["model"] = pa.model;
        if (!pa.device.empty()) args["device"] = pa.device;
        return args;
    };
    auto* list = ps->add_subcommand("list", "Every key: its value for the lab (and the model or phone) and what the phone gets");
    auto* set = ps->add_subcommand("set", "Set a key: labcm phone-setting set ssh_access true --model 8845");
    auto* unset = ps->add_subcommand("unset", "Unset a key at that level (the next level's value applies)");
    for (auto* c : {list, set, unset}) {
        c->add_option("--model", pa.model, "For every phone of this model");
        c->add_option("--device", pa.device, "For one phone (SEP..., or a MAC)");
    }
    set->add_option("key", pa.key)->required();
    set->add_option("value", pa.value)->required();
    unset->add_option("key", pa.key)->required();
    list->callback([&r, level] {
        r.call({{"cmd", "phonesetting.list"}, {"args", level({})}}, [](const json::value& v) {
            std::cout << fmt::format("{:<26} {:<12} {:<12} {:<12} {:<12} {}\n", "KEY", "LAB", "MODEL", "PHONE", "EFFECTIVE", "MEANING");
            for (const auto& sv : v.as_array()) {
                const auto& s = sv.as_object();
                auto at = [&](const char* k) {
                    auto* x = s.if_contains(k);
                    return !x ? std::string("") : x->is_null() ? std::string("-") : text(*x);
                };
                std::cout << fmt::format("{:<26} {:<12} {:<12} {:<12} {:<12} {}\n", text(s.at("key")), at("lab"), at("model"),
                                         at("device"), text(s.at("effective")), text(s.at("help")));
            }
        });
    });
    set->callback([&r, &pa, level] {
        r.call({{"cmd", "phonesetting.set"}, {"args", level({{"key", pa.key}, {"value", pa.value}})}}, printOk("ok"));
    });
    unset->callback([&r, &pa, level] { r.call({{"cmd", "phonesetting.unset"}, {"args", level({{"key", pa.key}})}}, printOk("ok")); });
}

} // namespace

void addSettingCommands(CLI::App& app, Runner& r) {
    auto* setting = app.add_subcommand("setting", "Server settings: list, set, unset");
    setting->require_subcommand(1);
    struct SettingArgs {
        std::string key, value;
    };
    auto& sa = r.keep<SettingArgs>();
    setting->add_subcommand("list", "List settings with values, defaults and help")->callback([&r] {
        r.call({{"cmd", "setting.list"}}, [](const json::value& v) {
            for (const auto& sv : v.as_array()) {
                const auto& s = sv.as_object();
                std::cout << fmt::format("{:<18} {:<16} {}{}\n", text(s.at("key")), text(s.at("value")), text(s.at("help")),
                                         s.at("changed").as_bool() ? "" : " (default)");
            }
        });
    });
    auto printSetting = [](const json::value& v) { std::cout << text(v.at("key")) << " = " << text(v.at("value")) << "\n"; };
    auto* sSet = setting->add_subcommand("set", "Set a setting: labcm setting set timezone Europe/Berlin");
    sSet->add_option("key", sa.key)->required();
    sSet->add_option("value", sa.value)->required();
    sSet->callback([&r, &sa, printSetting] {
        r.call({{"cmd", "setting.set"}, {"args", {{"key", sa.key}, {"value", sa.value}}}}, printSetting);
    });
    auto* sUnset = setting->add_subcommand("unset", "Return a setting to its default");
    sUnset->add_option("key", sa.key)->required();
    sUnset->callback([&r, &sa, printSetting] {
        r.call({{"cmd", "setting.unset"}, {"args", {{"key", sa.key}}}}, printSetting);
    });

    addModelCommands(app, r);
    addDialPlanCommands(app, r);
    addPhoneSettingCommands(app, r);
}

void addFirmwareCommands(CLI::App& app, Runner& r) {
    auto* firmware = app.add_subcommand("firmware", "Firmware in <data-dir>/files: import, check");
    firmware->require_subcommand(1);
    firmware->add_subcommand("check", "Check that every load in use has its .loads and image files (exit 1 if not)")
        ->callback([&r] {
            r.call({{"cmd", "firmware.check"}}, [&r](const json::value& v) {
                const auto& loads = v.as_object().at("loads").as_array();
                if (loads.empty()) std::cout << "no firmware loads in use (set one with 'labcm model set')\n";
                for (const auto& lv : loads) {
                    const auto& l = lv.as_object();
                    std::string who;
                    for (const auto& u : l.at("used_by").as_array()) who += (who.empty() ? "" : ", ") + text(u);
                    bool complete = l.at("complete").as_bool();
                    std::cout << fmt::format("{} {} (used by {}{})\n", complete ? "ok  " : "FAIL", text(l.at("summary")),
                                             who, complete ? "" : "; not sent to phones: they keep the load they run");
                    if (!l.at("complete").as_bool()) r.exitCode = 1;
                }
            });
        });

    // Read by this process straight into the files folder (no server needed, none blocked): a
    // running server sees the new files at the next request.
    struct ImportArgs {
        std::string package;
        bool setDefault = false;
    };
    auto& ia = r.keep<ImportArgs>();
    auto* import = firmware->add_subcommand(
        "import", "Import a Cisco firmware package (cmterm-*.zip, *.cop.sgn, *.cop.sha512) into the files folder");
    import->add_option("package", ia.package, "The package file")->required();
    import->add_flag("--set-default", ia.setDefault, "Make its loads the default of the models they are for");
    import->callback([&r, &ia] {
        provision::FirmwareImport done;
        try {
            done = provision::importFirmware(ia.package, provision::FilesDir(std::filesystem::path(r.options.dataDir) / "files"));
        } catch (const provision::FirmwareImportError& e) {
            std::cerr << "labcm: firmware import refused, nothing imported: " << e.what() << "\n";
            r.exitCode = 1;
            return;
        }
        if (r.options.json) {
            std::cout << json::serialize(usecases::toJson(done)) << "\n";
        } else {
            std::string loads;
            for (const auto& l : done.loads) loads += (loads.empty() ? "" : ", ") + l;
            std::cout << fmt::format("imported {}: {} MiB, {} files added, {} replaced, {} unchanged, {} ignored "
                                     "(not named by a .loads); loads: {}\n",
                                     ia.package, (done.bytes + (1 << 19)) >> 20, done.added.size(), done.replaced.size(),
                                     done.unchanged.size(), done.ignored.size(), loads);
            for (const auto& f : done.replaced) std::cout << "  replaced " << f << "\n";
        }
        if (!ia.setDefault) return;
        for (const auto& load : done.loads) {
            auto models = provision::modelsOfLoad(load);
            if (models.empty()) std::cerr << "labcm: warning: no known model uses load " << load << " (not set as a default)\n";
            for (const auto& m : models)
                r.call({{"cmd", "model.set"}, {"args", {{"model", m}, {"load", load}}}}, [m, load](const json::value&) {
                    std::cout << fmt::format("model {} default load = {}\n", m, load);
                });
        }
    });
}

void addLocaleCommands(CLI::App& app, Runner& r) {
    auto* locale = app.add_subcommand("locale", "Locales in <data-dir>/files: install");
    locale->require_subcommand(1);
    struct LocaleArgs {
        std::string source;
        bool set = false;
    };
    auto& la = r.keep<LocaleArgs>();
    auto* install = locale->add_subcommand(
        "install", "Install a Cisco locale installer (po-locale-*.cop.sgn), a tar/zip of locale folders, or a locale folder");
    install->add_option("source", la.source, "The package or folder")->required();
    install->add_flag("--set", la.set, "Make it the phones' user_locale / network_locale");
    install->callback([&r, &la] {
        provision::LocaleInstall done;
        try {
            done = provision::installLocale(la.source, provision::FilesDir(std::filesystem::path(r.options.dataDir) / "files"));
        } catch (const provision::FirmwareImportError& e) {
            std::cerr << "labcm: locale install refused, nothing installed: " << e.what() << "\n";
            r.exitCode = 1;
            return;
        }
        auto join = [](const std::vector<std::string>& v) {
            std::string out;
            for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
            return out.empty() ? std::string("none") : out;
        };
        std::cout << fmt::format("installed {}: user locales {}; network locales {}{}; {} entries ignored\n", la.source,
                                 join(done.user), join(done.network), done.other.empty() ? "" : "; other folders " + join(done.other),
                                 done.ignored.size());
        if (!la.set) return;
        for (const auto& [key, list] : {std::pair{"user_locale", &done.user}, std::pair{"network_locale", &done.network}}) {
            if (list->size() == 1)
                r.call({{"cmd", "setting.set"}, {"args", {{"key", key}, {"value", list->front()}}}},
                       [key](const json::value& v) { std::cout << key << " = " << text(v.at("value")) << "\n"; });
            else if (list->size() > 1)
                std::cerr << "labcm: warning: " << list->size() << " " << key << " folders installed; set one with 'labcm setting set "
                          << key << " NAME'\n";
        }
    });
}

} // namespace labcm::cli
