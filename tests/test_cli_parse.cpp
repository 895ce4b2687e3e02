// The flag parsers of the gpurnn command (src/cli/cli_parse.cpp): a --dtype of a computation
// names its choices, never the integer dtypes parse_dtype also knows for files. `run` computes
// in f32, f64, bf16 or f16; `train` in f32 or f64, or bf16 as mixed precision, and says why not
// f16 (issue 30).

#include <gtest/gtest.h>

#include <string>

#include "cli/commands.h"
#include "gpurnn/error.h"

namespace gpurnn::testing {
namespace {

TEST(ParseComputeDtype, AcceptsTheFloatingDtypesByEveryName) {
  for (const char* name : {"f32", "float32", "float"}) EXPECT_EQ(cli::parse_compute_dtype(name, "--dtype"), DType::f32);
  for (const char* name : {"f64", "float64", "double"}) EXPECT_EQ(cli::parse_compute_dtype(name, "--dtype"), DType::f64);
  for (const char* name : {"bf16", "bfloat16"}) EXPECT_EQ(cli::parse_compute_dtype(name, "--dtype"), DType::bf16);
  for (const char* name : {"f16", "float16", "half"}) EXPECT_EQ(cli::parse_compute_dtype(name, "--dtype"), DType::f16);
}

TEST(ParseComputeDtype, RefusesOthersNamingTheFlagAndTheFloatingDtypes) {
  for (const std::string text : {"i32", "int64", "u8", "", "F32"}) {
    try {
      cli::parse_compute_dtype(text, "--dtype");
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_EQ(std::string(e.what()), "--dtype " + text + ": expected f32, f64, bf16 or f16");
    }
  }
}

TEST(ParseTrainDtype, AcceptsF32F64AndBf16) {
  for (const char* name : {"f32", "float32", "float"}) EXPECT_EQ(cli::parse_train_dtype(name, "--dtype"), DType::f32);
  for (const char* name : {"f64", "float64", "double"}) EXPECT_EQ(cli::parse_train_dtype(name, "--dtype"), DType::f64);
  for (const char* name : {"bf16", "bfloat16"}) EXPECT_EQ(cli::parse_train_dtype(name, "--dtype"), DType::bf16);
}

TEST(ParseTrainDtype, RefusesF16SayingWhyAndOthersNamingTheChoices) {
  for (const std::string text : {"f16", "float16", "half"}) {
    try {
      cli::parse_train_dtype(text, "--dtype");
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("--dtype " + text + ": training in f16 needs loss scaling", 0), 0u) << what;
      EXPECT_NE(what.find("use --dtype bf16"), std::string::npos) << what;
    }
  }
  for (const std::string text : {"i32", "u8", "", "F32"}) {
    try {
      cli::parse_train_dtype(text, "--dtype");
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_EQ(std::string(e.what()), "--dtype " + text + ": expected f32, f64 or bf16");
    }
  }
}

}  // namespace
}  // namespace gpurnn::testing
