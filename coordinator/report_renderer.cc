#include "coordinator/report_renderer.h"

#include <pthread.h>

#include <csignal>

#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "common/guard.h"
#include "common/text.h"
#include "web/report_analysis.h"
#include "web/report_loader.h"
#include "web/report_render.h"

namespace avctl {

namespace asio = boost::asio;

namespace {

HttpResponse JsonError(const Status& s) {
  // The request's fault (no such sweep, an id beyond range) or the record's.
  const int code = s.code() == StatusCode::kNotFound ? 404 : s.code() == StatusCode::kInvalidArgument ? 400 : 500;
  return {code, "application/json", DumpJson(Json{{"ok", false}, {"error", s.ToString()}}) + "\n"};
}

const char* ContentType(const std::string& name) {
  const auto ends = [&](const char* ext) {
    const std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  return ends(".html")   ? "text/html; charset=utf-8"
         : ends(".csv")  ? "text/csv; charset=utf-8"
         : ends(".json") ? "application/json"
                         : "text/plain; charset=utf-8";
}

}  // namespace

ReportRenderer::ReportRenderer(std::string db_path, asio::io_context& io, Logger* log)
    : db_path_(std::move(db_path)), io_(io), log_(log) {
  // The pool's thread inherits this mask: SIGTERM, SIGINT and SIGHUP keep
  // going to the io_context's thread, as in a single-threaded avcoord.
  sigset_t block, old;
  sigemptyset(&block);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&block, sig);
  ::pthread_sigmask(SIG_BLOCK, &block, &old);
  pool_ = std::make_unique<asio::thread_pool>(1);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

ReportRenderer::~ReportRenderer() { pool_->join(); }

void ReportRenderer::Render(std::string sweep, std::string name, HttpReply reply) {
  asio::post(*pool_, [this, sweep = std::move(sweep), name = std::move(name), reply = std::move(reply)]() mutable {
    HttpResponse r;
    Status st = RunGuarded(fmt::format("rendering {} of sweep {}", SanitizeText(name), SanitizeText(sweep)),
                           [&] { r = RenderNow(sweep, name); });
    if (!st.ok()) {
      log_->Error("report: {}", st.ToString());
      r = JsonError(st);
    }
    asio::post(io_, [reply = std::move(reply), r = std::move(r)]() mutable { reply(std::move(r)); });
  });
}

HttpResponse ReportRenderer::RenderNow(const std::string& sweep, const std::string& name) {
  if (!record_) {
    auto opened = Record::OpenReadOnly(db_path_);
    if (!opened.ok()) {
      log_->Error("report: cannot open the record read-only: {}", opened.status().ToString());
      return JsonError(opened.status());
    }
    record_ = std::move(*opened);
  }
  auto data = LoadReportData(record_.get(), sweep);
  if (!data.ok()) return JsonError(data.status());
  auto files = RenderReport(*data, AnalyzeReport(*data));
  auto it = files.find(name);
  if (it == files.end()) return {404, "text/plain; charset=utf-8", "no such report file: " + SanitizeText(name) + "\n"};
  return {200, ContentType(name), std::move(it->second)};
}

}  // namespace avctl
