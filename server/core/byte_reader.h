// Bounds-checked reading of wire bytes for every codec. A read past the end throws
// TruncatedError naming what was being read and where; nothing ever indexes with a length
// taken off the wire without checking it against what is left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace labcm {

/// @brief Thrown when a codec reads past the end of its input.
class TruncatedError : public std::runtime_error {
public:
    TruncatedError(std::string_view what, std::size_t offset, std::size_t wanted, std::size_t left);
    std::size_t offset() const { return offset_; }

private:
    std::size_t offset_;
};

/// @brief Big-endian (network order) reader over a byte span it does not own.
class ByteReader {
public:
    explicit ByteReader(std::span<const std::uint8_t> data) : data_(data) {}

    std::size_t offset() const { return pos_; }
    std::size_t remaining() const { return data_.size() - pos_; }
    bool empty() const { return pos_ == data_.size(); }

    /// @throw TruncatedError when fewer bytes are left than the read needs.
    std::uint8_t u8(std::string_view what = "u8");
    std::uint16_t u16(std::string_view what = "u16");
    std::uint32_t u32(std::string_view what = "u32");
    /// @brief The next n bytes, as a view into the input.
    std::span<const std::uint8_t> bytes(std::size_t n, std::string_view what = "bytes");
    /// @brief Bytes up to (not including) the next NUL; the NUL is consumed.
    /// @throw TruncatedError when no NUL is found before the end.
    std::string_view cstring(std::string_view what = "string");
    void skip(std::size_t n, std::string_view what = "skip") { (void)bytes(n, what); }
    /// @brief Everything not read yet; the reader ends up empty.
    std::span<const std::uint8_t> rest();

private:
    void need(std::size_t n, std::string_view what) const;

    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
};

} // namespace labcm
