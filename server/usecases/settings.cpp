// Settings and models: the server settings (validated as a whole before commit), each
// model's default firmware load, the check that every load in use is complete on disk, and
// the admin's dial patterns.
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "core/dial_pattern.h"
#include "core/locales.h"
#include "core/models.h"
#include "core/phone_settings.h"
#include "core/text.h"
#include "provision/firmware.h"
#include "store/device_store.h"
#include "store/settings_store.h"
#include "usecases/table.h"

namespace labcm::usecases::detail {
namespace {

json::array settingList(Context& ctx) {
    auto s = ctx.settings.get();
    auto rows = store::SettingsStore(ctx.reader).rows();
    json::array out;
    for (const auto& info : settingInfos()) {
        std::string key(info.key);
        out.push_back({{"key", key},
                       {"value", settingValue(*s, info.key)},
                       {"default", settingValue(Settings{}, info.key)},
                       {"type", info.type},
                       {"changed", rows.contains(key)},
                       {"help", info.help}});
    }
    return out;
}

// Sets (`value`) or unsets one setting; the running settings change after the commit.
void settingWrite(Table& t, std::string key, std::optional<std::string> value, Reply reply) {
    auto now = nowMs();
    auto fresh = std::make_shared<Settings>();
    t.write(
        [=](store::Db& db) -> json::value {
            store::SettingsStore ss(db);
            if (value) ss.set(key, *value, now);
            else ss.unset(key);
            *fresh = ss.load(); // validates the whole set (cross-field rules) before commit
            return json::object{{"key", key}, {"value", settingValue(*fresh, key)}};
        },
        [&t, key, fresh](json::value& r) {
            t.ctx.settings.set(*fresh);
            t.ctx.bus.publish(Service::Admin, EventKind::SettingChanged, Severity::Info, "", "",
                              fmt::format("{} = {}", key, r.as_object()["value"].as_string().c_str()));
        },
        reply);
}

// The locale folders of the files folder: user locales hold a phone's *-sip.jar, network
// locales a g3-/g4-tones.xml (localeFileKind).
std::vector<std::string> installedLocales(const std::string& filesDir, bool user) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& dir : std::filesystem::directory_iterator(filesDir, ec)) {
        if (!dir.is_directory(ec) || dir.path().filename().string().starts_with(".")) continue;
        bool holds = false;
        for (const auto& f : std::filesystem::directory_iterator(dir.path(), ec))
            if (localeFileKind(f.path().filename().string()) == (user ? LocaleFileKind::User : LocaleFileKind::Network)) holds = true;
        if (holds) out.push_back(dir.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// A locale setting must name a folder that is there (the name as stored, case ignored), so a
// typo is not silently sent as "no locale".
void checkLocaleInstalled(Context& ctx, const std::string& key, const std::string& value) {
    if (key != "user_locale" && key != "network_locale") return;
    auto installed = installedLocales(ctx.info.filesDir, key == "user_locale");
    for (const auto& i : installed)
        if (text::toLower(i) == text::toLower(value)) return;
    std::string list;
    for (const auto& i : installed) list += (list.empty() ? "" : ", ") + i;
    invalid({key, fmt::format("'{}' is not installed in {} ({}; install one with 'labcm locale install' or copy "
                              "its folder there)", value, ctx.info.filesDir,
                              list.empty() ? "none is" : "installed: " + list)});
}

void addSettings(Table& t) {
    t.add("setting.list", [&t](const json::object&, Reply reply) { reply(okReply(settingList(t.ctx))); });

    t.add("setting.set", [&t](const json::object& a, Reply reply) {
        auto key = reqString(a, "key");
        std::string value;
        try {
            value = canonicalSetting(key, reqString(a, "value"));
        } catch (const FieldErrorException& e) {
            invalid(e.error);
        }
        checkLocaleInstalled(t.ctx, key, value);
        settingWrite(t, key, value, reply);
    });

    t.add("setting.unset", [&t](const json::object& a, Reply reply) {
        auto key = reqString(a, "key");
        try {
            canonicalSetting(key, settingValue(Settings{}, key));
        } catch (const FieldErrorException& e) {
            invalid(e.error);
        }
        settingWrite(t, key, std::nullopt, reply);
    });
}

json::array modelList(store::Db& reader) {
    auto defaults = store::ModelDefaultStore(reader).all();
    json::array out;
    for (const auto& m : knownModels()) {
        std::string name(m.name);
        auto it = defaults.find(name);
        out.push_back({{"model", name},
                       {"typemodel", m.typemodel},
                       {"display_name", m.displayName},
                       {"load_prefix", m.loadPrefix},
                       {"default_load", it == defaults.end() ? "" : it->second}});
    }
    return out;
}

// Every load in use (model defaults and device overrides), who uses it, and whether its
// files are all there.
json::object firmwareCheck(Context& ctx) {
    std::map<std::string, json::array> users;
    for (const auto& [model, load] : store::ModelDefaultStore(ctx.reader).all())
        users[load].push_back(json::string("model " + model));
    for (const auto& d : store::DeviceStore(ctx.reader).list())
        if (!d.loadOverride.empty()) users[d.loadOverride].push_back(json::string(d.name()));
    provision::FilesDir files(ctx.info.filesDir);
    json::array out;
    for (auto& [load, who] : users) {
        auto c = provision::checkLoad(files, load);
        json::array missing;
        for (const auto& m : c.missing) missing.push_back(json::string(m));
        out.push_back({{"load", load},
                       {"used_by", std::move(who)},
                       {"loads_found", c.loadsFound},
                       {"images", c.images.size()},
                       {"missing", std::move(missing)},
                       {"complete", c.complete()},
                       {"summary", c.summary()}});
    }
    return {{"files_dir", ctx.info.filesDir}, {"loads", std::move(out)}};
}

void addModels(Table& t) {
    t.add("model.list", [&t](const json::object&, Reply reply) { reply(okReply(modelList(t.ctx.reader))); });

    t.add("model.set", [&t](const json::object& a, Reply reply) {
        auto text = reqString(a, "model");
        auto model = findModel(text);
        if (!model) invalid({"model", fmt::format("unknown model '{}' (see 'labcm model list')", text)});
        Device probe; // the load rules are the device override's rules
        probe.mac = "000000000000";
        probe.model = std::string(model->name);
        probe.loadOverride = optString(a, "load").value_or("");
        if (auto e = validateDevice(probe)) invalid(*e);
        auto now = nowMs();
        std::string name(model->name);
        t.write(
            [name, load = probe.loadOverride, now](store::Db& db) -> json::value {
                store::ModelDefaultStore(db).set(name, load, now);
                return json::object{{"model", name}, {"default_load", load}};
            },
            [&t, name, load = probe.loadOverride](json::value& r) {
                t.ctx.bus.publish(Service::Admin, EventKind::ModelDefaultChanged, Severity::Info, "", "",
                                  fmt::format("model {} default load = '{}'", name, load));
                if (load.empty()) return;
                auto c = provision::checkLoad(provision::FilesDir(t.ctx.info.filesDir), load);
                if (c.complete()) return;
                // The file namespace withholds it (and says so in an event) until it is complete.
                r.as_object()["firmware"] = c.summary() + ": not sent to phones until its files are all there";
            },
            reply);
    });

    t.add("firmware.check", [&t](const json::object&, Reply reply) { reply(okReply(firmwareCheck(t.ctx))); });
}

} // namespace

namespace {

json::object dialPatternJson(const AdminDialPattern& p) {
    return {{"pattern", p.pattern}, {"timeout", p.timeoutSeconds}, {"route", p.route}};
}

// The admin's dial patterns: rendered into every phone's dial template after labcm's own.
void addDialPlan(Table& t) {
    t.add("dialplan.list", [&t](const json::object&, Reply reply) {
        json::array out;
        for (const auto& p : store::DialPatternStore(t.ctx.reader).all()) out.push_back(dialPatternJson(p));
        reply(okReply(std::move(out)));
    });

    t.add("dialplan.set", [&t](const json::object& a, Reply reply) {
        AdminDialPattern p{reqString(a, "pattern"), static_cast<int>(optInt(a, "timeout").value_or(0)),
                           optString(a, "route").value_or("")};
        if (auto e = validateDialPattern(p)) invalid(*e);
        auto now = nowMs();
        t.write(
            [p, now](store::Db& db) -> json::value {
                store::DialPatternStore ds(db);
                auto all = ds.all();
                bool known = std::any_of(all.begin(), all.end(), [&](const auto& x) { return x.pattern == p.pattern; });
                if (!known && all.size() >= kMaxDialPatterns)
                    throw CommandError(409, "conflict", "pattern",
                                       fmt::format("{} dial patterns already: remove one first", kMaxDialPatterns));
                ds.set(p, now);
                return dialPatternJson(p);
            },
            [&t, p](json::value&) {
                t.ctx.bus.publish(Service::Admin, EventKind::DialPlanChanged, Severity::Info, "", "",
                                  fmt::format("dial pattern {} (timeout {} s{}) set", p.pattern, p.timeoutSeconds,
                                              p.route.empty() ? "" : ", route " + p.route));
            },
            reply);
    });

    t.add("dialplan.rm", [&t](const json::object& a, Reply reply) {
        auto pattern = reqString(a, "pattern");
        t.write(
            [pattern](store::Db& db) -> json::value {
                store::DialPatternStore(db).remove(pattern);
                return json::object{{"removed", pattern}};
            },
            [&t, pattern](json::value&) {
                t.ctx.bus.publish(Service::Admin, EventKind::DialPlanChanged, Severity::Info, "", "",
                                  fmt::format("dial pattern {} removed", pattern));
            },
            reply);
    });
}

// Which level a phone-setting request names: the lab, a model ("model") or a device ("device").
struct PhoneSettingLevel {
    std::string scope = "lab";
    std::string target;
};

PhoneSettingLevel phoneSettingLevel(const json::object& a) {
    auto model = optString(a, "model");
    bool device = a.contains("device");
    if (model && device) badArg("device", "give a model or a device, not both");
    if (device) return {"device", macArg(a, "device")};
    if (model) {
        auto m = findModel(*model);
        if (!m) invalid({"model", fmt::format("unknown model '{}' (see 'labcm model list')", *model)});
        return {"model", std::string(m->name)};
    }
    return {};
}

std::string levelName(const PhoneSettingLevel& l) {
    return l.scope == "lab" ? "the lab" : l.scope == "model" ? "model " + l.target : "SEP" + l.target;
}

// The phone settings: per lab, model and phone; a phone gets the first level that sets a key.
void addPhoneSettings(Table& t) {
    t.add("phonesetting.list", [&t](const json::object& a, Reply reply) {
        auto level = phoneSettingLevel(a);
        store::PhoneSettingStore ps(t.ctx.reader);
        auto lab = ps.get("lab", "");
        PhoneSettingValues model, device;
        std::string modelName = level.scope == "model" ? level.target : "";
        if (level.scope == "device") {
            store::DeviceStore ds(t.ctx.reader);
            modelName = loadDevice(ds, level.target).model;
            device = ps.get("device", level.target);
        }
        if (!modelName.empty()) model = ps.get("model", modelName);
        auto effective = effectivePhoneSettings(lab, model, device);
        json::array out;
        for (const auto& info : phoneSettingInfos()) {
            std::string key(info.key);
            json::object o{{"key", key}, {"type", info.type}, {"default", info.defaultValue}, {"help", info.help}};
            auto put = [&](const char* name, const PhoneSettingValues& v) {
                auto it = v.find(key);
                o[name] = it == v.end() ? json::value(nullptr) : json::value(it->second);
            };
            put("lab", lab);
            if (!modelName.empty()) put("model", model);
            if (level.scope == "device") put("device", device);
            o["effective"] = effective.at(key);
            out.push_back(std::move(o));
        }
        reply(okReply(std::move(out)));
    });

    auto change = [&t](const json::object& a, Reply reply, std::optional<std::string> value) {
        auto level = phoneSettingLevel(a);
        auto key = reqString(a, "key");
        try {
            // Unset: the key must still be one labcm knows (its default is always valid).
            auto infos = phoneSettingInfos();
            auto info = std::find_if(infos.begin(), infos.end(), [&](const auto& i) { return i.key == key; });
            std::string text = value ? *value : info == infos.end() ? std::string() : std::string(info->defaultValue);
            auto canonical = canonicalPhoneSetting(key, text);
            if (value) *value = canonical;
        } catch (const FieldErrorException& e) {
            invalid(e.error);
        }
        auto now = nowMs();
        t.write(
            [level, key, value, now](store::Db& db) -> json::value {
                store::PhoneSettingStore ps(db);
                if (value) ps.set(level.scope, level.target, key, *value, now);
                else ps.unset(level.scope, level.target, key);
                return json::object{{"key", key}, {"value", value ? json::value(*value) : json::value(nullptr)},
                                    {"scope", level.scope}, {"target", level.target}};
            },
            [&t, level, key, value](json::value&) {
                auto text = fmt::format("phone setting {} for {} {}", key, levelName(level), value ? "= " + *value : "unset");
                if (level.scope == "device")
                    t.ctx.bus.publish(Service::Admin, EventKind::DeviceChanged, Severity::Info, level.target, "", text);
                else
                    t.ctx.bus.publish(Service::Admin, EventKind::PhoneSettingChanged, Severity::Info, "", "", text);
            },
            reply);
    };
    t.add("phonesetting.set", [change](const json::object& a, Reply reply) { change(a, std::move(reply), reqString(a, "value")); });
    t.add("phonesetting.unset", [change](const json::object& a, Reply reply) { change(a, std::move(reply), std::nullopt); });
}

} // namespace

void addSettingUseCases(Table& t) {
    addSettings(t);
    addModels(t);
    addDialPlan(t);
    addPhoneSettings(t);
}

} // namespace labcm::usecases::detail
