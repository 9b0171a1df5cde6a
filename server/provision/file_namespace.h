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
#include <mutex>
#include <set>
#include <shared_mutex>
#include <unordered_map>
#include <vector>
#include <string>
#include <string_view>

#include "core/settings.h"
#include "provision/files_dir.h"
#include "provision/firmware.h"
#include "provision/folder_watch.h"
#include "provision/names.h"
#include "provision/packed_text.h"
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

    /// @brief io thread.
    FileResult resolve(std::string_view rawName);
    /// @brief Any thread: the answer when it needs neither a render nor the database (a
    /// rendered file in the cache and fresh, a file of the files folder, a refused or
    /// trust-list name); nullopt when only resolve() on the io thread can answer.
    std::optional<FileResult> resolveFast(std::string_view rawName) const;

    /// @brief The versionStamp of the SEP<MAC>.cnf.xml labcm serves now ("" when there is
    /// none): what apply-config and check-version compare the phone's against.
    std::string configStamp(const std::string& mac);

    /// @brief Called for a SEP<MAC>.cnf.xml with no device: returns the device being
    /// auto-registered (its file is rendered from it at once, before the commit) or nullopt
    /// with the reason in `why`.
    using AutoRegister = std::function<std::optional<Device>(const std::string& mac, std::string& why)>;
    void setAutoRegistration(AutoRegister f) { autoRegister_ = std::move(f); }

    /// @brief Called on the io thread when a load named for phones is found incomplete (it is
    /// withheld: phones keep the load they run) or complete again (sent from then on).
    using LoadObserver = std::function<void(const LoadCheck&)>;
    void setLoadObserver(LoadObserver f) { loadObserver_ = std::move(f); }

    // --- the render cache ------------------------------------------------------------------
    // Exact, not timed: a cached file is served until a change that affects it. Each entry
    // keeps what it was rendered from besides the database (the template generation, the
    // locale files it looked for); the database's changes arrive through these calls, from
    // any thread, and take effect before the next request is answered.

    /// @brief One device (its rows or lines) changed, was added or removed: its own file
    /// goes, and the lab-wide data derived from the DNs (shared lines, the dial plan) is read
    /// again at the next render; the files whose part of it changed go then.
    void deviceChanged(const std::string& mac);
    /// @brief Everything may have changed (settings, model defaults, an import, a write by
    /// another process): every file goes, and warm() renders them again.
    void invalidate();
    /// @brief io thread: renders up to `budget` files that are not cached (every device's,
    /// XMLDefault, the static files), after start and after invalidate(). @return true while
    /// some remain.
    bool warm(std::size_t budget);

    const FilesDir& files() const { return files_; }
    std::uint64_t renders() const { return renders_; }
    std::uint64_t cacheHits() const { return cacheHits_; }
    std::size_t cached() const;
    /// @brief Bytes the cached files hold, packed (their references not counted).
    std::size_t cachedBytes() const;

private:
    struct CacheEntry {
        PackedText body; ///< packed against its kind's reference (references_)
        std::uint64_t templateGeneration = 0;
        DirStamp dirs; ///< the folders its locale lookups went through: unchanged = same answers
        /// Its folders and the template folder are watched: fresh while watch_'s generation is
        /// still this one (one ioctl). Otherwise fresh while the stats above still match.
        bool watched = false;
        std::uint64_t watchGeneration = 0;
    };

    void applyChanges();
    void applyChangesRead(bool all, const std::set<std::string>& macs);
    RenderInputs& inputs(const std::string& model, DirStamp& checked);
    void readLab();
    void readDnIndex();
    void updateDnIndex(const std::string& mac);
    void setDialPatterns();
    /// @brief Whether `load`'s files are all there, checked again only when the files folder
    /// changed; sets lab_.withheldLoads and adds the folder to `checked`.
    void checkLoadFiles(const std::string& load, DirStamp& checked);
    /// @brief Fills lab_.rings and lab_.ringsWide from the files folder and labcm's own tones;
    /// a ring file whose size or name its format forbids is left out and logged once.
    void readRings(DirStamp& checked);
    /// @brief Fills lab_.backgrounds from files/Desktops/<resolution>/ (images that break the
    /// rules are left out and logged once).
    void readBackgrounds(const std::string& resolution, DirStamp& checked);
    FileResult rendered(const RequestName& name, bool warming = false);
    /// @brief The answer for names that are not rendered (nullopt for rendered ones).
    std::optional<FileResult> unrendered(const RequestName& name) const;
    bool fresh(const CacheEntry& e) const;
    /// @brief The cached answer when it is there and fresh (any thread).
    std::optional<FileResult> cachedAnswer(const RequestName& name) const;
    void eraseCached(const std::string& key);
    /// @brief Caches a render made from `entry`'s inputs, read after `entry.watchGeneration`.
    void store(const std::string& key, CacheEntry entry);

    store::Db& reader_;
    const SettingsHolder& settings_;
    AutoRegister autoRegister_;
    LoadObserver loadObserver_;
    FilesDir files_;
    std::filesystem::path templateDir_;
    TemplateSet templates_;
    FolderWatch watch_; ///< the template folder and the folders cached renders looked through

    // Changes announced from any thread, applied on the io thread.
    std::mutex changesMutex_;
    std::set<std::string> changedMacs_;
    bool changedAll_ = true;
    std::atomic<std::uint64_t> announced_{1}; ///< changes announced (under changesMutex_)
    std::atomic<std::uint64_t> applied_{0};   ///< announced changes the cache reflects

    // io thread only.
    RenderInputs lab_;          ///< the lab-wide inputs; locale flags set per render
    bool labStale_ = true;      ///< settings, model defaults, everything
    // The lines of the lab, indexed once and kept up to date per device change, so neither a
    // request nor a change reads the whole lab.
    std::unordered_map<std::string, std::set<std::string>> dnsOf_;     ///< mac -> its DNs
    std::unordered_map<std::string, std::set<std::string>> devicesOf_; ///< dn -> the MACs with it
    std::map<std::pair<char, std::size_t>, std::size_t> shapes_;        ///< (first digit, length) -> DNs
    std::vector<std::string> warmQueue_; ///< names to render ahead of the phones
    struct LoadVerdict {
        DirStamp stamp; ///< the folder the check looked in, before it looked
        bool complete = false;
    };
    std::unordered_map<std::string, LoadVerdict> loadChecks_; ///< load -> its last check
    std::set<std::string> ringWarned_; ///< ring files and backgrounds already logged as left out
    /// What cached files are packed against, per kind (a model's SEP file, XMLDefault, each
    /// static file): the first of its kind rendered since the last invalidate().
    std::unordered_map<std::string, std::shared_ptr<const PackReference>> references_;

    // The cache: changed on the io thread under a unique lock, read from any thread.
    mutable std::shared_mutex cacheMutex_;
    std::unordered_map<std::string, CacheEntry> cache_;
    std::atomic<std::uint64_t> renders_{0};
    mutable std::atomic<std::uint64_t> cacheHits_{0};
};

} // namespace labcm::provision
