// Rendered files kept small in memory. A phone's SEP file is ~6.6 KiB and differs from the
// next phone's of its model in a few dozen bytes (name, lines, stamp), so each is kept as a
// zstd frame against a reference text of its kind (a raw-content dictionary: the first file
// of that kind rendered): ~80 bytes instead of ~6.6 KiB, and a few microseconds to unpack.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace labcm::provision {

/// A text others are packed against. Immutable; shared by every PackedText packed with it,
/// so it lives as long as the last of them.
class PackReference {
public:
    explicit PackReference(std::string text) : text_(std::move(text)) {}
    std::string_view text() const { return text_; }

private:
    std::string text_;
};

class PackedText {
public:
    PackedText() = default;
    /// @brief Packs `text` against `ref` (or alone when ref is null); kept as is when packing
    /// does not make it smaller. Any thread.
    static PackedText pack(std::string_view text, std::shared_ptr<const PackReference> ref);

    /// @brief The text packed. Any thread. Throws std::runtime_error on a corrupt frame.
    std::string unpack() const;
    /// @brief Bytes of the text / bytes held (its reference not counted).
    std::size_t size() const { return size_; }
    std::size_t packedSize() const { return bytes_.size(); }

private:
    /// Kept as is: packing keeps only frames smaller than the text.
    bool raw() const { return bytes_.size() == size_; }

    std::shared_ptr<const PackReference> ref_; ///< null when bytes_ is the text itself or packed alone
    std::string bytes_;
    std::size_t size_ = 0;
};

} // namespace labcm::provision
