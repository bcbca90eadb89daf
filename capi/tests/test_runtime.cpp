// Runtime modes, explicit start with options, finalize. Each test runs in its
// own process (gtest_discover_tests), so each starts from a fresh runtime.
#include <cstdlib>
#include <string>
#include <thread>

#include "helpers.hpp"

using namespace subinterp_test;

TEST(Runtime, FirstUseStartsEmbedMode) {
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_NONE);
    Err e;
    int64_t main_id = -1;
    ASSERT_OK(subinterp_main_id(&main_id, e.out()), e);
    EXPECT_EQ(main_id, 0);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_EMBED);
}

TEST(Runtime, ExplicitInitWithOptions) {
    subinterp_runtime_options opts;
    ASSERT_EQ(subinterp_runtime_options_init(&opts), SUBINTERP_OK);
    EXPECT_EQ(opts.struct_size, sizeof opts);
    EXPECT_EQ(opts.import_site, 1);
    EXPECT_EQ(opts.install_signal_handlers, 0);
    opts.import_site = 0;
    opts.python_home = SUBINTERP_TEST_PYTHON_PREFIX;
    Err e;
    ASSERT_OK(subinterp_runtime_init(&opts, e.out()), e);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_EMBED);
    int64_t id = create();
    exec_ok(id, "import sys\nassert 'site' not in sys.modules, sorted(sys.modules)\n"
                "assert sys.prefix == " "'" SUBINTERP_TEST_PYTHON_PREFIX "'" ", sys.prefix\n");
}

TEST(Runtime, InitTwice) {
    Err e;
    ASSERT_OK(subinterp_runtime_init(nullptr, e.out()), e);
    EXPECT_OK(subinterp_runtime_init(nullptr, e.out()), e);  // idempotent without options
    subinterp_runtime_options opts;
    subinterp_runtime_options_init(&opts);
    EXPECT_EQ(subinterp_runtime_init(&opts, e.out()), SUBINTERP_ERR_RUNTIME);
    EXPECT_NE(e.message().find("already started"), std::string::npos) << e.message();
}

TEST(Runtime, BadPythonHomeIsRefusedAndRetryable) {
    subinterp_runtime_options opts;
    subinterp_runtime_options_init(&opts);
    opts.python_home = "/nonexistent/python/home";
    Err e;
    EXPECT_EQ(subinterp_runtime_init(&opts, e.out()), SUBINTERP_ERR_RUNTIME);
    EXPECT_NE(e.message().find("/nonexistent/python/home"), std::string::npos) << e.message();
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_NONE);
    // Nothing reached CPython, so a correct start still works.
    e.reset();
    ASSERT_OK(subinterp_runtime_init(nullptr, e.out()), e);
    exec_ok(create(), "import math");
}

TEST(Runtime, PythonHomeFromEnvironment) {
    setenv("SUBINTERP_PYTHON_HOME", "/nonexistent/from/env", 1);
    Err e;
    int64_t id = 0;
    EXPECT_EQ(subinterp_create(nullptr, &id, e.out()), SUBINTERP_ERR_RUNTIME);
    EXPECT_NE(e.message().find("/nonexistent/from/env"), std::string::npos) << e.message();
    unsetenv("SUBINTERP_PYTHON_HOME");
}

TEST(Runtime, OptionsStructSizeChecked) {
    subinterp_runtime_options opts;
    subinterp_runtime_options_init(&opts);
    Err e;
    opts.struct_size = 4;
    EXPECT_EQ(subinterp_runtime_init(&opts, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    opts.struct_size = sizeof opts + 8;
    EXPECT_EQ(subinterp_runtime_init(&opts, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_runtime_options_init(nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_NONE);
}

TEST(Runtime, StdlibExtensionModulesImport) {
    const int64_t id = create();
    exec_ok(id, "import math, _json, _struct, json, struct, array, _random, select, zlib\n"
                "assert math.sqrt(16) == 4.0\n"
                "assert json.loads('[1]') == [1]\n"
                "assert struct.pack('<i', 1) == b'\\x01\\x00\\x00\\x00'\n");
    exec_ok(0, "import math, _json\nassert math.floor(2.5) == 2\n");
}

TEST(Runtime, FinalizeDestroysInterpretersAndIsFinal) {
    const int64_t a = create();
    const int64_t b = create();
    exec_ok(a, "x = 1");
    Err e;
    ASSERT_OK(subinterp_runtime_finalize(e.out()), e);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_FINALIZED);
    EXPECT_EQ(subinterp_exec(a, "pass", nullptr, nullptr, e.out()), SUBINTERP_ERR_RUNTIME);
    e.reset();
    EXPECT_EQ(subinterp_destroy(b, e.out()), SUBINTERP_ERR_RUNTIME);
    e.reset();
    EXPECT_EQ(subinterp_runtime_init(nullptr, e.out()), SUBINTERP_ERR_RUNTIME);
    EXPECT_NE(e.message().find("finalized"), std::string::npos) << e.message();
    EXPECT_OK(subinterp_runtime_finalize(e.out()), e);  // finalizing again is a no-op
}

TEST(Runtime, FinalizeBeforeStartIsNoOp) {
    Err e;
    EXPECT_OK(subinterp_runtime_finalize(e.out()), e);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_NONE);
}

TEST(Runtime, FinalizeFromAnotherThread) {
    const int64_t id = create();
    exec_ok(id, "import threading\nx = 1");
    exec_ok(0, "import threading");
    subinterp_status status = -1;
    std::thread([&] {
        Err e;
        status = subinterp_runtime_finalize(e.out());
        EXPECT_EQ(status, SUBINTERP_OK) << e.message();
    }).join();
    EXPECT_EQ(status, SUBINTERP_OK);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_FINALIZED);
}

TEST(Runtime, FinalizeWhileRunningIsBusy) {
    const int64_t id = create();
    exec_ok(id, "import time\nrelease = False");
    std::thread runner([&] { exec_ok(id, "while not release: time.sleep(0.001)"); });
    int running = 0;
    while (!running) subinterp_is_running(id, &running, nullptr);
    Err e;
    EXPECT_EQ(subinterp_runtime_finalize(e.out()), SUBINTERP_ERR_BUSY);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_EMBED);
    Data yes = make_bool(true);
    Data key = make_str("release");
    Data names = make_dict({key.get()}, {yes.get()});
    e.reset();
    ASSERT_OK(subinterp_prepare_main(id, names.get(), e.out()), e);
    runner.join();
    ASSERT_OK(subinterp_runtime_finalize(e.out()), e);
}

TEST(Runtime, Versions) {
    EXPECT_EQ(subinterp_version(), static_cast<unsigned>(SUBINTERP_VERSION_NUMBER));
    EXPECT_STREQ(subinterp_version_string(), "0.1.0");
    const uint32_t hex = subinterp_python_version();
    EXPECT_EQ(hex >> 24, 3u);
    EXPECT_GE((hex >> 16) & 0xFF, 12u);
    const std::string text = subinterp_python_version_string();
    EXPECT_EQ(text.rfind("3." + std::to_string((hex >> 16) & 0xFF) + ".", 0), 0u) << text;
    // The version the library was built for is the one that runs.
    const int64_t id = create();
    exec_ok(id, "import sys\nv = sys.hexversion");
    Data v = call(id, "int", make_tuple({}).get());  // int() == 0: call path works
    EXPECT_EQ(as_int(v.get()), 0);
    Data hexversion = call(id, "sys:hexversion.__index__");
    EXPECT_EQ(static_cast<uint32_t>(as_int(hexversion.get())), hex);
}
