#include "provision/firmware_import.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <memory>
#include <random>
#include <set>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/locales.h"
#include "provision/firmware.h"

namespace labcm::provision {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void refuse(const std::string& why) { throw FirmwareImportError(why); }

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool nestedArchive(const std::string& name) {
    auto l = lower(name);
    return l.ends_with(".tar") || l.ends_with(".tar.gz") || l.ends_with(".tgz") || l.ends_with(".zip");
}

// A package read from a byte offset (a COP's gzip stream starts after its signed header).
struct Source {
    std::FILE* file = nullptr;
    std::int64_t base = 0;
    std::array<char, 64 * 1024> buffer{};
};

la_ssize_t readSource(archive*, void* data, const void** out) {
    auto* s = static_cast<Source*>(data);
    *out = s->buffer.data();
    auto n = std::fread(s->buffer.data(), 1, s->buffer.size(), s->file);
    return std::ferror(s->file) ? -1 : static_cast<la_ssize_t>(n);
}

la_int64_t seekSource(archive*, void* data, la_int64_t offset, int whence) {
    auto* s = static_cast<Source*>(data);
    if (whence == SEEK_SET) offset += s->base;
    if (fseeko(s->file, offset, whence) != 0) return ARCHIVE_FATAL;
    return ftello(s->file) - s->base;
}

// libarchive's last error, which it may not have set.
std::string errorOf(archive* a) {
    const char* e = archive_error_string(a);
    return e ? e : "no reason given by libarchive";
}

struct ArchiveCloser {
    void operator()(archive* a) const { archive_read_free(a); }
};

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

// The folder a package is staged in; removed with whatever is left in it.
class Staging {
public:
    explicit Staging(const fs::path& root) {
        std::random_device rd;
        for (int attempt = 0; attempt < 16; ++attempt) {
            auto p = root / fmt::format(".labcm-import-{}-{:08x}", ::getpid(), rd());
            std::error_code ec;
            if (fs::create_directory(p, ec)) {
                path_ = p;
                return;
            }
            if (ec && ec != std::errc::file_exists) refuse(fmt::format("cannot create a folder in {}: {}", root.string(), ec.message()));
        }
        refuse("cannot create a staging folder in " + root.string());
    }
    ~Staging() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

bool sameBytes(const fs::path& a, const fs::path& b) {
    std::error_code ec1, ec2;
    if (fs::file_size(a, ec1) != fs::file_size(b, ec2) || ec1 || ec2) return false;
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    std::array<char, 64 * 1024> ba{}, bb{};
    while (fa && fb) {
        fa.read(ba.data(), ba.size());
        fb.read(bb.data(), bb.size());
        if (fa.gcount() != fb.gcount() || std::memcmp(ba.data(), bb.data(), static_cast<std::size_t>(fa.gcount())) != 0)
            return false;
    }
    return fa.eof() && fb.eof();
}

// Where an entry goes in the staging folder, by its path's components; nullopt: ignored.
using Placement = std::function<std::optional<fs::path>(const std::vector<std::string>& parts)>;

std::vector<std::string> pathParts(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find_first_of("/\\", start);
        if (end == std::string::npos) end = path.size();
        auto part = path.substr(start, end - start);
        if (!part.empty() && part != ".") parts.push_back(part);
        start = end + 1;
    }
    return parts;
}

class Importer {
public:
    /// `place` empty: every file by its name alone (a firmware package is flat).
    explicit Importer(const fs::path& staging, Placement place = {}) : staging_(staging), place_(std::move(place)) {}

