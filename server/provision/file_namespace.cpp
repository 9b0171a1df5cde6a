#include "provision/file_namespace.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <iterator>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "core/models.h"
#include "core/net.h"
#include "core/text.h"
#include "provision/template.h"
#include "provision/timezones.h"
#include "store/device_store.h"
#include "store/settings_store.h"

namespace labcm::provision {

namespace {
// The cache key (the lower-case request name) of a device's file.
std::string deviceKey(const std::string& mac) { return "sep" + text::toLower(mac) + ".cnf.xml"; }

// The files rendered from the lab alone (dial plan, softkeys, dial rules), by cache key.
std::vector<std::string> staticKeys() {
    std::vector<std::string> out;
    for (const auto& [name, text] : TemplateSet::builtIn())
        if (name != "SEPMAC.cnf.xml" && name != "XMLDefault.cnf.xml" && name != "Desktops-List.xml")
            out.push_back(text::toLower(name));
    return out;
}
} // namespace

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
    : reader_(reader), settings_(settings), files_(std::move(filesDir)), templateDir_(std::move(templateDir)),
      templates_(templateDir_) {}

void FileNamespace::deviceChanged(const std::string& mac) {
    {
        std::lock_guard lock(changesMutex_);
        if (!changedAll_) {
            if (changedMacs_.size() >= limits::kRenderCacheEntries) changedAll_ = true; // a bulk change: all of it
            else changedMacs_.insert(mac);
        }
        announced_.fetch_add(1, std::memory_order_release);
    }
}

void FileNamespace::invalidate() {
    {
        std::lock_guard lock(changesMutex_);
        changedAll_ = true;
        changedMacs_.clear();
        announced_.fetch_add(1, std::memory_order_release);
    }
}

void FileNamespace::applyChanges() {
    if (applied_.load(std::memory_order_acquire) == announced_.load(std::memory_order_acquire)) return;
    std::set<std::string> macs;
    bool all = false;
    std::uint64_t upTo = 0;
    {
        std::lock_guard lock(changesMutex_);
        upTo = announced_.load(std::memory_order_relaxed);
        macs.swap(changedMacs_);
        all = std::exchange(changedAll_, false);
    }
    // Other threads serve from the cache only once every announced change is applied.
    struct Applied {
        std::atomic<std::uint64_t>& to;
        std::uint64_t value;
        ~Applied() { to.store(value, std::memory_order_release); }
    } applied{applied_, upTo};
    try {
        applyChangesRead(all, macs);
    } catch (const std::exception& e) {
        // The database could not be read: nothing cached may outlive a change it missed.
        spdlog::error("provision: render cache dropped, a change could not be applied: {}", e.what());
        {
            std::unique_lock lock(cacheMutex_);
            cache_.clear();
        }
        labStale_ = true;
        invalidate(); // tried again at the next request
    }
}

void FileNamespace::applyChangesRead(bool all, const std::set<std::string>& macs) {
    if (all) {
        std::unique_lock lock(cacheMutex_);
        cache_.clear();
        references_.clear(); // the next renders may differ: new references, from them
        labStale_ = true;
        // Render ahead of the phones: XMLDefault and the static files first, then every device.
        warmQueue_ = staticKeys();
        warmQueue_.insert(warmQueue_.begin(), "xmldefault.cnf.xml");
        for (const auto& mac : store::DeviceStore(reader_).macs()) warmQueue_.push_back(deviceKey(mac));
        std::reverse(warmQueue_.begin(), warmQueue_.end()); // taken from the back
        return;
    }
    for (const auto& mac : macs) {
        eraseCached(deviceKey(mac));
        warmQueue_.push_back(deviceKey(mac));
        // Its DNs may have changed: the shared-line marks and the dial plan follow now, and
        // the files whose part changed go before the cache answers.
        if (!labStale_) updateDnIndex(mac);
    }
}

void FileNamespace::readLab() {
    lab_.settings = *settings_.get();
    lab_.registrar = net::registrarAddress(lab_.settings.registrarAddress, lab_.settings.bindAddress);
    lab_.modelLoads = store::ModelDefaultStore(reader_).all();
    store::PhoneSettingStore phoneSettings(reader_);
    lab_.labPhoneSettings = phoneSettings.get("lab", "");
    lab_.modelPhoneSettings = phoneSettings.models();
    lab_.adminPatterns.clear();
    for (const auto& p : store::DialPatternStore(reader_).all()) lab_.adminPatterns.push_back({p.pattern, p.timeoutSeconds});
    if (!ciscoTimeZone(lab_.settings.timezone))
        spdlog::warn("provision: time zone {} has no Cisco name in labcm's table; phones get '{}' plus the Olson name",
                     lab_.settings.timezone, kFallbackCiscoTimeZone);
    readDnIndex();
    labStale_ = false;
}

void FileNamespace::setDialPatterns() {
    std::vector<std::string> shapes; // one DN of each (first digit, length) stands for them all
    for (const auto& [shape, count] : shapes_) shapes.push_back(shape.first + std::string(shape.second - 1, '0'));
    auto patterns = dialPatternsFor(shapes);
    auto same = patterns.size() == lab_.dialPatterns.size() &&
                std::equal(patterns.begin(), patterns.end(), lab_.dialPatterns.begin(), [](const auto& a, const auto& b) {
                    return a.match == b.match && a.timeoutSeconds == b.timeoutSeconds;
                });
    if (same) return;
    lab_.dialPatterns = std::move(patterns);
    for (const auto& key : staticKeys()) eraseCached(key); // the files that carry the dial plan
}

void FileNamespace::readDnIndex() {
    dnsOf_.clear();
    devicesOf_.clear();
    shapes_.clear();
    for (auto& [mac, dn] : store::DeviceStore(reader_).dnsByDevice()) {
        dnsOf_[mac].insert(dn);
        auto& macs = devicesOf_[dn];
        if (macs.empty() && dialable(dn)) ++shapes_[{dn[0], dn.size()}];
        macs.insert(std::move(mac));
    }
    lab_.sharedDns.clear();
    for (const auto& [dn, macs] : devicesOf_)
        if (macs.size() > 1) lab_.sharedDns.insert(dn);
    lab_.dialPatterns.clear();
    setDialPatterns();
}

void FileNamespace::updateDnIndex(const std::string& mac) {
    std::set<std::string> now;
    if (auto d = store::DeviceStore(reader_).get(mac))
        for (const auto& l : d->lines) now.insert(l.dn);
    auto& before = dnsOf_[mac];
    std::vector<std::string> gone, added;
    std::set_difference(before.begin(), before.end(), now.begin(), now.end(), std::back_inserter(gone));
    std::set_difference(now.begin(), now.end(), before.begin(), before.end(), std::back_inserter(added));
    bool shapesChanged = false;
    // A DN whose "shared" mark flips changes the files of every device that has it.
    auto flipped = [&](const std::string& dn) {
        for (const auto& other : devicesOf_[dn]) eraseCached(deviceKey(other));
    };
    for (const auto& dn : gone) {
        auto& macs = devicesOf_[dn];
        macs.erase(mac);
        if (macs.size() == 1) {
            lab_.sharedDns.erase(dn);
            flipped(dn);
        }
        if (macs.empty()) {
            devicesOf_.erase(dn);
            if (dialable(dn)) {
                auto shape = shapes_.find({dn[0], dn.size()}); // counted when its first device came
                if (--shape->second == 0) {
                    shapes_.erase(shape);
                    shapesChanged = true;
                }
            }
        }
    }
    for (const auto& dn : added) {
        auto& macs = devicesOf_[dn];
        if (macs.empty() && dialable(dn)) shapesChanged |= ++shapes_[{dn[0], dn.size()}] == 1;
        macs.insert(mac);
        if (macs.size() == 2) {
            lab_.sharedDns.insert(dn);
            flipped(dn);
        }
    }
    if (now.empty()) dnsOf_.erase(mac);
    else before = std::move(now);
    if (shapesChanged) setDialPatterns();
}

RenderInputs& FileNamespace::inputs(const std::string& model, DirStamp& checked) {
    if (labStale_) readLab();
    lab_.userLocalePresent = lab_.networkLocalePresent = false;
    if (auto info = findModel(model)) {
        const auto& s = lab_.settings;
        std::string tones = info->family == "99xx" ? "g4-tones.xml" : "g3-tones.xml";
        // Found or not, and the version of the folder it is in (its mtime in seconds).
        auto check = [&](std::vector<std::string> parts, std::string& version) {
            auto stamp = files_.stamp(parts); // before the lookup: a change in between is seen next time
            checked.merge(stamp);
            bool found = files_.find(parts).has_value();
            version = found && stamp.dirs.size() >= 2 ? fmt::format("1.0.0.0-{}", stamp.dirs.back().second / 1'000'000'000)
                                                      : std::string();
            return found;
        };
        if (!info->localeJar.empty())
            lab_.userLocalePresent = check({s.userLocale, std::string(info->localeJar)}, lab_.userLocaleVersion);
        lab_.networkLocalePresent = check({s.networkLocale, tones}, lab_.networkLocaleVersion);
    }
    return lab_;
}

void FileNamespace::checkLoadFiles(const std::string& load, DirStamp& checked) {
    if (load.empty()) return;
    auto it = loadChecks_.find(load);
    if (it == loadChecks_.end() || it->second.stamp.racy || !FilesDir::unchanged(it->second.stamp)) {
        if (loadChecks_.size() >= limits::kLoadChecksKept) loadChecks_.clear(); // names no longer used
        LoadVerdict v;
        v.stamp = files_.stamp({load + ".loads"}); // the images are plain names in the same folder
        auto c = checkLoad(files_, load);
        v.complete = c.complete();
        auto before = loadChecks_.find(load);
        bool told = before == loadChecks_.end() ? !v.complete : before->second.complete != v.complete;
        it = loadChecks_.insert_or_assign(load, std::move(v)).first;
        if (told && loadObserver_) loadObserver_(c);
    }
    checked.merge(it->second.stamp);
    if (it->second.complete) lab_.withheldLoads.erase(load);
    else lab_.withheldLoads.insert(load);
}

void FileNamespace::readRings(DirStamp& checked) {
    checked.merge(files_.stamp({"Ringlist.xml"})); // the folder, before it is read
    lab_.rings.clear();
    lab_.ringsWide.clear();
    std::set<std::string> names; // lower case: a file of the folder hides labcm's tone of that name
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(files_.root(), ec)) {
        auto file = e.path().filename().string();
        auto band = ringBandOf(file);
        if (!band || !e.is_regular_file(ec)) continue;
        auto size = e.file_size(ec);
        if (ec) continue;
        if (auto problem = ringFileProblem(file, size); !problem.empty()) {
            if (ringWarned_.size() < limits::kLoadChecksKept && ringWarned_.insert(fmt::format("{}/{}", file, size)).second)
                spdlog::warn("provision: ring file {} is not in the ring lists: {}", file, problem);
            continue;
        }
        names.insert(text::toLower(file));
        (*band == RingBand::Narrow ? lab_.rings : lab_.ringsWide).push_back({file, ringDisplayName(file)});
    }
    for (const auto& file : builtInToneNames())
        if (!names.contains(text::toLower(file)))
            (ringBandOf(file) == RingBand::Narrow ? lab_.rings : lab_.ringsWide).push_back({file, ringDisplayName(file)});
    for (auto* list : {&lab_.rings, &lab_.ringsWide}) {
        std::sort(list->begin(), list->end(), [](const auto& a, const auto& b) { return a.displayName < b.displayName; });
        if (list->size() > kMaxRings) list->resize(kMaxRings);
    }
}

void FileNamespace::readBackgrounds(const std::string& resolution, DirStamp& checked) {
    lab_.backgroundFolder = resolution;
    lab_.backgrounds.clear();
    auto stamp = files_.stamp({"Desktops", resolution, "List.xml"}); // the folders, before they are read
    checked.merge(stamp);
    auto res = backgroundResolution(resolution);
    if (!res || stamp.dirs.size() < 3) return; // no such folder: an empty list
    const auto& folder = stamp.dirs.back().first;
    auto head = [](const std::filesystem::path& p) -> std::optional<std::pair<unsigned, unsigned>> {
        std::ifstream in(p, std::ios::binary);
        std::array<std::uint8_t, kPngHeadBytes> bytes{};
        in.read(reinterpret_cast<char*>(bytes.data()), bytes.size());
        return in ? pngSize(bytes) : std::nullopt;
    };
    std::map<std::string, std::string> names; // lower case -> as stored
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(folder, ec))
        if (e.is_regular_file(ec)) names.emplace(text::toLower(e.path().filename().string()), e.path().filename().string());
    for (const auto& [lower, image] : names) {
        if (!lower.ends_with(".png") || lower.starts_with("tn-")) continue;
        std::optional<std::optional<std::pair<unsigned, unsigned>>> thumbnail;
        auto tn = names.find("tn-" + lower);
        if (tn != names.end()) thumbnail = head(folder / tn->second);
        if (auto problem = backgroundProblem(*res, head(folder / image), thumbnail); !problem.empty()) {
            if (ringWarned_.size() < limits::kLoadChecksKept && ringWarned_.insert(resolution + "/" + image + problem).second)
                spdlog::warn("provision: background Desktops/{}/{} is not offered: {}", resolution, image, problem);
            continue;
        }
        if (lab_.backgrounds.size() < kMaxBackgrounds) lab_.backgrounds.push_back({image, tn->second});
    }
}

