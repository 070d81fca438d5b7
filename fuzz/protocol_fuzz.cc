// libFuzzer target: the coordinator's and worker's message decoders. The input
// is split into frames at 0xFF bytes (a frame may hold any other byte), so the
// fuzzer reaches the signature, type and JSON body checks of both channels.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> frames(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0xFF) {
      frames.emplace_back();
    } else {
      frames.back().push_back(static_cast<char>(data[i]));
    }
  }
  auto worker = avctl::DecodeWorkerMessage(frames);
  if (worker.ok()) {
    // Whatever decodes must encode again.
    (void)avctl::EncodeWorkerMessageRaw(worker->type, worker->body.dump());
  }
  (void)avctl::DecodeControl(frames);
  return 0;
}
