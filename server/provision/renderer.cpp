#include "provision/renderer.h"

#include <sys/stat.h>

#include <algorithm>
#include <stdexcept>

#include <boost/uuid/name_generator_sha1.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <fmt/format.h>
#include <pugixml.hpp>

#include "core/locales.h"
#include "core/models.h"
#include "provision/files_dir.h"
#include "provision/template.h"
#include "provision/timezones.h"

namespace labcm::provision {
namespace {

// A fixed namespace for labcm's name-based UUIDs (itself a UUIDv5 of "labcm" in the URL
// namespace; any constant works, it only has to stay the same).
constexpr boost::uuids::uuid kStampNamespace{{0x6b, 0x1d, 0x33, 0x3a, 0x51, 0x7c, 0x5a, 0x4e, 0x9c, 0x2f, 0x0e, 0x63,
                                              0x7d, 0x1a, 0x42, 0x88}};

constexpr const char* kDefaultLocaleVersion = "1.0.0.0-1";

TemplateContext commonContext(const RenderInputs& in) {
    const auto& s = in.settings;
    TemplateContext ctx;
    ctx.values = {
        {"registrar", in.registrar},
        {"sip_port", std::to_string(s.sipPort)},
        {"timezone", s.timezone},
        {"cisco_timezone", std::string(ciscoTimeZone(s.timezone).value_or(kFallbackCiscoTimeZone))},
        {"register_expires", "3600"},
        {"voicemail_number", s.voicemailNumber},
        {"dial_template", kDialTemplateFile},
        {"softkey_file", kSoftkeyFile},
        {"user_locale", in.userLocalePresent ? s.userLocale : ""},
        {"network_locale", in.networkLocalePresent ? s.networkLocale : ""},
        // The language of the user locale from its folder's name (CUCM's names); en_US otherwise.
        {"user_locale_lang", std::string(localeLanguage(s.userLocale).value_or("en_US"))},
        {"user_locale_version", in.userLocaleVersion.empty() ? kDefaultLocaleVersion : in.userLocaleVersion},
        {"network_locale_version", in.networkLocaleVersion.empty() ? kDefaultLocaleVersion : in.networkLocaleVersion},
    };
    // The callManagerGroup, in priority order: labcm itself ("self") and other call managers.
    auto& managers = ctx.lists["call_managers"];
    for (const auto& item : s.callManagers) {
        bool self = item == "self";
        auto host = self ? in.registrar : callManagerHost(item);
        managers.push_back(TemplateContext{{{"priority", std::to_string(managers.size())},
                                            {"name", self ? std::string("labcm") : host},
                                            {"host", host},
                                            {"port", std::to_string(self ? s.sipPort : callManagerPort(item).value_or(5060))}},
                                           {}});
    }
    auto& ntp = ctx.lists["ntp_servers"];
    for (const auto& n : s.ntpServers) ntp.push_back(TemplateContext{{{"server", n}}, {}});
    auto& patterns = ctx.lists["patterns"];
    for (const auto& p : in.dialPatterns)
        patterns.push_back(TemplateContext{{{"match", p.match}, {"timeout", std::to_string(p.timeoutSeconds)}}, {}});
    auto& adminPatterns = ctx.lists["admin_patterns"];
    for (const auto& p : in.adminPatterns)
        adminPatterns.push_back(TemplateContext{{{"match", p.match}, {"timeout", std::to_string(p.timeoutSeconds)}}, {}});
    for (const auto& [list, tones] : {std::pair{"rings", &in.rings}, std::pair{"rings_wide", &in.ringsWide}}) {
        auto& items = ctx.lists[list];
        for (const auto& t : *tones) items.push_back(TemplateContext{{{"file", t.file}, {"display_name", t.displayName}}, {}});
    }
    auto& backgrounds = ctx.lists["backgrounds"];
    for (const auto& b : in.backgrounds)
        backgrounds.push_back(
            TemplateContext{{{"resolution", in.backgroundFolder}, {"image", b.image}, {"thumbnail", b.thumbnail}}, {}});
    return ctx;
}

// Parses, expands, stamps and serialises one template.
std::string render(const std::string& name, const TemplateContext& ctx, const TemplateSet& t) {
    auto text = t.text(name);
    pugi::xml_document doc;
    auto result = doc.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_declaration,
                                  pugi::encoding_utf8);
    if (!result)
        throw TemplateError(fmt::format("template {} is not well-formed XML at byte {}: {}", name, result.offset,
                                        result.description()));
    expandTemplate(doc, ctx);
    auto stamp = doc.document_element().child("versionStamp");
    if (!stamp) return serialize(doc);
    stamp.text().set("");
    stamp.text().set(contentStamp(serialize(doc)).c_str());
    return serialize(doc);
}

} // namespace

