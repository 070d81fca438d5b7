// Renders a sweep's report for the HTTP API away from the coordinator's
// io_context: loading and rendering a large sweep takes long enough to hold
// up heartbeats and dispatch. One background thread with its own read-only
// connection to the record (it sees what the rounds have committed); the
// reply is posted back to the io_context.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "common/log.h"
#include "coordinator/http_server.h"
#include "db/record.h"

namespace avctl {

class ReportRenderer {
 public:
  ReportRenderer(std::string db_path, boost::asio::io_context& io, Logger* log);
  // Waits for a render in progress.
  ~ReportRenderer();
  ReportRenderer(const ReportRenderer&) = delete;
  ReportRenderer& operator=(const ReportRenderer&) = delete;

  // Renders file `name` ("index.html", "table.csv", ...) of the report of
  // `sweep` (id or name) and calls `reply` with it on the io_context.
  void Render(std::string sweep, std::string name, HttpReply reply);

 private:
  HttpResponse RenderNow(const std::string& sweep, const std::string& name);  // on the pool's thread

  std::string db_path_;
  boost::asio::io_context& io_;
  Logger* log_;
  std::unique_ptr<Record> record_;  // opened and used on the pool's thread only
  std::unique_ptr<boost::asio::thread_pool> pool_;  // its thread blocks the signals the io_context handles
};

}  // namespace avctl