bool FileNamespace::fresh(const CacheEntry& e) const {
    if (e.watched) return e.watchGeneration == watch_.generation();
    // A locale file may have come or gone: one stat per folder the lookups went through.
    return e.templateGeneration == templates_.generation() && FilesDir::unchanged(e.dirs);
}

void FileNamespace::store(const std::string& key, CacheEntry entry) {
    // Watched from now on; a change between the render's look and the watch shows in the stats.
    entry.watched = watch_.watch(templateDir_, true);
    for (const auto& [folder, mtime] : entry.dirs.dirs) entry.watched = watch_.watch(folder) && entry.watched;
    entry.watched = entry.watched && templates_.generation() == entry.templateGeneration && FilesDir::unchanged(entry.dirs);
    std::unique_lock lock(cacheMutex_);
    if (cache_.size() >= limits::kRenderCacheEntries && !cache_.contains(key)) return; // full: rendered per request
    cache_[key] = std::move(entry);
}

void FileNamespace::eraseCached(const std::string& key) {
    std::unique_lock lock(cacheMutex_);
    cache_.erase(key);
}

std::size_t FileNamespace::cached() const {
    std::shared_lock lock(cacheMutex_);
    return cache_.size();
}

std::size_t FileNamespace::cachedBytes() const {
    std::shared_lock lock(cacheMutex_);
    std::size_t n = 0;
    for (const auto& [key, e] : cache_) n += e.body.packedSize();
    return n;
}

