// A Logger writing to a temporary file, for tests that check what reaches a log line.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "logging/log.h"
#include "logging/logger.h"

namespace nwg::rpc::testing {

class LogCapture {
 public:
  explicit LogCapture(bool debug = false) {
    static int n = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("nwg-rpc-log-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(dir_);
    logging::LoggerOptions o;
    o.log_file = (dir_ / "test.log").string();
    o.debug = debug;
    (void)logger_.configure(o);
  }
  ~LogCapture() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  logging::Log log(const std::string& name = "networking_wireguard.agent.rpc") {
    return logging::Log(name, logger_);
  }
  std::vector<std::string> lines() const {
    std::ifstream in(dir_ / "test.log");
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  std::string text() const {
    std::ifstream in(dir_ / "test.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::filesystem::path dir_;
  logging::Logger logger_;
};

}  // namespace nwg::rpc::testing
