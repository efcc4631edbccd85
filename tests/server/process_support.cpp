#include "process_support.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>

extern char** environ;

namespace civicperf::server::test {

namespace fs = std::filesystem;

child::child(std::vector<std::string> args, child_options options) {
  int out[2];
  int err[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  args.insert(args.begin(), CIVICPERF_SERVER_EXE);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  for (auto& e : options.env_extra) env_store.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  // fork + exec rather than posix_spawn: the child may change its user, and
  // it dies with the test (PR_SET_PDEATHSIG) instead of outliving a crash.
  // Only async-signal-safe calls between fork and exec.
  const char* dir = options.working_directory.empty() ? nullptr : options.working_directory.c_str();
  const bool switch_user = options.uid.has_value();
  const uid_t uid = options.uid.value_or(0);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(125);
    if (::dup2(out[1], STDOUT_FILENO) < 0 || ::dup2(err[1], STDERR_FILENO) < 0) ::_exit(126);
    if (dir != nullptr && ::chdir(dir) != 0) ::_exit(126);
    if (switch_user && (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0))
      ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  const int rc = pid_ < 0 ? -1 : 0;
  ::close(out[1]);
  ::close(err[1]);
  out_ = out[0];
  err_ = err[0];
  REQUIRE(rc == 0);
}

child::~child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  ::close(out_);
  ::close(err_);
}

std::smatch child::wait_for_line(const std::regex& pattern) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    std::size_t nl;
    while ((nl = out_text_.find('\n', scanned_)) != std::string::npos) {
      line_ = out_text_.substr(scanned_, nl - scanned_);
      scanned_ = nl + 1;
      std::smatch m;
      if (std::regex_search(line_, m, pattern)) return m;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    REQUIRE(left.count() > 0);
    pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    if (::poll(p, 2, static_cast<int>(left.count())) <= 0) continue;
    if ((p[1].revents & POLLIN) != 0) {   // keep stderr flowing: a full pipe would block the child
      char buf[4096];
      const ssize_t n = ::read(err_, buf, sizeof buf);
      if (n > 0) err_text_.append(buf, static_cast<std::size_t>(n));
    }
    if ((p[0].revents & (POLLIN | POLLHUP)) == 0) continue;
    char buf[4096];
    const ssize_t n = ::read(out_, buf, sizeof buf);
    INFO("stderr of the child: " << err_text_);
    REQUIRE(n > 0);   // the child must not exit before printing the line
    out_text_.append(buf, static_cast<std::size_t>(n));
  }
}

std::uint16_t child::wait_listening() {
  const auto m =
      wait_for_line(std::regex(R"(^civicperf-server listening on http://127\.0\.0\.1:(\d+)$)"));
  return static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

int child::wait_exit() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    drain();
    ::usleep(10'000);   // polling the child's status, not a timing assertion
  }
  pid_ = -1;
  drain();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void child::signal(int sig) { ::kill(pid_, sig); }

void child::drain() {
  for (int fd : {out_, err_}) {
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 0) > 0) {
      char buf[4096];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      (fd == out_ ? out_text_ : err_text_).append(buf, static_cast<std::size_t>(n));
    }
  }
}

temp_dir::temp_dir() {
  static std::atomic<int> counter{0};
  path = fs::temp_directory_path() / ("civicperf-server-test-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(counter++));
  fs::remove_all(path);
  fs::create_directories(path);
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(path, ec))
    fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path, ec);
}


}  // namespace civicperf::server::test
