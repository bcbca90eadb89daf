// Unit tests of subinterp::Config: the presets and validate(), which must
// reject every combination CPython 3.12/3.13 would accept but mishandle,
// before CPython sees it.
#include <gtest/gtest.h>

#include <climits>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "subinterp/config.hpp"
#include "subinterp/error.hpp"

namespace {

using subinterp::Config;
using subinterp::ErrorCode;
using subinterp::Gil;

constexpr int kDefault = static_cast<int>(Gil::Default);
constexpr int kShared = static_cast<int>(Gil::Shared);
constexpr int kOwn = static_cast<int>(Gil::Own);

std::string describe(const Config& c) {
    std::ostringstream os;
    os << "{use_main_obmalloc=" << c.use_main_obmalloc << ", allow_fork=" << c.allow_fork
              << ", allow_exec=" << c.allow_exec << ", allow_threads=" << c.allow_threads
              << ", allow_daemon_threads=" << c.allow_daemon_threads
              << ", check_multi_interp_extensions=" << c.check_multi_interp_extensions << ", gil=" << c.gil << "}";
    return os.str();
}

// Config{...} field by field, so each table row reads as the struct it tests.
Config make(int use_main_obmalloc, int allow_fork, int allow_exec, int allow_threads, int allow_daemon_threads,
            int check_multi_interp_extensions, int gil) {
    Config c;
    c.use_main_obmalloc = use_main_obmalloc;
    c.allow_fork = allow_fork;
    c.allow_exec = allow_exec;
    c.allow_threads = allow_threads;
    c.allow_daemon_threads = allow_daemon_threads;
    c.check_multi_interp_extensions = check_multi_interp_extensions;
    c.gil = gil;
    return c;
}

// --- presets -------------------------------------------------------------------------

// The presets are what subinterp.h documents for SUBINTERP_CONFIG_ISOLATED /
// SUBINTERP_CONFIG_LEGACY and what subinterp_get_config() reports for main.
TEST(ConfigPresets, IsolatedIsOwnGilOwnAllocatorNoForkExecOrDaemons) {
    const Config c = Config::isolated();
    EXPECT_EQ(c.use_main_obmalloc, 0);
    EXPECT_EQ(c.allow_fork, 0);
    EXPECT_EQ(c.allow_exec, 0);
    EXPECT_EQ(c.allow_threads, 1);
    EXPECT_EQ(c.allow_daemon_threads, 0);
    EXPECT_EQ(c.check_multi_interp_extensions, 1);
    EXPECT_EQ(c.gil, kOwn);
    EXPECT_TRUE(c.has_own_gil());
}

TEST(ConfigPresets, DefaultConstructedIsIsolated) {
    const Config a;
    const Config b = Config::isolated();
    EXPECT_EQ(a.use_main_obmalloc, b.use_main_obmalloc);
    EXPECT_EQ(a.allow_fork, b.allow_fork);
    EXPECT_EQ(a.allow_exec, b.allow_exec);
    EXPECT_EQ(a.allow_threads, b.allow_threads);
    EXPECT_EQ(a.allow_daemon_threads, b.allow_daemon_threads);
    EXPECT_EQ(a.check_multi_interp_extensions, b.check_multi_interp_extensions);
    EXPECT_EQ(a.gil, b.gil);
}

TEST(ConfigPresets, LegacyAllowsEverythingOnTheSharedGil) {
    const Config c = Config::legacy();
    EXPECT_EQ(c.use_main_obmalloc, 1);
    EXPECT_EQ(c.allow_fork, 1);
    EXPECT_EQ(c.allow_exec, 1);
    EXPECT_EQ(c.allow_threads, 1);
    EXPECT_EQ(c.allow_daemon_threads, 1);
    EXPECT_EQ(c.check_multi_interp_extensions, 0);
    EXPECT_EQ(c.gil, kShared);
    EXPECT_FALSE(c.has_own_gil());
}

TEST(ConfigPresets, MainMatchesWhatCPythonGivesTheMainInterpreter) {
    const Config c = Config::main();
    EXPECT_EQ(c.use_main_obmalloc, 1);
    EXPECT_EQ(c.allow_fork, 1);
    EXPECT_EQ(c.allow_exec, 1);
    EXPECT_EQ(c.allow_threads, 1);
    EXPECT_EQ(c.allow_daemon_threads, 1);
    EXPECT_EQ(c.check_multi_interp_extensions, 0);
    EXPECT_EQ(c.gil, kOwn);
    EXPECT_TRUE(c.has_own_gil());
}

TEST(ConfigPresets, IsolatedAndLegacyValidate) {
    EXPECT_NO_THROW(Config::isolated().validate());
    EXPECT_NO_THROW(Config::legacy().validate());
}

// main() describes the main interpreter (main allocator *and* its own GIL),
// which is exactly the pairing validate() must refuse for a new
// sub-interpreter; so main() is a description, not a creatable config.
TEST(ConfigPresets, MainIsRejectedAsASubInterpreterConfig) {
    try {
        Config::main().validate();
        FAIL() << "Config::main() validated";
    } catch (const subinterp::Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
        EXPECT_NE(e.message().find("use_main_obmalloc"), std::string::npos) << e.message();
    }
}

// --- valid combinations --------------------------------------------------------------

struct ValidCase {
    const char* name;
    Config config;
};

std::ostream& operator<<(std::ostream& os, const ValidCase& c) { return os << c.name << " " << describe(c.config); }

class ConfigValid : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ConfigValid, Validates) { EXPECT_NO_THROW(GetParam().config.validate()) << describe(GetParam().config); }

