// neutron-wireguard-agent: parses the command line and configuration, hardens the process, sets up
// logging and signals, and runs the Agent (agent.cpp). Exit status: 0 success; 1 a failure (for
// --once: a hub not realized); 2 a bad command line or configuration; 70 an unexpected exception (the
// service manager restarts the agent; devices and tunnels stay up meanwhile).
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <system_error>
#include <thread>

#include "config/agent_config.h"
#include "config/command_line.h"
#include "daemon/agent.h"
#include "daemon/allocator.h"
#include "daemon/process_hardening.h"
#include "keys/key.h"
#include "logging/log.h"

namespace {

constexpr const char* kProgram = "neutron-wireguard-agent";
constexpr int kExitUnexpected = 70;  // EX_SOFTWARE

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

// The process's first code: block the signals the signal thread will handle, before any other
// constructor runs, so that a SIGTERM during start-up waits for the agent to be able to stop cleanly
// instead of killing it half-way (only the dynamic loader and a sanitizer's runtime come earlier).
// The raw system call: the C library's wrappers may not be set up yet.
__attribute__((constructor(101))) void blockHandledSignalsEarly() {
  sigset_t set = handledSignals();
  ::syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, nullptr, _NSIG / 8);
}

}  // namespace

int run(int argc, char** argv);

// The barrier of the main thread: an exception that reached here is a bug or an exhausted resource;
// say so and exit deliberately rather than with std::terminate's abort (which would try to dump core).
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    nwg::logging::Log("networking_wireguard.agent").error("unexpected exception, exiting: ", e.what());
  } catch (...) {
    nwg::logging::Log("networking_wireguard.agent").error("unexpected exception, exiting");
  }
  return kExitUnexpected;
}

int run(int argc, char** argv) {
  // Before any thread exists (docs/scale.md: memory at 10,000 spokes).
  nwg::daemon::tuneAllocator();
  // Before anything reads a key: no core dumps, no ptrace by others.
  if (auto s = nwg::daemon::hardenProcess(); !s.ok()) {
    std::cerr << kProgram << ": " << s.error().message << "\n";
    return 1;
  }
  sigset_t signals = handledSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto command_line = nwg::config::CommandLine::parse(argc, argv);
  if (!command_line.ok()) {
    std::cerr << kProgram << ": " << command_line.error().message << "\n"
              << nwg::config::CommandLine::usage(kProgram);
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
  std::thread signal_thread;
  try {
    signal_thread = std::thread([&] {
      while (true) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0) continue;
        try {
          if (sig == SIGHUP) {
            if (auto s = nwg::logging::Logger::global().reopen(); !s.ok())
              log.error("reopen log: ", s.error().message);
            continue;
          }
          if (sig != SIGUSR1) log.info("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ", stopping");
          running.stop();
        } catch (const std::exception& e) {
          // The signal thread's barrier: stop anyway, so that a SIGTERM is never lost.
          log.error("handling signal ", sig, ": ", e.what());
          if (sig != SIGHUP) running.stop();
        }
        if (sig != SIGHUP) return;
      }
    });
  } catch (const std::system_error& e) {
    log.error("cannot start the signal thread: ", e.what());
    return 1;
  }
  int code = config->once ? running.runOnce() : running.run();
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  return code;
}
