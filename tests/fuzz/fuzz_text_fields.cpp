// Fuzz the text validators every admin input passes through: MAC parsing, model lookup,
// and the XML-safety check. Properties: a normalised MAC is 12 upper-case hex digits and
// normalises to itself; text that passes checkText has no XML-forbidden control bytes.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/byte_reader.h"
#include "core/device.h"
#include "core/mac.h"
#include "core/models.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);

    if (auto mac = labcm::normalizeMac(text)) {
        if (mac->size() != 12) std::abort();
        for (char c : *mac)
            if (!std::isxdigit(static_cast<unsigned char>(c)) || std::islower(static_cast<unsigned char>(c))) std::abort();
        if (labcm::normalizeMac(*mac) != mac) std::abort();
    }
    if (auto m = labcm::findModel(text))
        if (labcm::findModel(m->name)->typemodel != m->typemodel) std::abort();

    if (!labcm::checkText(text, 1000))
        for (char c : text) {
            auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && u != '\t') || u == 0x7F) std::abort();
        }

    // The byte reader never reads outside its span, whatever sequence of reads is asked.
    labcm::ByteReader r({data, size});
    try {
        while (!r.empty()) {
            switch (r.u8() % 5) {
            case 0: r.u16(); break;
            case 1: r.u32(); break;
            case 2: r.cstring(); break;
            case 3: r.bytes(r.u8()); break;
            default: r.skip(1); break;
            }
        }
    } catch (const labcm::TruncatedError&) {
    }
    return 0;
}