std::string versionStampOf(std::string_view xml) {
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) return {};
    return doc.document_element().child("versionStamp").text().get();
}

TemplateSet::TemplateSet(std::filesystem::path overrideDir) : overrideDir_(std::move(overrideDir)) {}

std::string TemplateSet::text(const std::string& name) const {
    if (!overrideDir_.empty()) {
        auto path = overrideDir_ / name;
        std::error_code ec;
        if (std::filesystem::is_regular_file(path, ec)) {
            FILE* f = std::fopen(path.c_str(), "rb");
            if (f) {
                std::string out;
                char buf[8192];
                std::size_t n;
                while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
                std::fclose(f);
                return out;
            }
        }
    }
    auto it = builtIn().find(name);
    if (it == builtIn().end()) throw std::runtime_error("no template named " + name);
    return it->second;
}

std::uint64_t TemplateSet::generation() const {
    if (overrideDir_.empty()) return 0;
    // With no override file, the folder's mtime says whether one appeared: one stat.
    const std::int64_t dirMtime = folderMtimeNs(overrideDir_).value_or(-1);
    const bool racy = racyMtime(dirMtime); // may change again in the same tick
    std::lock_guard lock(mutex_);
    if (dirMtime == lastDirMtime_ && !anyOverride_ && !racy) return lastGeneration_;
    // FNV-1a over (name, size, mtime) of every override file that exists.
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](std::uint64_t v) {
        for (int i = 0; i < 8; ++i) {
            h ^= (v >> (i * 8)) & 0xFF;
            h *= 1099511628211ull;
        }
    };
    bool any = false;
    for (const auto& [name, text] : builtIn()) {
        struct stat st {};
        if (::stat((overrideDir_ / name).c_str(), &st) != 0) continue;
        any = true;
        mix(std::hash<std::string>{}(name));
        mix(static_cast<std::uint64_t>(st.st_size));
        mix(static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
    }
    lastDirMtime_ = dirMtime;
    anyOverride_ = any;
    lastGeneration_ = h;
    return h;
}

std::string contentStamp(const std::string& bytes) {
    boost::uuids::name_generator_sha1 gen(kStampNamespace);
    return boost::uuids::to_string(gen(bytes.data(), bytes.size()));
}

std::string namedLoad(const Device& d, const std::map<std::string, std::string>& modelLoads) {
    if (!d.loadOverride.empty()) return d.loadOverride;
    auto it = modelLoads.find(d.model);
    return it == modelLoads.end() ? std::string() : it->second;
}

std::string deviceLoad(const Device& d, const RenderInputs& in) {
    auto load = namedLoad(d, in.modelLoads);
    return in.withheldLoads.contains(load) ? std::string() : load;
}