INSTANTIATE_TEST_SUITE_P(
    Combinations, ConfigValid,
    ::testing::Values(
        ValidCase{"isolated", Config::isolated()},
        ValidCase{"legacy", Config::legacy()},
        // An own allocator does not need an own GIL.
        ValidCase{"own_obmalloc_shared_gil", make(0, 0, 0, 1, 0, 1, kShared)},
        ValidCase{"own_obmalloc_default_gil", make(0, 0, 0, 1, 0, 1, kDefault)},
        ValidCase{"main_obmalloc_default_gil", make(1, 1, 1, 1, 1, 0, kDefault)},
        // The extension check is allowed (not required) with the main allocator.
        ValidCase{"main_obmalloc_with_extension_check", make(1, 0, 0, 1, 0, 1, kShared)},
        ValidCase{"no_threads_at_all", make(0, 0, 0, 0, 0, 1, kOwn)},
        ValidCase{"legacy_without_threads", make(1, 1, 1, 0, 0, 0, kShared)},
        ValidCase{"threads_without_daemons", make(1, 1, 1, 1, 0, 0, kShared)},
        ValidCase{"fork_and_exec_with_own_gil", make(0, 1, 1, 1, 1, 1, kOwn)},
        ValidCase{"everything_off_shared", make(1, 0, 0, 0, 0, 0, kShared)}),
    [](const auto& info) { return std::string(info.param.name); });

// --- invalid combinations ------------------------------------------------------------

struct InvalidCase {
    std::string name;
    Config config;
    // Every one of these must appear in the message, so the caller can tell
    // which field to fix.
    std::vector<std::string> mentions;
};

std::ostream& operator<<(std::ostream& os, const InvalidCase& c) { return os << c.name << " " << describe(c.config); }

class ConfigInvalid : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(ConfigInvalid, ThrowsConfigErrorNamingTheField) {
    const InvalidCase& c = GetParam();
    try {
        c.config.validate();
        FAIL() << "validated: " << describe(c.config);
    } catch (const subinterp::Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config) << e.message();
        for (const std::string& word : c.mentions) {
            EXPECT_NE(e.message().find(word), std::string::npos) << "'" << word << "' not in: " << e.message();
        }
        EXPECT_FALSE(e.python().has_value());
    }
}

// A non-boolean value in one field of a base config that is otherwise valid
// even when that field reads as "true" (so only the boolean check can fire).
std::vector<InvalidCase> non_boolean_cases() {
    struct Field {
        const char* name;
        int Config::*member;
        Config base;
    };
    // use_main_obmalloc=true would also clash with an own GIL: use legacy.
    const Field fields[] = {
        {"use_main_obmalloc", &Config::use_main_obmalloc, Config::legacy()},
        {"allow_fork", &Config::allow_fork, Config::isolated()},
        {"allow_exec", &Config::allow_exec, Config::isolated()},
        {"allow_threads", &Config::allow_threads, Config::isolated()},
        {"allow_daemon_threads", &Config::allow_daemon_threads, Config::isolated()},
        {"check_multi_interp_extensions", &Config::check_multi_interp_extensions, Config::isolated()},
    };
    std::vector<InvalidCase> cases;
    for (int value : {2, -1, INT_MAX, INT_MIN}) {
        for (const Field& field : fields) {
            Config config = field.base;
            config.*field.member = value;
            std::string name = std::string(field.name) + "_" + (value < 0 ? "minus" : "") +
                               std::to_string(value < 0 ? -static_cast<long long>(value) : value);
            cases.push_back(InvalidCase{std::move(name), config, {field.name, std::to_string(value)}});
        }
    }
    return cases;
}

INSTANTIATE_TEST_SUITE_P(NonBoolean, ConfigInvalid, ::testing::ValuesIn(non_boolean_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Combinations, ConfigInvalid,
    ::testing::Values(
        InvalidCase{"gil_minus1", make(0, 0, 0, 1, 0, 1, -1), {"gil", "-1"}},
        InvalidCase{"gil_3", make(0, 0, 0, 1, 0, 1, 3), {"gil", "3"}},
        InvalidCase{"gil_int_max", make(1, 1, 1, 1, 1, 0, INT_MAX), {"gil"}},
        // CPython 3.12/3.13 accept this and then share one allocator between
        // two GILs.
        InvalidCase{"main_obmalloc_with_own_gil", make(1, 0, 0, 1, 0, 1, kOwn), {"use_main_obmalloc", "gil"}},
        InvalidCase{"legacy_with_own_gil", make(1, 1, 1, 1, 1, 0, kOwn), {"use_main_obmalloc", "gil"}},
        InvalidCase{"own_obmalloc_without_extension_check",
                    make(0, 0, 0, 1, 0, 0, kShared),
                    {"use_main_obmalloc", "check_multi_interp_extensions"}},
        InvalidCase{"isolated_without_extension_check",
                    make(0, 0, 0, 1, 0, 0, kOwn),
                    {"use_main_obmalloc", "check_multi_interp_extensions"}},
        InvalidCase{"daemon_threads_without_threads",
                    make(1, 1, 1, 0, 1, 0, kShared),
                    {"allow_daemon_threads", "allow_threads"}},
        InvalidCase{"isolated_daemon_threads_without_threads",
                    make(0, 0, 0, 0, 1, 1, kOwn),
                    {"allow_daemon_threads", "allow_threads"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigHasOwnGil, OnlyForGilOwn) {
    EXPECT_TRUE(make(0, 0, 0, 1, 0, 1, kOwn).has_own_gil());
    EXPECT_FALSE(make(0, 0, 0, 1, 0, 1, kShared).has_own_gil());
    EXPECT_FALSE(make(0, 0, 0, 1, 0, 1, kDefault).has_own_gil());
}

}  // namespace
