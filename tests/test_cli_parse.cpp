// The flag parsers of the gpurnn command (src/cli/cli_parse.cpp): a --dtype of a computation
// names its two choices, never the integer dtypes parse_dtype also knows for files.

#include <gtest/gtest.h>

#include <string>

#include "cli/commands.h"
#include "gpurnn/error.h"

namespace gpurnn::testing {
namespace {

TEST(ParseComputeDtype, AcceptsTheFloatingDtypesByEveryName) {
  for (const char* name : {"f32", "float32", "float"}) EXPECT_EQ(cli::parse_compute_dtype(name, "--dtype"), DType::f32);
  for (const char* name : {"f64", "float64", "double"}) EXPECT_EQ(cli::parse_compute_dtype(name, "--dtype"), DType::f64);
}

TEST(ParseComputeDtype, RefusesOthersNamingTheFlagAndOnlyF32AndF64) {
  for (const std::string text : {"f16", "bf16", "i32", "int64", "u8", "", "F32"}) {
    try {
      cli::parse_compute_dtype(text, "--dtype");
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_EQ(std::string(e.what()), "--dtype " + text + ": expected f32 or f64");
    }
  }
}

}  // namespace
}  // namespace gpurnn::testing
