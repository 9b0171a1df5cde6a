#include "provision/packed_text.h"

#include <stdexcept>

#include <zstd.h>

namespace labcm::provision {
namespace {

// Level 1: the reference carries the ratio (a SEP file against its model's reference packs
// ~80:1 at any level); a higher level only costs the io thread more per render.
constexpr int kLevel = 1;

struct CtxFree {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread: the io thread packs, any file-serving thread unpacks.
ZSTD_CCtx* packer() {
    thread_local std::unique_ptr<ZSTD_CCtx, CtxFree> c(ZSTD_createCCtx());
    return c.get();
}

ZSTD_DCtx* unpacker() {
    thread_local std::unique_ptr<ZSTD_DCtx, CtxFree> d(ZSTD_createDCtx());
    return d.get();
}

} // namespace

PackedText PackedText::pack(std::string_view text, std::shared_ptr<const PackReference> ref) {
    PackedText p;
    p.size_ = text.size();
    std::string out(ZSTD_compressBound(text.size()), '\0');
    auto dict = ref ? ref->text() : std::string_view();
    auto* ctx = packer();
    std::size_t n = ctx ? ZSTD_compress_usingDict(ctx, out.data(), out.size(), text.data(), text.size(), dict.data(),
                                                  dict.size(), kLevel)
                        : 0;
    if (!ctx || ZSTD_isError(n) || n >= text.size()) {
        p.bytes_.assign(text);
        return p;
    }
    out.resize(n);
    out.shrink_to_fit();
    p.bytes_ = std::move(out);
    p.ref_ = std::move(ref);
    return p;
}

std::string PackedText::unpack() const {
    if (raw()) return bytes_;
    std::string out(size_, '\0');
    auto dict = ref_ ? ref_->text() : std::string_view();
    auto* ctx = unpacker();
    if (!ctx) throw std::runtime_error("cannot unpack a cached file: out of memory");
    std::size_t n = ZSTD_decompress_usingDict(ctx, out.data(), out.size(), bytes_.data(), bytes_.size(), dict.data(),
                                              dict.size());
    if (ZSTD_isError(n) || n != size_)
        throw std::runtime_error(std::string("cannot unpack a cached file: ") +
                                 (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size"));
    return out;
}

} // namespace labcm::provision