    void readPackage(const fs::path& package, const std::string& label, int depth) {
        std::unique_ptr<std::FILE, FileCloser> file(std::fopen(package.c_str(), "rb"));
        if (!file) refuse(fmt::format("cannot open {}: {}", label, std::strerror(errno)));
        std::vector<std::uint8_t> head(limits::kFirmwareHeadSearch);
        head.resize(std::fread(head.data(), 1, head.size(), file.get()));
        Source source;
        source.file = file.get();
        source.base = static_cast<std::int64_t>(archiveStart(head));
        if (fseeko(file.get(), source.base, SEEK_SET) != 0) refuse(fmt::format("cannot read {}", label));

        std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
        archive_read_support_filter_gzip(a.get());
        archive_read_support_filter_bzip2(a.get());
        archive_read_support_filter_xz(a.get());
        archive_read_support_format_zip(a.get());
        archive_read_support_format_tar(a.get());
        archive_read_set_callback_data(a.get(), &source);
        archive_read_set_read_callback(a.get(), readSource);
        archive_read_set_seek_callback(a.get(), seekSource);
        if (archive_read_open1(a.get()) != ARCHIVE_OK)
            refuse(fmt::format("{} is truncated or damaged, or not a zip, tar or COP package: {}", label, errorOf(a.get())));
        archive_entry* entry = nullptr;
        for (;;) {
            int r = archive_read_next_header(a.get(), &entry);
            if (r == ARCHIVE_EOF) break;
            if (r != ARCHIVE_OK)
                refuse(fmt::format("{} is truncated or damaged: {}", label, errorOf(a.get())));
            readEntry(a.get(), entry, label, depth);
        }
    }

    std::uint64_t bytes() const { return total_; }
    /// Entries whose names are not plain (never named by a .loads), by their paths.
    const std::vector<std::string>& ignored() const { return ignored_; }
    /// @brief True when `name` (lower case) came twice with different bytes.
    bool conflicting(const std::string& name) const { return conflicts_.contains(name); }

private:
    void readEntry(archive* a, archive_entry* entry, const std::string& label, int depth) {
        if (++entries_ > limits::kFirmwareImportMaxEntries)
            refuse(fmt::format("{} holds more than {} entries", label, limits::kFirmwareImportMaxEntries));
        const char* raw = archive_entry_pathname(entry);
        std::string path = raw ? raw : "";
        auto type = archive_entry_filetype(entry);
        if (archive_entry_hardlink(entry) || archive_entry_symlink(entry) || type == AE_IFLNK)
            refuse(fmt::format("{}: '{}' is a link; a firmware package holds plain files", label, path));
        if (type != AE_IFREG && type != AE_IFDIR)
            refuse(fmt::format("{}: '{}' is not a plain file", label, path));
        auto name = entryFileName(path, type == AE_IFDIR);
        if (name.empty()) return; // a folder: its files carry their own names
        if (!plainFileName(name)) {
            ignored_.push_back(path); // never named by a .loads (their names are plain)
            return;
        }
        if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > static_cast<la_int64_t>(limits::kFirmwareImportMaxFile))
            refuse(fmt::format("{}: '{}' says it is {} bytes; a firmware file is at most {}", label, path,
                               archive_entry_size(entry), limits::kFirmwareImportMaxFile));
        bool nested = depth < limits::kFirmwareImportDepth && nestedArchive(name);
        fs::path place = name;
        if (!nested && place_) {
            auto p = place_(pathParts(path));
            if (!p) {
                ignored_.push_back(path);
                return;
            }
            place = *p;
            fs::create_directories(staging_ / place.parent_path());
        }
        auto target = staging_ / (nested ? fs::path(fmt::format(".nested-{}", ++nestedCount_)) : place);
        bool duplicate = !nested && fs::exists(target);
        if (duplicate) target = staging_ / ".duplicate";
        copyData(a, target, label, path);
        if (nested) {
            readPackage(target, label + ": " + path, depth + 1);
            fs::remove(target);
        } else if (duplicate) {
            // The same name twice (one package's folders, or a nested tar beside its files):
            // fine when the bytes agree; refused at the end if the name is one to take.
            if (!sameBytes(target, staging_ / place)) conflicts_.insert(lower(place.string()));
            fs::remove(target);
        }
    }