std::optional<FileResult> FileNamespace::resolveFast(std::string_view rawName) const {
    auto name = parseRequestName(rawName);
    if (auto r = unrendered(name)) return r;
    if (applied_.load(std::memory_order_acquire) != announced_.load(std::memory_order_acquire))
        return std::nullopt; // a change is not applied yet: the io thread answers
    return cachedAnswer(name);
}

std::optional<FileResult> FileNamespace::cachedAnswer(const RequestName& name) const {
    std::shared_lock lock(cacheMutex_);
    auto it = cache_.find(name.lower);
    if (it == cache_.end() || !fresh(it->second)) return std::nullopt;
    FileResult r;
    try {
        r.body = it->second.body.unpack();
    } catch (const std::exception& e) {
        spdlog::error("provision: {} rendered again: {}", name.lower, e.what());
        return std::nullopt;
    }
    ++cacheHits_;
    r.mac = name.mac;
    r.contentType = "text/xml";
    r.kind = FileResult::Kind::Rendered;
    return r;
}

FileResult FileNamespace::rendered(const RequestName& name, bool warming) {
    applyChanges();
    if (auto cached = cachedAnswer(name)) return std::move(*cached);
    FileResult r;
    r.mac = name.mac;
    r.contentType = "text/xml";
    // What the render is made from besides the database, noted before it is read.
    CacheEntry entry;
    entry.watchGeneration = watch_.generation();
    entry.templateGeneration = templates_.generation();
    DirStamp& checked = entry.dirs;
    bool pendingDevice = false;
    std::string kind = name.lower; // what it is packed against: its model's reference, or its own
    try {
        switch (name.kind) {
        case NameKind::DeviceConfig: {
            auto d = store::DeviceStore(reader_).get(name.mac);
            std::string why;
            if (!d && autoRegister_ && !warming) {
                d = autoRegister_(name.mac, why);
                // Not in the database yet: not cached (if its commit fails, no change event
                // would ever drop the file); the commit's DeviceAdded renders it again.
                pendingDevice = d.has_value();
            }
            if (!d) {
                r.kind = FileResult::Kind::NotFound;
                r.reason = fmt::format("no device SEP{} in the database (the phone falls back to XMLDefault.cnf.xml){}",
                                       name.mac, why.empty() ? "" : "; auto-registration: " + why);
                return r;
            }
            auto& in = inputs(d->model, checked);
            checkLoadFiles(namedLoad(*d, in.modelLoads), checked);
            in.devicePhoneSettings = store::PhoneSettingStore(reader_).get("device", d->mac);
            r.body = renderDeviceConfig(*d, in, templates_);
            kind = "sep:" + d->model;
            break;
        }
        case NameKind::DefaultConfig: {
            auto& in = inputs("", checked);
            for (const auto& [model, load] : in.modelLoads) checkLoadFiles(load, checked);
            r.body = renderDefaultConfig(in, templates_);
            break;
        }
        case NameKind::Template: {
            auto& in = inputs("", checked);
            if (name.templateName.starts_with("Ringlist")) readRings(checked);
            if (!name.resolution.empty()) readBackgrounds(name.resolution, checked);
            r.body = renderStatic(name.templateName, in, templates_);
            break;
        }
        default: r.kind = FileResult::Kind::Error; r.reason = "not a rendered file"; return r;
        }
    } catch (const std::exception& e) {
        r.kind = FileResult::Kind::Error;
        r.reason = fmt::format("rendering failed: {}", e.what());
        return r;
    }
    ++renders_;
    r.kind = FileResult::Kind::Rendered;
    if (pendingDevice) return r;
    auto& ref = references_[kind];
    if (!ref) ref = std::make_shared<const PackReference>(r.body);
    entry.body = PackedText::pack(r.body, ref);
    store(name.lower, std::move(entry));
    return r;
}

