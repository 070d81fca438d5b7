#include "worker/torch_build.h"

#include <cctype>

namespace avctl {

namespace {

// The value of "NAME=" in a comma-separated settings line, up to the next
// comma (or the end).
std::string Setting(const std::string& text, const std::string& name) {
  const std::string key = name + "=";
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_')) continue;
    const size_t from = at + key.size();
    size_t end = text.find_first_of(",\n", from);
    if (end == std::string::npos) end = text.size();
    std::string v = text.substr(from, end - from);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
    return v;
  }
  return "";
}

}  // namespace

TorchBuild ParseTorchBuild(const std::string& show_config) {
  TorchBuild b;
  b.version = Setting(show_config, "TORCH_VERSION");
  b.cuda = Setting(show_config, "USE_CUDA") == "ON";
  b.cuda_version = Setting(show_config, "CUDA_VERSION");
  b.cudnn_version = Setting(show_config, "CUDNN_VERSION");
  const std::string flag = "-D_GLIBCXX_USE_CXX11_ABI=";
  if (const size_t at = show_config.find(flag); at != std::string::npos && at + flag.size() < show_config.size()) {
    b.cxx11_abi = show_config.substr(at + flag.size(), 1);
  }
  return b;
}

std::string ParseNvidiaDriverVersion(const std::string& proc_text) {
  // The first word of the NVRM line that reads as a version (550.54.15),
  // whatever the module's wording ("Kernel Module", "Open Kernel Module for x86_64").
  const size_t line = proc_text.find("NVRM version:");
  if (line == std::string::npos) return "";
  const size_t end = proc_text.find('\n', line);
  const std::string text = proc_text.substr(line, end == std::string::npos ? std::string::npos : end - line);
  size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
    size_t stop = at;
    while (stop < text.size() && !std::isspace(static_cast<unsigned char>(text[stop]))) ++stop;
    const std::string word = text.substr(at, stop - at);
    bool version = !word.empty() && word.find('.') != std::string::npos && std::isdigit(static_cast<unsigned char>(word[0]));
    for (char c : word) version = version && (std::isdigit(static_cast<unsigned char>(c)) || c == '.');
    if (version) return word;
    at = stop;
  }
  return "";
}

}  // namespace avctl