    void copyData(archive* a, const fs::path& target, const std::string& label, const std::string& path) {
        int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) refuse(fmt::format("cannot write {}: {}", target.string(), std::strerror(errno)));
        std::uint64_t size = 0;
        std::array<char, 64 * 1024> buffer{};
        for (;;) {
            auto n = archive_read_data(a, buffer.data(), buffer.size());
            if (n == 0) break;
            if (n < 0) {
                ::close(fd);
                refuse(fmt::format("{} is truncated or damaged at '{}': {}", label, path, errorOf(a)));
            }
            size += static_cast<std::uint64_t>(n);
            total_ += static_cast<std::uint64_t>(n);
            if (size > limits::kFirmwareImportMaxFile || total_ > limits::kFirmwareImportMaxTotal) {
                ::close(fd);
                refuse(fmt::format("{}: '{}' goes past the limits ({} bytes a file, {} in all)", label, path,
                                   limits::kFirmwareImportMaxFile, limits::kFirmwareImportMaxTotal));
            }
            for (const char* p = buffer.data(); n > 0;) {
                auto w = ::write(fd, p, static_cast<std::size_t>(n));
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) {
                    auto err = std::strerror(errno);
                    ::close(fd);
                    refuse(fmt::format("cannot write {}: {}", target.string(), err));
                }
                p += w;
                n -= w;
            }
        }
        // On disk before it is renamed into place: a crash leaves the old file or the whole new one.
        if (::fsync(fd) != 0 || ::close(fd) != 0) refuse(fmt::format("cannot write {}: {}", target.string(), std::strerror(errno)));
    }

    fs::path staging_;
    Placement place_;
    std::vector<std::string> ignored_;
    std::set<std::string> conflicts_; ///< lower-case names found twice with other bytes
    std::uint64_t total_ = 0;
    std::size_t entries_ = 0;
    int nestedCount_ = 0;
};

std::vector<std::uint8_t> readAll(const fs::path& p, std::size_t max) {
    std::ifstream in(p, std::ios::binary);
    std::vector<std::uint8_t> bytes(std::min<std::size_t>(fs::file_size(p), max));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return bytes;
}

} // namespace

std::size_t archiveStart(std::span<const std::uint8_t> head) {
    auto at = [&](std::size_t i, std::initializer_list<std::uint8_t> magic) {
        return head.size() >= i + magic.size() && std::equal(magic.begin(), magic.end(), head.begin() + static_cast<std::ptrdiff_t>(i));
    };
    auto gzip = [&](std::size_t i) { return at(i, {0x1f, 0x8b, 0x08}); };
    if (at(0, {'P', 'K', 3, 4}) || at(0, {'P', 'K', 5, 6}) || gzip(0) || at(0, {'B', 'Z', 'h'}) ||
        at(0, {0xfd, '7', 'z', 'X', 'Z', 0}) || at(257, {'u', 's', 't', 'a', 'r'}))
        return 0;
    // A COP: tag 1 (version), tag 2 (header length, u16 big-endian at offset 8), then gzip.
    if (head.size() >= 10 && head[0] == 1 && head[1] == 0 && head[2] == 2 && head[5] == 2 && head[6] == 0 && head[7] == 2) {
        std::size_t length = (std::size_t{head[8]} << 8) | head[9];
        if (gzip(length)) return length;
    }
    for (std::size_t i = 1; i + 3 <= head.size(); ++i)
        if (gzip(i)) return i;
    refuse("not a firmware package: neither a zip nor a tar, and no gzip stream after a signed header");
}

std::string entryFileName(const std::string& path, bool directory) {
    if (path.empty()) refuse("an entry without a name");
    if (path.front() == '/' || path.front() == '\\' || (path.size() > 1 && path[1] == ':'))
        refuse(fmt::format("'{}' is an absolute path", path));
    std::string last;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find_first_of("/\\", start);
        if (end == std::string::npos) end = path.size();
        auto part = path.substr(start, end - start);
        if (part == "..") refuse(fmt::format("'{}' leaves the folder ('..')", path));
        if (!part.empty() && part != ".") last = part;
        start = end + 1;
    }
    bool endsInSlash = path.back() == '/' || path.back() == '\\';
    if (directory || endsInSlash) return {};
    return last;
}

bool plainFileName(std::string_view s) {
    if (s.empty() || s.size() > limits::kMaxRequestName || s.front() == '.') return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
    });
}