bool FileNamespace::warm(std::size_t budget) {
    applyChanges();
    while (budget > 0 && !warmQueue_.empty()) {
        if (cached() >= limits::kRenderCacheEntries) {
            warmQueue_.clear();
            break;
        }
        auto name = std::move(warmQueue_.back());
        warmQueue_.pop_back();
        if (std::shared_lock lock(cacheMutex_); cache_.contains(name)) continue;
        auto parsed = parseRequestName(name);
        if (!parsed.ok) continue;
        rendered(parsed, true);
        --budget;
    }
    return !warmQueue_.empty();
}

std::string FileNamespace::configStamp(const std::string& mac) {
    auto f = resolve("SEP" + mac + ".cnf.xml");
    return f.kind == FileResult::Kind::Rendered ? versionStampOf(f.body) : std::string();
}

std::optional<FileResult> FileNamespace::unrendered(const RequestName& name) const {
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
    case NameKind::Template: return std::nullopt;
    case NameKind::File: break;
    }
    std::string refused;
    auto found = files_.find(name.parts, &refused);
    if (!found && refused.empty() && name.parts.size() == 1) {
        if (auto tone = builtInTone(name.parts.front())) { // labcm's own, unless files/ has one of that name
            r.kind = FileResult::Kind::Rendered;
            r.body = std::move(*tone);
            r.contentType = "application/octet-stream";
            return r;
        }
    }
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

FileResult FileNamespace::resolve(std::string_view rawName) {
    auto name = parseRequestName(rawName);
    if (auto r = unrendered(name)) return std::move(*r);
    return rendered(name);
}

} // namespace labcm::provision