std::string renderDeviceConfig(const Device& d, const RenderInputs& in, const TemplateSet& t) {
    auto ctx = commonContext(in);
    auto model = findModel(d.model);
    std::string load = deviceLoad(d, in);
    static const PhoneSettingValues kNone;
    auto model_ = in.modelPhoneSettings.find(d.model);
    for (auto& [name, value] : phoneSettingTemplateValues(effectivePhoneSettings(
             in.labPhoneSettings, model_ == in.modelPhoneSettings.end() ? kNone : model_->second, in.devicePhoneSettings)))
        ctx.values[name] = std::move(value);
    // Problem reports come to labcm unless the admin named another receiver (issue 22).
    if (auto& prt = ctx.values["vc_problem_report_upload_url"]; prt.empty())
        prt = fmt::format("http://{}:{}/prt", in.registrar.find(':') != std::string::npos ? "[" + in.registrar + "]" : in.registrar,
                          in.settings.httpPort);
    // phoneLabel: at most 12 characters, no spaces on 79xx (reference §1.2).
    std::string phoneLabel = d.lines.empty() ? d.name() : d.lines.front().dn;
    if (phoneLabel.size() > 12) phoneLabel.resize(12);
    ctx.values.insert({
        {"name", d.name()},
        {"mac", d.mac},
        {"model", d.model},
        {"description", d.description},
        {"phone_label", phoneLabel},
        {"load", load},
        {"transport_code", d.transport == "udp" ? "2" : "1"},
        {"video", model && model->video ? "true" : ""},
        // The 8961, 9951 and 9971 take their softkeys from a feature policy, not softkeys.xml.
        {"feature_policy", d.model == "8961" || d.model == "9951" || d.model == "9971" ? kFeaturePolicyFile : ""},
    });
    auto& lines = ctx.lists["lines"];
    for (const auto& l : d.lines) {
        lines.push_back(TemplateContext{{{"index", std::to_string(l.index)},
                                         {"dn", l.dn},
                                         {"label", l.label.empty() ? l.dn : l.label},
                                         {"display_name", l.displayName.empty() ? l.dn : l.displayName},
                                         {"auth_name", l.authName},
                                         {"auth_password", l.authPassword},
                                         {"contact", l.contact},
                                         {"shared", in.sharedDns.contains(l.dn) ? "true" : "false"}},
                                        {}});
    }
    auto& keys = ctx.lists["speed_dials"];
    for (const auto& k : d.speedDials)
        keys.push_back(TemplateContext{{{"button", std::to_string(k.button)},
                                        {"feature_id", k.blf ? "21" : "2"},
                                        {"label", k.label.empty() ? k.number : k.label},
                                        {"number", k.number},
                                        {"blf", k.blf ? "true" : ""}},
                                       {}});
    return render("SEPMAC.cnf.xml", ctx, t);
}

std::string renderDefaultConfig(const RenderInputs& in, const TemplateSet& t) {
    auto ctx = commonContext(in);
    auto& loads = ctx.lists["model_loads"];
    for (const auto& [model, load] : in.modelLoads) {
        auto info = findModel(model);
        if (!info || load.empty() || in.withheldLoads.contains(load)) continue;
        loads.push_back(TemplateContext{{{"typemodel", std::to_string(info->typemodel)},
                                         {"display_name", std::string(info->displayName)},
                                         {"load", load}},
                                        {}});
    }
    return render("XMLDefault.cnf.xml", ctx, t);
}

std::string renderStatic(const std::string& name, const RenderInputs& in, const TemplateSet& t) {
    return render(name, commonContext(in), t);
}

bool dialable(std::string_view dn) {
    return !dn.empty() && std::all_of(dn.begin(), dn.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<DialPattern> dialPatternsFor(const std::vector<std::string>& dns) {
    std::set<std::pair<char, std::size_t>> shapes; // (first digit, length)
    for (const auto& dn : dns) {
        if (!dialable(dn)) continue;
        shapes.emplace(dn[0], dn.size());
    }
    std::vector<DialPattern> out;
    for (const auto& shape : shapes) {
        const char first = shape.first;
        const std::size_t len = shape.second;
        bool extended = std::any_of(shapes.begin(), shapes.end(),
                                    [&](const auto& s) { return s.first == first && s.second > len; });
        std::string match(len, '.');
        match[0] = first;
        out.push_back({std::move(match), extended ? kOverlapTimeout : 0});
    }
    return out;
}

} // namespace labcm::provision