FirmwareImport importFirmware(const fs::path& package, const FilesDir& files, std::string label) {
    if (label.empty()) label = package.filename().string();
    std::error_code ec;
    if (!fs::is_regular_file(package, ec)) refuse(fmt::format("{} is not a file", package.string()));
    fs::create_directories(files.root(), ec);
    Staging staging(files.root());
    Importer importer(staging.path());
    importer.readPackage(package, label, 0);

    FirmwareImport out;
    out.bytes = importer.bytes();
    out.ignored = importer.ignored();
    std::vector<std::string> staged, loadsFiles;
    for (const auto& e : fs::directory_iterator(staging.path())) {
        auto name = e.path().filename().string();
        if (name.front() == '.') continue;
        staged.push_back(name);
        if (lower(name).ends_with(".loads")) loadsFiles.push_back(name);
    }
    std::sort(loadsFiles.begin(), loadsFiles.end());
    if (loadsFiles.empty()) refuse(fmt::format("{} holds no .loads file: not a phone firmware package", label));
    // Every image of every platform section a .loads names: in the package, or already here.
    FilesDir inPackage(staging.path());
    std::set<std::string> images; // staged names to take
    for (const auto& l : loadsFiles) {
        auto listed = parseLoads(readAll(staging.path() / l, limits::kMaxLoadsFile)).images;
        if (listed.empty()) refuse(fmt::format("{} names no image file", l));
        for (const auto& img : listed) {
            if (auto found = inPackage.findName(img)) images.insert(found->path.filename().string());
            else if (!files.findName(img))
                refuse(fmt::format("{} names {}, which is neither in the package nor in {}", l, img, files.root().string()));
        }
        out.loads.push_back(l.substr(0, l.size() - std::string_view(".loads").size()));
    }
    for (const auto& name : staged) {
        bool taken = images.contains(name) || std::find(loadsFiles.begin(), loadsFiles.end(), name) != loadsFiles.end();
        if (taken && importer.conflicting(lower(name)))
            refuse(fmt::format("{}: two different files named {}", label, name));
        if (!taken) out.ignored.push_back(name);
    }
    std::sort(out.ignored.begin(), out.ignored.end());
    std::vector<std::string> imageList(images.begin(), images.end());
    // Into place: images first, so a phone that sees a .loads finds what it names.
    for (const auto* group : {&imageList, &loadsFiles})
        for (const auto& name : *group) {
            auto from = staging.path() / name;
            auto existing = files.findName(name);
            auto to = existing ? existing->path : files.root() / name;
            if (existing && sameBytes(from, to)) {
                out.unchanged.push_back(name);
                continue;
            }
            fs::rename(from, to, ec);
            if (ec) refuse(fmt::format("cannot move {} into {}: {}", name, files.root().string(), ec.message()));
            (existing ? out.replaced : out.added).push_back(name);
        }
    if (int dir = ::open(files.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return out;
}

namespace {

// A locale installer's entries: usr/local/cm/tftp/<Locale>/<files> (usr/locale/... in some),
// or a tar of locale folders: the folder and what is in it; anything else is ignored.
std::optional<fs::path> localePlace(const std::vector<std::string>& parts) {
    std::size_t start = 0;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i)
        if (auto l = lower(parts[i]); l == "tftp" || l == "locale") start = i + 1;
    if (parts.size() < start + 2) return std::nullopt; // not inside a locale folder
    fs::path out;
    for (std::size_t i = start; i < parts.size(); ++i) {
        if (!plainFileName(parts[i])) return std::nullopt;
        out /= parts[i];
    }
    return out;
}

// A locale given as a folder: its files, by their paths inside it, into staging/<its name>/.
std::uint64_t stageFolder(const fs::path& folder, const fs::path& staging, std::vector<std::string>& ignored) {
    auto name = folder.filename().empty() ? folder.parent_path().filename() : folder.filename();
    if (!plainFileName(name.string())) refuse(fmt::format("'{}' is not a locale folder name (letters, digits, . _ + -)", name.string()));
    std::uint64_t total = 0;
    std::size_t entries = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (++entries > limits::kFirmwareImportMaxEntries)
            refuse(fmt::format("{} holds more than {} entries", folder.string(), limits::kFirmwareImportMaxEntries));
        auto rel = fs::relative(it->path(), folder);
        if (it->is_symlink()) refuse(fmt::format("{}: '{}' is a link; a locale holds plain files", folder.string(), rel.string()));
        if (it->is_directory()) continue;
        if (!it->is_regular_file()) refuse(fmt::format("{}: '{}' is not a plain file", folder.string(), rel.string()));
        auto place = localePlace(pathParts((name / rel).string()));
        if (!place) {
            ignored.push_back(rel.string());
            continue;
        }
        total += it->file_size();
        if (it->file_size() > limits::kFirmwareImportMaxFile || total > limits::kFirmwareImportMaxTotal)
            refuse(fmt::format("{}: '{}' goes past the limits", folder.string(), rel.string()));
        fs::create_directories(staging / place->parent_path());
        fs::copy_file(it->path(), staging / *place, ec);
        if (ec) refuse(fmt::format("cannot copy {}: {}", it->path().string(), ec.message()));
    }
    if (ec) refuse(fmt::format("cannot read {}: {}", folder.string(), ec.message()));
    return total;
}

} // namespace

