// UTF-8 checks of parameter values and result strings (issue 12, item 8).
#include "grid/utf8.hpp"

#include <gtest/gtest.h>

#include "mpisweep/grid.hpp"

namespace mpisweep {
namespace {

using detail::first_invalid_utf8;

TEST(Utf8, WellFormedTextHasNoInvalidByte) {
    EXPECT_FALSE(first_invalid_utf8(""));
    EXPECT_FALSE(first_invalid_utf8("plain ascii"));
    EXPECT_FALSE(first_invalid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
    EXPECT_FALSE(first_invalid_utf8("\xf4\x8f\xbf\xbf"));                           // U+10FFFF
}

TEST(Utf8, FirstInvalidByteIsFound) {
    EXPECT_EQ(first_invalid_utf8("ab\xff"), 2u);
    EXPECT_EQ(first_invalid_utf8("\xc0\x80"), 0u);          // overlong NUL
    EXPECT_EQ(first_invalid_utf8("x\xe0\x80\x80"), 1u);     // overlong 3-byte form
    EXPECT_EQ(first_invalid_utf8("\xed\xa0\x80"), 0u);      // a UTF-16 surrogate
    EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
    EXPECT_EQ(first_invalid_utf8("ok\xe2\x82"), 2u);        // cut short
    EXPECT_EQ(first_invalid_utf8("\xe2\x28\xa1"), 0u);      // bad continuation
    EXPECT_EQ(detail::describe_invalid_utf8("ab\xff", 2), "byte 0xff at offset 2");
}

TEST(Utf8, MessagesAreMadeValid) {
    EXPECT_EQ(detail::to_valid_utf8("ok \xff!"), "ok \xef\xbf\xbd!");
    EXPECT_EQ(detail::to_valid_utf8(std::string("a\0b", 3)), "a\\0b");
    EXPECT_EQ(detail::to_valid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(Utf8, ListAxisRefusesNonUtf8AndNulNamingTheValueAndOffset) {
    try {
        Axis::list("name", {Value(std::string("ok")), Value(std::string("b\xfe"))});
        FAIL() << "accepted a value that is not UTF-8";
    } catch (const SpecError& e) {
        EXPECT_STREQ(
            e.what(),
            "param 'name': value 1 is not valid UTF-8 (byte 0xfe at offset 1); parameter values must "
            "be UTF-8 text");
    }
    try {
        Axis::list("name", {Value(std::string("a\0b", 3))});
        FAIL() << "accepted a value with a NUL";
    } catch (const SpecError& e) {
        EXPECT_NE(std::string(e.what()).find("param 'name': value 0 holds a NUL byte at offset 1"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_NO_THROW(Axis::list("name", {Value(std::string("\xc3\xa9t\xc3\xa9"))}));
}

}  // namespace
}  // namespace mpisweep
