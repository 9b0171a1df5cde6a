// Buttons of a phone: line add/edit/rm and speeddial add/rm.
#include <map>

#include "cli/cli.h"

namespace labcm::cli {
namespace {

struct LineArgs {
    std::string device, dn, displayName, label, authName, authPassword, contact;
    int index = 0;
};

void addLineAdd(CLI::App* line, Runner& r, LineArgs& la) {
    auto* lAdd = line->add_subcommand("add", "Add a line: labcm line add SEP001122AABBCC 1002 --label Sales");
    lAdd->add_option("device", la.device, "SEP<MAC> or the MAC")->required();
    lAdd->add_option("dn", la.dn, "Directory number (may be shared with other phones)")->required();
    auto* lIndex = lAdd->add_option("--index", la.index, "Button number (default: the first free one)");
    lAdd->add_option("--display-name", la.displayName, "Caller-ID name");
    lAdd->add_option("--label", la.label, "Text next to the button");
    lAdd->add_option("--auth-name", la.authName, "Digest user name");
    lAdd->add_option("--auth-password", la.authPassword, "Digest password");
    lAdd->add_option("--contact", la.contact, "User part of the phone's Contact");
    lAdd->callback([&r, &la, lIndex] {
        json::object args{{"device", la.device},         {"dn", la.dn},
                          {"display_name", la.displayName}, {"label", la.label},
                          {"auth_name", la.authName},     {"auth_password", la.authPassword},
                          {"contact", la.contact}};
        if (lIndex->count()) args["index"] = la.index;
        r.call({{"cmd", "line.add"}, {"args", args}}, [](const json::value& v) { printDevice(v.as_object()); });
    });
}

void addLineEdit(CLI::App* line, Runner& r, LineArgs& la) {
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
    lEdit->callback([&r, &la, lineEdits] {
        const std::map<std::string, std::string*> values{{"dn", &la.dn}, {"display_name", &la.displayName},
                                                         {"label", &la.label}, {"auth_name", &la.authName},
                                                         {"auth_password", &la.authPassword}, {"contact", &la.contact}};
        json::object args{{"device", la.device}, {"index", la.index}};
        for (const auto& [field, opt] : lineEdits)
            if (opt->count()) args[field] = *values.at(field);
        r.call({{"cmd", "line.edit"}, {"args", args}}, [](const json::value& v) { printDevice(v.as_object()); });
    });
}

void addSpeedDialCommands(CLI::App& app, Runner& r) {
    auto* speeddial = app.add_subcommand("speeddial", "Speed-dial and BLF keys of a phone: add, rm");
    speeddial->require_subcommand(1);
    struct KeyArgs {
        std::string device, number, label;
        int button = 0;
        bool blf = false;
    };
    auto& ka = r.keep<KeyArgs>();
    auto* kAdd = speeddial->add_subcommand("add", "Add a key: labcm speeddial add SEP001122AABBCC 1002 --label Bob --blf");
    kAdd->add_option("device", ka.device, "SEP<MAC> or the MAC")->required();
    kAdd->add_option("number", ka.number, "Number it dials")->required();
    kAdd->add_option("--label", ka.label, "Text next to the button");
    auto* kButton = kAdd->add_option("--button", ka.button, "Button number (default: the first free one)");
    kAdd->add_flag("--blf", ka.blf, "BLF speed dial: shows the line's state, picks up its calls");
    kAdd->callback([&r, &ka, kButton] {
        json::object args{{"device", ka.device}, {"number", ka.number}, {"label", ka.label}, {"blf", ka.blf}};
        if (kButton->count()) args["button"] = ka.button;
        r.call({{"cmd", "speeddial.add"}, {"args", args}}, [](const json::value& v) { printDevice(v.as_object()); });
    });
    auto* kRm = speeddial->add_subcommand("rm", "Remove a key: labcm speeddial rm SEP001122AABBCC 3");
    kRm->add_option("device", ka.device, "SEP<MAC> or the MAC")->required();
    kRm->add_option("button", ka.button, "Button number")->required();
    kRm->callback([&r, &ka] {
        r.call({{"cmd", "speeddial.rm"}, {"args", {{"device", ka.device}, {"button", ka.button}}}},
               [](const json::value& v) { printDevice(v.as_object()); });
    });
}

} // namespace

void addLineCommands(CLI::App& app, Runner& r) {
    auto* line = app.add_subcommand("line", "Lines (buttons) of a phone: add, edit, rm");
    line->require_subcommand(1);
    auto& la = r.keep<LineArgs>();
    addLineAdd(line, r, la);
    addLineEdit(line, r, la);
    auto* lRm = line->add_subcommand("rm", "Remove a line: labcm line rm SEP001122AABBCC 2");
    lRm->add_option("device", la.device, "SEP<MAC> or the MAC")->required();
    lRm->add_option("index", la.index, "Button number")->required();
    lRm->callback([&r, &la] {
        r.call({{"cmd", "line.rm"}, {"args", {{"device", la.device}, {"index", la.index}}}},
               [](const json::value& v) { printDevice(v.as_object()); });
    });

    addSpeedDialCommands(app, r);
}

} // namespace labcm::cli
