// Unit tests of subinterp::utf8: the validator every str value and all source
// text goes through. It must accept exactly what Python's "strict" UTF-8
// codec accepts, and point at the first byte that is not well formed.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "subinterp/error.hpp"
#include "subinterp/utf8.hpp"

namespace {

using subinterp::utf8::find_invalid;
using subinterp::utf8::require_valid;

// std::string_view from a literal, embedded NULs included.
template <std::size_t N>
std::string_view bytes(const char (&text)[N]) {
    return std::string_view(text, N - 1);
}

// Shortest-form UTF-8 of a scalar value, written independently of the
// library so the two can be checked against each other.
std::string encode(uint32_t cp) {
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
}

// A reference validator built the other way round from the library's (decode
// by bit pattern, then reject overlong forms, surrogates and values above
// U+10FFFF), used to cross-check it over large sets of inputs.
std::optional<std::size_t> reference_find_invalid(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length;
        uint32_t cp;
        if (lead < 0x80) {
            length = 1, cp = lead;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2, cp = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3, cp = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4, cp = lead & 0x07;
        } else {
            return i;
        }
        if (text.size() - i < length) return i;
        for (std::size_t k = 1; k < length; ++k) {
            const auto byte = static_cast<unsigned char>(text[i + k]);
            if ((byte & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (byte & 0x3F);
        }
        static constexpr uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < smallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += length;
    }
    return std::nullopt;
}

std::string hex(std::string_view text) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        out += "\\x";
        out += digits[c >> 4];
        out += digits[c & 0xF];
    }
    return out;
}

// --- well-formed text ----------------------------------------------------------

struct WellFormed {
    const char* name;
    std::string_view text;
};

std::ostream& operator<<(std::ostream& os, const WellFormed& c) { return os << c.name << " " << hex(c.text); }

class Utf8WellFormed : public ::testing::TestWithParam<WellFormed> {};

TEST_P(Utf8WellFormed, IsAccepted) {
    EXPECT_EQ(find_invalid(GetParam().text), std::nullopt);
    EXPECT_NO_THROW(require_valid(GetParam().text, "text"));
}

// The first and last code point of every row of the Unicode table of
// well-formed byte sequences, where an off-by-one in a range would show.
INSTANTIATE_TEST_SUITE_P(
    Boundaries, Utf8WellFormed,
    ::testing::Values(WellFormed{"empty", bytes("")},
                      WellFormed{"U_0000", bytes("\0")},
                      WellFormed{"U_007F", bytes("\x7F")},
                      WellFormed{"U_0080", bytes("\xC2\x80")},
                      WellFormed{"U_07FF", bytes("\xDF\xBF")},
                      WellFormed{"U_0800", bytes("\xE0\xA0\x80")},
                      WellFormed{"U_0FFF", bytes("\xE0\xBF\xBF")},
                      WellFormed{"U_1000", bytes("\xE1\x80\x80")},
                      WellFormed{"U_CFFF", bytes("\xEC\xBF\xBF")},
                      WellFormed{"U_D000", bytes("\xED\x80\x80")},
                      WellFormed{"U_D7FF", bytes("\xED\x9F\xBF")},
                      WellFormed{"U_E000", bytes("\xEE\x80\x80")},
                      WellFormed{"U_FEFF_bom", bytes("\xEF\xBB\xBF")},
                      WellFormed{"U_FFFE_noncharacter", bytes("\xEF\xBF\xBE")},
                      WellFormed{"U_FFFF", bytes("\xEF\xBF\xBF")},
                      WellFormed{"U_10000", bytes("\xF0\x90\x80\x80")},
                      WellFormed{"U_3FFFF", bytes("\xF0\xBF\xBF\xBF")},
                      WellFormed{"U_40000", bytes("\xF1\x80\x80\x80")},
                      WellFormed{"U_FFFFF", bytes("\xF3\xBF\xBF\xBF")},
                      WellFormed{"U_100000", bytes("\xF4\x80\x80\x80")},
                      WellFormed{"U_10FFFF", bytes("\xF4\x8F\xBF\xBF")},
                      WellFormed{"mixed_text", bytes("a\0b \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 z")}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Utf8WellFormedAll, EveryScalarValueIsAccepted) {
    for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        if (cp == 0xD800) cp = 0xE000;  // surrogates are not scalar values
        const std::string text = "x" + encode(cp) + "y";
        ASSERT_EQ(find_invalid(text), std::nullopt) << "U+" << std::hex << cp << " " << hex(text);
    }
}