LocaleInstall installLocale(const fs::path& source, const FilesDir& files, std::string label) {
    if (label.empty()) label = source.filename().string();
    std::error_code ec;
    bool folder = fs::is_directory(source, ec);
    if (!folder && !fs::is_regular_file(source, ec)) refuse(fmt::format("{} is not a file or folder", source.string()));
    fs::create_directories(files.root(), ec);
    Staging staging(files.root());
    LocaleInstall out;
    if (folder) {
        out.bytes = stageFolder(source, staging.path(), out.ignored);
    } else {
        Importer importer(staging.path(), localePlace);
        importer.readPackage(source, label, 0);
        out.bytes = importer.bytes();
        out.ignored = importer.ignored();
    }
    std::vector<fs::path> locales;
    for (const auto& e : fs::directory_iterator(staging.path()))
        if (e.is_directory() && e.path().filename().string().front() != '.') locales.push_back(e.path());
    std::sort(locales.begin(), locales.end());
    if (locales.empty()) refuse(fmt::format("{} holds no locale folder (<Locale>/<files>, or usr/local/cm/tftp/<Locale>/...)",
                                            label));
    for (const auto& l : locales) {
        auto name = l.filename().string();
        bool user = false, network = false;
        for (const auto& f : fs::recursive_directory_iterator(l)) {
            auto kind = localeFileKind(f.path().filename().string());
            user = user || kind == LocaleFileKind::User;
            network = network || kind == LocaleFileKind::Network;
        }
        (user ? out.user : network ? out.network : out.other).push_back(name);
        // In place of the folder of that name (case ignored): the old one moves into the
        // staging folder (removed with it), the new one takes its place.
        fs::path target = files.root() / name;
        for (const auto& e : fs::directory_iterator(files.root()))
            if (e.is_directory() && lower(e.path().filename().string()) == lower(name) &&
                !e.path().filename().string().starts_with("."))
                target = e.path();
        if (fs::exists(target)) {
            fs::rename(target, staging.path() / (".old-" + name), ec);
            if (ec) refuse(fmt::format("cannot replace {}: {}", target.string(), ec.message()));
        }
        fs::rename(l, files.root() / name, ec);
        if (ec) refuse(fmt::format("cannot move {} into {}: {}", name, files.root().string(), ec.message()));
    }
    return out;
}

} // namespace labcm::provision

namespace labcm::provision {

int removeLeftovers(const FilesDir& files) {
    int removed = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(files.root(), ec)) {
        auto name = e.path().filename().string();
        std::string_view rest = name;
        if (rest.starts_with(".labcm-import-")) rest.remove_prefix(14);
        else if (rest.starts_with(".labcm-upload-")) rest.remove_prefix(14);
        else continue;
        long pid = 0;
        auto [end, err] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
        if (err != std::errc() || end == rest.data() || *end != '-' || pid <= 0) continue;
        // Alive (or not ours to signal): kept. Only a pid that no longer exists frees its files.
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        std::error_code rm;
        fs::remove_all(e.path(), rm);
        if (!rm) ++removed;
    }
    return removed;
}

fs::path createUploadFile(const FilesDir& files) {
    std::error_code ec;
    fs::create_directories(files.root(), ec);
    std::random_device rd;
    for (int attempt = 0; attempt < 16; ++attempt) {
        auto p = files.root() / fmt::format(".labcm-upload-{}-{:08x}", ::getpid(), rd());
        int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ::close(fd);
            return p;
        }
        if (errno != EEXIST) refuse(fmt::format("cannot create a file in {}: {}", files.root().string(), std::strerror(errno)));
    }
    refuse("cannot create an upload file in " + files.root().string());
}

} // namespace labcm::provision
