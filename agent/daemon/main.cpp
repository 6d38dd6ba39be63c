// neutron-wireguard-agent: parses the command line and configuration, sets up logging and signals, and
// runs the Agent (agent.cpp). Exit status: 0 success; 1 a failure (for --once: a hub not realized);
// 2 a bad command line or configuration.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "config/agent_config.h"
#include "config/command_line.h"
#include "daemon/agent.h"
#include "keys/key.h"
#include "logging/log.h"

namespace {

constexpr const char* kProgram = "neutron-wireguard-agent";

// Signals are handled by one thread with sigwait(): every other thread is created with them blocked.
sigset_t handledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);  // internal: ends the signal thread when the agent returns by itself
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t signals = handledSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto command_line = nwg::config::CommandLine::parse(argc, argv);
  if (!command_line.ok()) {
    std::cerr << kProgram << ": " << command_line.error().message << "\n" << nwg::config::CommandLine::usage(kProgram);
    return 2;
  }
  if (command_line->help) {
    std::cout << nwg::config::CommandLine::usage(kProgram);
    return 0;
  }
  if (command_line->version) {
    std::cout << kProgram << " " << NWG_VERSION << "\n";
    return 0;
  }
  nwg::logging::Log log("networking_wireguard.agent");
  auto config = nwg::config::AgentConfig::load(*command_line);
  if (!config.ok()) {
    log.error("configuration: ", config.error().message);
    return 2;
  }
  nwg::logging::LoggerOptions logger_options;
  logger_options.debug = config->debug;
  logger_options.log_file = config->log_file;
  logger_options.log_dir = config->log_dir;
  logger_options.use_stderr = config->use_stderr;
  if (auto s = nwg::logging::Logger::global().configure(logger_options); !s.ok()) {
    log.error("logging: ", s.error().message);
    return 2;
  }
  if (auto s = nwg::initCrypto(); !s.ok()) {
    log.error(s.error().message);
    return 1;
  }
  auto agent = nwg::daemon::Agent::create(*config);
  if (!agent.ok()) {
    log.error(agent.error().message);
    return 1;
  }

  nwg::daemon::Agent& running = **agent;
  std::thread signal_thread([&] {
    while (true) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        if (auto s = nwg::logging::Logger::global().reopen(); !s.ok()) log.error("reopen log: ", s.error().message);
        continue;
      }
      if (sig != SIGUSR1) log.info("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ", stopping");
      running.stop();
      return;
    }
  });
  int code = config->once ? running.runOnce() : running.run();
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  return code;
}