// --- ill-formed text -------------------------------------------------------------

struct IllFormed {
    const char* name;
    std::string_view text;
    std::size_t offset;  // of the first byte that is not well formed
};

std::ostream& operator<<(std::ostream& os, const IllFormed& c) {
    return os << c.name << " " << hex(c.text) << " at " << c.offset;
}

class Utf8IllFormed : public ::testing::TestWithParam<IllFormed> {};

TEST_P(Utf8IllFormed, ReportsOffsetOfFirstBadSequence) { EXPECT_EQ(find_invalid(GetParam().text), GetParam().offset); }

TEST_P(Utf8IllFormed, RequireValidThrowsInvalidArgumentNamingWhatAndOffset) {
    try {
        require_valid(GetParam().text, "the_thing");
        FAIL() << "no exception";
    } catch (const subinterp::Error& e) {
        EXPECT_EQ(e.code(), subinterp::ErrorCode::InvalidArgument);
        EXPECT_NE(e.message().find("the_thing"), std::string::npos) << e.message();
        EXPECT_NE(e.message().find(std::to_string(GetParam().offset)), std::string::npos) << e.message();
    }
}

INSTANTIATE_TEST_SUITE_P(
    EveryClass, Utf8IllFormed,
    ::testing::Values(
        // Bytes that never occur in UTF-8.
        IllFormed{"ff_after_ascii", bytes("ab\xFF"), 2},
        IllFormed{"fe", bytes("\xFE"), 0},
        IllFormed{"c0_alone", bytes("\xC0"), 0},
        IllFormed{"f5_lead", bytes("\xF5\x80\x80\x80"), 0},
        IllFormed{"f8_lead", bytes("\xF8\x88\x80\x80\x80"), 0},
        // Continuation bytes with no lead.
        IllFormed{"lone_continuation_80", bytes("\x80"), 0},
        IllFormed{"lone_continuation_bf", bytes("a\xBF"), 1},
        IllFormed{"extra_continuation", bytes("\xC3\xA9\x80"), 2},
        // Overlong forms.
        IllFormed{"overlong_nul_c0_80", bytes("\xC0\x80"), 0},
        IllFormed{"overlong_c1_bf", bytes("\xC1\xBF"), 0},
        IllFormed{"overlong_3byte_e0_80_80", bytes("\xE0\x80\x80"), 0},
        IllFormed{"overlong_3byte_e0_9f_bf", bytes("\xE0\x9F\xBF"), 0},
        IllFormed{"overlong_4byte_f0_80_80_80", bytes("\xF0\x80\x80\x80"), 0},
        IllFormed{"overlong_4byte_f0_8f_bf_bf", bytes("\xF0\x8F\xBF\xBF"), 0},
        // Surrogate code points.
        IllFormed{"surrogate_d800", bytes("\xED\xA0\x80"), 0},
        IllFormed{"surrogate_dfff", bytes("x\xED\xBF\xBF"), 1},
        IllFormed{"surrogate_pair_as_cesu8", bytes("\xED\xA0\xBD\xED\xB8\x80"), 0},
        // Above U+10FFFF.
        IllFormed{"above_10ffff_f4_90", bytes("\xF4\x90\x80\x80"), 0},
        IllFormed{"above_10ffff_f4_bf", bytes("\xF4\xBF\xBF\xBF"), 0},
        // Truncated sequences, at the end and before other text.
        IllFormed{"truncated_2byte", bytes("a\xC3"), 1},
        IllFormed{"truncated_3byte", bytes("\xE2\x82"), 0},
        IllFormed{"truncated_3byte_lead_only", bytes("\xE2"), 0},
        IllFormed{"truncated_4byte", bytes("\xF0\x9F\x98"), 0},
        IllFormed{"truncated_before_ascii", bytes("\xE2\x82" "A"), 0},
        // A non-continuation byte inside a sequence.
        IllFormed{"bad_second_byte", bytes("\xC3" "A"), 0},
        IllFormed{"bad_third_byte", bytes("\xE2\x82\xC0"), 0},
        IllFormed{"bad_fourth_byte", bytes("\xF0\x9F\x98" "A"), 0},
        // Offsets count bytes, not code points, and NUL does not end the text.
        IllFormed{"after_2byte_char", bytes("\xC3\xA9\xFF"), 2},
        IllFormed{"after_3byte_char", bytes("\xE2\x82\xAC\x80"), 3},
        IllFormed{"after_4byte_char", bytes("\xF0\x9F\x98\x80\xC0\x80"), 4},
        IllFormed{"after_embedded_nul", bytes("a\0\xFF"), 2},
        IllFormed{"first_of_several", bytes("ok\xFF\xFF\x80"), 2}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Utf8IllFormedAll, EverySurrogateIsRejected) {
    for (uint32_t cp = 0xD800; cp <= 0xDFFF; ++cp) {
        const std::string text = "ab" + encode(cp);
        ASSERT_EQ(find_invalid(text), std::optional<std::size_t>(2)) << "U+" << std::hex << cp;
    }
}

TEST(Utf8IllFormedAll, EveryOverlongFormIsRejected) {
    // Each code point below 0x10000 written one byte longer than needed.
    for (uint32_t cp = 0; cp < 0x10000; ++cp) {
        std::string text;
        if (cp < 0x80) {
            text = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
        } else if (cp < 0x800) {
            text = {static_cast<char>(0xE0), static_cast<char>(0x80 | (cp >> 6)),
                    static_cast<char>(0x80 | (cp & 0x3F))};
        } else {
            text = {static_cast<char>(0xF0), static_cast<char>(0x80 | (cp >> 12)),
                    static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
        }
        ASSERT_EQ(find_invalid(text), std::optional<std::size_t>(0)) << "U+" << std::hex << cp << " " << hex(text);
    }
}

TEST(Utf8IllFormedAll, AboveMaximumIsRejected) {
    for (uint32_t cp = 0x110000; cp <= 0x1FFFFF; cp += 0x1001) {
        const std::string text = "z" + encode(cp);
        ASSERT_EQ(find_invalid(text), std::optional<std::size_t>(1)) << "U+" << std::hex << cp;
    }
}

// --- exhaustive cross-check ----------------------------------------------------------

// Every string of up to three bytes, and every four-byte string whose last
// two bytes sit on a continuation-byte boundary, against the reference.
TEST(Utf8CrossCheck, AllShortStringsMatchReference) {
    std::string text;
    for (uint32_t n = 0; n < 256; ++n) {
        text.assign(1, static_cast<char>(n));
        ASSERT_EQ(find_invalid(text), reference_find_invalid(text)) << hex(text);
    }
    for (uint32_t n = 0; n < (1u << 16); ++n) {
        text = {static_cast<char>(n >> 8), static_cast<char>(n)};
        ASSERT_EQ(find_invalid(text), reference_find_invalid(text)) << hex(text);
    }
    for (uint32_t n = 0; n < (1u << 24); ++n) {
        text = {static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
        const auto expected = reference_find_invalid(text);
        if (find_invalid(text) != expected) FAIL() << hex(text);
    }
    static constexpr unsigned char edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
    for (uint32_t n = 0; n < (1u << 16); ++n) {
        for (unsigned char third : edges) {
            for (unsigned char fourth : edges) {
                text = {static_cast<char>(n >> 8), static_cast<char>(n), static_cast<char>(third),
                        static_cast<char>(fourth)};
                const auto expected = reference_find_invalid(text);
                if (find_invalid(text) != expected) FAIL() << hex(text);
            }
        }
    }
}

// --- require_valid -------------------------------------------------------------------

TEST(Utf8RequireValid, AcceptsValidTextWithoutThrowing) {
    EXPECT_NO_THROW(require_valid("", "source"));
    EXPECT_NO_THROW(require_valid(bytes("print('\xC3\xA9')\0"), "source"));
}

TEST(Utf8RequireValid, MessageNamesTheArgumentAndByte) {
    try {
        require_valid(bytes("ab\xFF"), "source");
        FAIL() << "no exception";
    } catch (const subinterp::Error& e) {
        EXPECT_EQ(e.code(), subinterp::ErrorCode::InvalidArgument);
        EXPECT_NE(e.message().find("source"), std::string::npos) << e.message();
        EXPECT_NE(e.message().find("UTF-8"), std::string::npos) << e.message();
        EXPECT_NE(e.message().find('2'), std::string::npos) << e.message();
        EXPECT_FALSE(e.python().has_value());
    }
}

}  // namespace
