#include "provision/file_namespace.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "core/models.h"
#include "core/net.h"
#include "provision/template.h"
#include "provision/timezones.h"
#include "store/device_store.h"
#include "store/settings_store.h"

namespace labcm::provision {

std::string_view toString(FileResult::Kind k) {
    switch (k) {
    case FileResult::Kind::Rendered: return "rendered";
    case FileResult::Kind::File: return "file";
    case FileResult::Kind::NotFound: return "not_found";
    case FileResult::Kind::Refused: return "refused";
    case FileResult::Kind::Error: return "error";
    }
    return "?";
}

FileNamespace::FileNamespace(store::Db& reader, const SettingsHolder& settings, std::filesystem::path filesDir,
                             std::filesystem::path templateDir)
    : reader_(reader), settings_(settings), files_(std::move(filesDir)), templates_(std::move(templateDir)) {}

RenderInputs FileNamespace::inputs(const std::string& model) {
    RenderInputs in;
    in.settings = *settings_.get();
    in.registrar = net::registrarAddress(in.settings.registrarAddress, in.settings.bindAddress);
    in.modelLoads = store::ModelDefaultStore(reader_).all();
    store::DeviceStore ds(reader_);
    in.sharedDns = ds.sharedDns();
    in.dialPatterns = dialPatternsFor(ds.allDns());
    if (auto info = findModel(model)) {
        if (!info->localeJar.empty())
            in.userLocalePresent = files_.find({in.settings.userLocale, std::string(info->localeJar)}).has_value();
        std::string tones = info->family == "99xx" ? "g4-tones.xml" : "g3-tones.xml";
        in.networkLocalePresent = files_.find({in.settings.networkLocale, tones}).has_value();
    }
    if (!ciscoTimeZone(in.settings.timezone))
        spdlog::warn("provision: time zone {} has no Cisco name in labcm's table; phones get '{}' plus the Olson name",
                     in.settings.timezone, kFallbackCiscoTimeZone);
    return in;
}

FileResult FileNamespace::rendered(const RequestName& name) {
    FileResult r;
    r.mac = name.mac;
    r.contentType = "text/xml";
    const auto now = std::chrono::steady_clock::now();
    const auto generation = generation_.load();
    const auto templateGeneration = templates_.generation();
    if (auto it = cache_.find(name.lower); it != cache_.end() && it->second.generation == generation &&
                                           it->second.templateGeneration == templateGeneration &&
                                           now - it->second.at < limits::kRenderCacheTtl) {
        ++cacheHits_;
        r.kind = FileResult::Kind::Rendered;
        r.body = it->second.body;
        return r;
    }
    try {
        switch (name.kind) {
        case NameKind::DeviceConfig: {
            auto d = store::DeviceStore(reader_).get(name.mac);
            std::string why;
            if (!d && autoRegister_) d = autoRegister_(name.mac, why);
            if (!d) {
                r.kind = FileResult::Kind::NotFound;
                r.reason = fmt::format("no device SEP{} in the database (the phone falls back to XMLDefault.cnf.xml){}",
                                       name.mac, why.empty() ? "" : "; auto-registration: " + why);
                return r;
            }
            r.body = renderDeviceConfig(*d, inputs(d->model), templates_);
            break;
        }
        case NameKind::DefaultConfig: r.body = renderDefaultConfig(inputs(""), templates_); break;
        case NameKind::Template: r.body = renderStatic(name.templateName, inputs(""), templates_); break;
        default: r.kind = FileResult::Kind::Error; r.reason = "not a rendered file"; return r;
        }
    } catch (const std::exception& e) {
        r.kind = FileResult::Kind::Error;
        r.reason = fmt::format("rendering failed: {}", e.what());
        return r;
    }
    ++renders_;
    r.kind = FileResult::Kind::Rendered;
    cache_[name.lower] = {r.body, generation, templateGeneration, now};
    return r;
}

std::string FileNamespace::configStamp(const std::string& mac) {
    auto f = resolve("SEP" + mac + ".cnf.xml");
    return f.kind == FileResult::Kind::Rendered ? versionStampOf(f.body) : std::string();
}

FileResult FileNamespace::resolve(std::string_view rawName) {
    auto name = parseRequestName(rawName);
    FileResult r;
    if (!name.ok) {
        r.kind = FileResult::Kind::Refused;
        r.reason = name.reason;
        return r;
    }
    r.mac = name.mac;
    switch (name.kind) {
    case NameKind::TrustList:
        r.kind = FileResult::Kind::NotFound;
        r.reason = "no CTL/ITL: labcm is a non-secure cluster";
        return r;
    case NameKind::Signed:
        r.kind = FileResult::Kind::NotFound;
        r.reason = "no signed files: labcm is a non-secure cluster (a phone asking for .sgn still holds an "
                   "ITL from another cluster: erase its trust list)";
        return r;
    case NameKind::DeviceConfig:
    case NameKind::DefaultConfig:
    case NameKind::Template: return rendered(name);
    case NameKind::File: break;
    }
    std::string refused;
    auto found = files_.find(name.parts, &refused);
    if (!found) {
        r.kind = refused.empty() ? FileResult::Kind::NotFound : FileResult::Kind::Refused;
        r.reason = refused.empty() ? "not in the files directory" : refused;
        return r;
    }
    r.kind = FileResult::Kind::File;
    r.file = *found;
    r.contentType = name.lower.ends_with(".xml") ? "text/xml" : "application/octet-stream";
    return r;
}

} // namespace labcm::provision
