// The one file namespace phones see over TFTP and HTTP 6970: a requested name becomes
// rendered bytes, a file from the files directory, or a reasoned "not found"/"refused".
// Runs on the io thread with that thread's read connection.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <string_view>

#include "core/settings.h"
#include "provision/files_dir.h"
#include "provision/names.h"
#include "provision/renderer.h"
#include "store/sqlite.h"

namespace labcm::provision {

struct FileResult {
    enum class Kind { Rendered, File, NotFound, Refused, Error };
    Kind kind = Kind::NotFound;
    std::string body;        ///< Rendered: the bytes
    FoundFile file;          ///< File: where it is and how big
    std::string reason;      ///< NotFound / Refused / Error: why, for logs and events
    std::string mac;         ///< the MAC the name carries (SEP..., CTLSEP..., ITLSEP...), or ""
    std::string contentType; ///< for HTTP
    std::uint64_t size() const { return kind == Kind::File ? file.size : body.size(); }
    bool found() const { return kind == Kind::Rendered || kind == Kind::File; }
};

std::string_view toString(FileResult::Kind k);

class FileNamespace {
public:
    FileNamespace(store::Db& reader, const SettingsHolder& settings, std::filesystem::path filesDir,
                  std::filesystem::path templateDir);

    FileResult resolve(std::string_view rawName);

    /// @brief The versionStamp of the SEP<MAC>.cnf.xml labcm serves now ("" when there is
    /// none): what apply-config and check-version compare the phone's against.
    std::string configStamp(const std::string& mac);

    /// @brief Called for a SEP<MAC>.cnf.xml with no device: returns the device being
    /// auto-registered (its file is rendered from it at once, before the commit) or nullopt
    /// with the reason in `why`.
    using AutoRegister = std::function<std::optional<Device>(const std::string& mac, std::string& why)>;
    void setAutoRegistration(AutoRegister f) { autoRegister_ = std::move(f); }

    /// @brief Drops every cached render (any thread): call on any change of devices,
    /// lines, settings or model defaults.
    void invalidate() { generation_.fetch_add(1); }

    const FilesDir& files() const { return files_; }
    std::uint64_t renders() const { return renders_; }
    std::uint64_t cacheHits() const { return cacheHits_; }

private:
    RenderInputs inputs(const std::string& model);
    FileResult rendered(const RequestName& name);

    store::Db& reader_;
    const SettingsHolder& settings_;
    AutoRegister autoRegister_;
    FilesDir files_;
    TemplateSet templates_;
    std::atomic<std::uint64_t> generation_{1};

    struct CacheEntry {
        std::string body;
        std::uint64_t generation;
        std::uint64_t templateGeneration;
        std::chrono::steady_clock::time_point at;
    };
    std::map<std::string, CacheEntry> cache_;
    std::uint64_t renders_ = 0;
    std::uint64_t cacheHits_ = 0;
};

} // namespace labcm::provision
