// Times the PDQ step of Meta's C++ reference in one process: bench/hash-throughput.ts builds this file
// against ../shared/pdq-reference (Meta's unchanged sources, compiled with build.sh's flags) into
// test/.tmp and runs it; nothing of Meta's is copied here, only its public functions are called.
//
//   pdq-reference-timing REPEATS FILE.ppm   (binary P6 RGB or P5 grey)
//   pdq-reference-timing < requests         (lines "REPEATS FILE.ppm", one answer line each)
//
// prints "hash<TAB>quality<TAB>ms,ms,..." : one figure per timed repeat, each the reference's luma
// (fillFloatLumaFromRGB / fillFloatLumaFromGrey) plus pdqHash256FromFloatLuma on the decoded pixels.
// The file is read and the float buffers are allocated and touched once, before an untimed warm-up
// repeat, so the figures hold neither file reading, process start, nor the page faults of fresh
// buffers: only what the reference computes per image.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>
#include "pdq/cpp/downscaling/downscaling.h"
#include "pdq/cpp/hashing/pdqhashing.h"

namespace {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<unsigned char> bytes;
};

bool load(const char* path, Image& image) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int maximum = 0;
  if (!(in >> magic >> image.width >> image.height >> maximum) || maximum != 255) return false;
  if (magic != "P6" && magic != "P5") return false;
  in.get();  // the single whitespace byte after the header
  image.channels = magic == "P6" ? 3 : 1;
  image.bytes.resize(static_cast<size_t>(image.width) * image.height * image.channels);
  in.read(reinterpret_cast<char*>(image.bytes.data()), static_cast<std::streamsize>(image.bytes.size()));
  return static_cast<size_t>(in.gcount()) == image.bytes.size();
}

}  // namespace

// Times `repeats` hashes of one file and prints the answer line; false if the file is unreadable.
bool timeFile(int repeats, const char* path) {
  Image image;
  if (repeats < 1 || !load(path, image)) {
    std::fprintf(stderr, "cannot read %s\n", path);
    return false;
  }
  const int w = image.width;
  const int h = image.height;
  std::vector<float> luma(static_cast<size_t>(w) * h, 0.0f);
  std::vector<float> scratch(static_cast<size_t>(w) * h, 0.0f);
  static float block64[64][64];
  static float block16x64[16][64];
  static float block16[16][16];
  facebook::pdq::hashing::Hash256 hash;
  int quality = 0;
  std::string times;
  for (int run = -1; run < repeats; run++) {
    const auto start = std::chrono::steady_clock::now();
    const unsigned char* p = image.bytes.data();
    if (image.channels == 3) {
      facebook::pdq::downscaling::fillFloatLumaFromRGB(p, p + 1, p + 2, h, w, w * 3, 3, luma.data());
    } else {
      facebook::pdq::downscaling::fillFloatLumaFromGrey(p, h, w, w, 1, luma.data());
    }
    facebook::pdq::hashing::pdqHash256FromFloatLuma(luma.data(), scratch.data(), h, w, block64, block16x64, block16, hash, quality);
    const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    if (run >= 0) times += (times.empty() ? "" : ",") + std::to_string(elapsed.count());
  }
  std::printf("%s\t%d\t%s\n", hash.format().c_str(), quality, times.c_str());
  std::fflush(stdout);
  return true;
}

int main(int argc, char** argv) {
  if (argc == 3) return timeFile(std::atoi(argv[1]), argv[2]) ? 0 : 1;
  if (argc != 1) {
    std::fprintf(stderr, "usage: %s REPEATS FILE.ppm, or request lines \"REPEATS FILE.ppm\" on stdin\n", argv[0]);
    return 2;
  }
  // A long-lived server for benchmarks: the caller starts one process, not one per request.
  int repeats = 0;
  std::string path;
  while (std::cin >> repeats >> path) {
    if (!timeFile(repeats, path.c_str())) return 1;
  }
  return 0;
}
