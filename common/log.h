// Logger: leveled, timestamped log lines formatted with fmt, as text
// ("2026-11-24T18:44:01.123Z INFO  message") or as one JSON object per line.
// There is no global logger: main() makes one and hands it to what needs it.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace avctl {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

std::string_view LogLevelName(LogLevel level);
// Parses "debug", "info", "warn", "error"; false when unknown.
bool ParseLogLevel(std::string_view text, LogLevel* out);

class Logger {
 public:
  explicit Logger(std::FILE* sink = stderr, LogLevel min_level = LogLevel::kInfo, bool json = false)
      : sink_(sink), min_level_(min_level), json_(json) {}

  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void set_min_level(LogLevel level) { min_level_ = level; }
  void set_json(bool json) { json_ = json; }
  bool enabled(LogLevel level) const { return level >= min_level_; }

  void Log(LogLevel level, std::string_view message);

  template <typename... Args>
  void Debug(fmt::format_string<Args...> f, Args&&... args) { Emit(LogLevel::kDebug, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void Info(fmt::format_string<Args...> f, Args&&... args) { Emit(LogLevel::kInfo, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void Warn(fmt::format_string<Args...> f, Args&&... args) { Emit(LogLevel::kWarn, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void Error(fmt::format_string<Args...> f, Args&&... args) { Emit(LogLevel::kError, f, std::forward<Args>(args)...); }

 private:
  template <typename... Args>
  void Emit(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
    if (!enabled(level)) return;
    Log(level, fmt::format(f, std::forward<Args>(args)...));
  }

  std::FILE* sink_;
  LogLevel min_level_;
  bool json_;
  std::mutex mu_;
};

}  // namespace avctl
