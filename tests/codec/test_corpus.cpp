// Replays the fuzzer's seed corpus through the fuzzer's decode routine.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "codec/decode_any.hpp"

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(CodecCorpus, EveryFileDecodesOrRaisesDecodeError) {
  const std::filesystem::path dir = WEFT_CODEC_CORPUS_DIR;
  int files = 0;
  int decoded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    SCOPED_TRACE(entry.path().filename().string());
    const std::string bytes = read_file(entry.path());
    EXPECT_NO_THROW(decoded += weft::codec::testing::decode_any(bytes));
    ++files;
  }
  EXPECT_GE(files, 10);
  EXPECT_GT(decoded, 0);  // the corpus holds valid values too, not only garbage
}

}  // namespace
